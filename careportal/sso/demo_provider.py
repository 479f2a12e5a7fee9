"""The demo OpenID provider: oidc-provider-mock on loopback, with the demo staff users.

    python manage.py oidc_provider            # http://127.0.0.1:9400, what DEBUG defaults to
    python -m careportal.sso.demo_provider --port 0   # any free port (the tests)

oidc-provider-mock is a real OpenID Connect server (Authlib): discovery, JWKS, RS256 ID tokens,
userinfo, end_session, and `PUT /users/<sub>` to set a user's claims. It accepts any client id
and secret and any redirect URI, and it does not verify PKCE.

It keeps no login session, so it would ask for the user on every authorization request and
answer every silent re-check (`prompt=none`) with `login_required`. `ProviderSession` below adds
the one Keycloak behaviour the portal relies on: after a sign-in the browser holds a provider
session cookie; while it lives, authorization requests (silent or not) are approved for that
user without asking, and ending the session at the end_session endpoint forgets it.

Only for the demo and the tests: anyone can sign in as anyone.
"""

import argparse
import json
import logging
import os
import secrets
import sys
import threading
from http.cookies import SimpleCookie
from io import BytesIO
from urllib.parse import parse_qsl, urlencode

DEFAULT_PORT = 9400

# Claims in the shape Keycloak gives them (realm roles under realm_access.roles).
DEMO_USERS: dict[str, dict] = {
    "agent": {
        "preferred_username": "agent",
        "name": "Alex Agent",
        "given_name": "Alex",
        "family_name": "Agent",
        "email": "agent@careportal.example",
        "email_verified": True,
        "realm_access": {"roles": ["care-agent"]},
    },
    "supervisor": {
        "preferred_username": "supervisor",
        "name": "Sam Supervisor",
        "given_name": "Sam",
        "family_name": "Supervisor",
        "email": "supervisor@careportal.example",
        "email_verified": True,
        "realm_access": {"roles": ["care-supervisor"]},
    },
    # Signs in at the provider but holds neither role: the portal refuses them.
    "nobody": {
        "preferred_username": "nobody",
        "name": "Nora Nobody",
        "given_name": "Nora",
        "family_name": "Nobody",
        "email": "nobody@careportal.example",
        "email_verified": True,
        "realm_access": {"roles": ["offline_access"]},
    },
}

SESSION_COOKIE = "demo_op_session"
_AUTHORIZE = "/oauth2/authorize"
_END_SESSION_CONFIRM = "/oauth2/end_session/confirm"

log = logging.getLogger("careportal.sso.demo_provider")


class ProviderSession:
    """WSGI middleware giving the mock a provider login session (see the module docstring)."""

    def __init__(self, app):
        self.app = app
        self._sessions: dict[str, str] = {}  # cookie value -> sub
        self._lock = threading.Lock()

    def _current_sub(self, environ) -> str | None:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        morsel = cookie.get(SESSION_COOKIE)
        if not morsel:
            return None
        with self._lock:
            return self._sessions.get(morsel.value)

    def _forget(self, environ) -> None:
        morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(SESSION_COOKIE)
        if morsel:
            with self._lock:
                self._sessions.pop(morsel.value, None)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")

        if path == _AUTHORIZE and method == "GET":
            query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            prompts = " ".join(v for k, v in query if k == "prompt").split()
            sub = self._current_sub(environ)
            if sub and "login" not in prompts and "select_account" not in prompts:
                # Signed in already: approve as if the user had picked themselves again.
                remaining = [(k, v) for k, v in query if k != "prompt"]
                body = urlencode({"sub": sub}).encode()
                environ = dict(environ)
                environ.update(
                    {
                        "REQUEST_METHOD": "POST",
                        "QUERY_STRING": urlencode(remaining),
                        "CONTENT_TYPE": "application/x-www-form-urlencoded",
                        "CONTENT_LENGTH": str(len(body)),
                        "wsgi.input": BytesIO(body),
                    }
                )
            return self.app(environ, start_response)

        if path == _AUTHORIZE and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ = dict(environ, **{"wsgi.input": BytesIO(body)})
            form = dict(parse_qsl(body.decode("utf-8", "replace")))
            sub = form.get("sub") if form.get("action") != "deny" else None

            def remember(status, headers, exc_info=None):
                location = dict((k.lower(), v) for k, v in headers).get("location", "")
                if sub and status.startswith("302") and "code=" in location:
                    token = secrets.token_urlsafe(24)
                    with self._lock:
                        self._sessions[token] = sub
                    headers = list(headers) + [
                        (
                            "Set-Cookie",
                            f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax",
                        )
                    ]
                return start_response(status, headers, exc_info)

            return self.app(environ, remember)

        if path == _END_SESSION_CONFIRM and method == "POST":
            self._forget(environ)

            def expire(status, headers, exc_info=None):
                headers = list(headers) + [
                    ("Set-Cookie", f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly")
                ]
                return start_response(status, headers, exc_info)

            return self.app(environ, expire)

        return self.app(environ, start_response)


def build_app(users: dict[str, dict] | None = None, token_max_age: int = 3600):
    from datetime import timedelta

    import oidc_provider_mock

    users = DEMO_USERS if users is None else users
    app = oidc_provider_mock.app(
        require_client_registration=False,
        require_nonce=True,
        access_token_max_age=timedelta(seconds=token_max_age),
        user_claims=[oidc_provider_mock.User(sub=sub, claims=c) for sub, c in users.items()],
    )
    app.wsgi_app = ProviderSession(app.wsgi_app)
    return app


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, token_max_age: int = 3600):
    """Serve until interrupted. Prints one line `listening on http://HOST:PORT` when ready."""
    import werkzeug.serving

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("The demo provider only listens on loopback.")
    # Authlib refuses plain HTTP unless told otherwise; loopback only.
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

    class QuietHandler(werkzeug.serving.WSGIRequestHandler):
        def log_request(self, code="-", size="-"):
            # The path only: query strings carry codes and id_token_hint.
            path = self.path.split("?", 1)[0]
            log.info("%s %s %s", self.command, path, code)

    server = werkzeug.serving.make_server(
        host,
        port,
        build_app(token_max_age=token_max_age),
        threaded=True,
        request_handler=QuietHandler,
    )
    print(f"listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--token-max-age", type=int, default=3600, help="seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(
        "demo users: " + json.dumps({sub: c["realm_access"] for sub, c in DEMO_USERS.items()}),
        file=sys.stderr,
    )
    serve(args.host, args.port, args.token_max_age)


if __name__ == "__main__":
    main()
