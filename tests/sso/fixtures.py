"""SSO test fixtures and helpers: the real demo OpenID provider over HTTP (a subprocess on
loopback), a recording relay in front of it, and a two-part "browser" (Django's test client for
the portal, requests for the provider) that follows redirects between them like a browser would.
Nothing of mozilla-django-oidc or the provider is mocked.

tests/conftest.py loads this module as a plugin (`pytest_plugins`), so every folder can ask for
`oidc_provider`, `sso_configured` and the rest by name; the helpers are imported, e.g.
in a browser test, `sign_in_with_sso(page, live_server.url, "agent")`.
`link_to_provider(user, "agent")` makes a local test user the account of the provider's
subject "agent", so journeys written for the `agent` fixture run through SSO unchanged.
"""

import select
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "test-artifacts"
PORTAL = "http://testserver"


class Provider:
    """A running demo provider (careportal.sso.demo_provider) on a free loopback port."""

    def __init__(self, name: str):
        LOGS.mkdir(exist_ok=True)
        self.log = open(LOGS / f"oidc-provider-{name}.log", "a")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "careportal.sso.demo_provider", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and not line:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                line = self.process.stdout.readline().strip()
            elif self.process.poll() is not None:
                break
        if not line.startswith("listening on http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the demo provider did not start: {line!r} (see {self.log.name})")
        self.url = line.removeprefix("listening on ")

    def set_user(self, sub: str, claims: dict) -> None:
        requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()


@pytest.fixture(scope="session")
def oidc_provider():
    provider = Provider("main")
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def other_provider():
    """A second, unrelated provider: its own signing key."""
    provider = Provider("other")
    yield provider
    provider.stop()


@pytest.fixture
def sso_configured(settings, oidc_provider):
    """The portal talks to the session's provider (discovery is fetched afresh)."""
    settings.OIDC_ISSUER = oidc_provider.url
    settings.OIDC_RP_CLIENT_ID = "care-portal"
    settings.OIDC_RP_CLIENT_SECRET = "care-portal-test-secret"
    for name in (
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT",
        "OIDC_OP_LOGOUT_ENDPOINT",
    ):
        setattr(settings, name, "")
    settings.OIDC_ROLES_CLAIM = "realm_access.roles"
    settings.OIDC_AGENT_ROLE = "care-agent"
    settings.OIDC_SUPERVISOR_ROLE = "care-supervisor"
    settings.BREAK_GLASS_LOGIN = True
    return settings


def keycloak_claims(username: str, roles: list[str], **extra) -> dict:
    return {
        "preferred_username": username,
        "given_name": username.capitalize(),
        "family_name": "Tester",
        "email": f"{username}@staff.example",
        "realm_access": {"roles": roles},
        **extra,
    }


@pytest.fixture
def op_user(oidc_provider):
    """Register a user at the provider under a fresh subject; returns the subject."""

    def make(username: str = "", roles: list[str] | None = None, claims: dict | None = None):
        sub = f"sub-{uuid.uuid4()}"
        if claims is None:
            claims = keycloak_claims(username or sub[:12], roles or [])
        oidc_provider.set_user(sub, claims)
        return sub

    return make


# --- a browser of two halves --------------------------------------------------------------


@dataclass
class Page:
    url: str
    status: int
    text: str
    response: object = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.url).query)


@dataclass
class SsoBrowser:
    client: object  # django.test.Client: the portal at http://testserver
    provider: Provider
    op: requests.Session = field(default_factory=requests.Session)
    history: list[tuple[str, int]] = field(default_factory=list)

    def _portal(self, url: str) -> bool:
        return url.startswith(PORTAL + "/") or url.startswith("/")

    def _request(self, method: str, url: str, data=None):
        if self._portal(url):
            path = url.removeprefix(PORTAL)
            response = getattr(self.client, method)(path, data=data or {})
            location = response.get("Location") if response.status_code in (301, 302, 303) else None
            text = response.content.decode("utf-8", "replace")
        else:
            assert url.startswith(self.provider.url) or url.startswith("http://127.0.0.1:"), url
            response = self.op.request(method, url, data=data, allow_redirects=False, timeout=10)
            location = response.headers.get("Location") if response.is_redirect else None
            text = response.text
        self.history.append((url, response.status_code))
        return response, location, text

    def go(self, url: str, method: str = "get", data=None, max_hops: int = 20) -> Page:
        """Request `url` and follow redirects across the portal and the provider."""
        if url.startswith("/"):
            url = PORTAL + url
        for _ in range(max_hops):
            response, location, text = self._request(method, url, data)
            if not location:
                return Page(url, response.status_code, text, response)
            url, method, data = urljoin(url, location), "get", None
        raise AssertionError(f"too many redirects: {self.history[-max_hops:]}")

    def at_provider_login(self, page: Page) -> bool:
        return page.url.startswith(self.provider.url + "/oauth2/authorize") and page.status == 200

    def choose(self, page: Page, sub: str) -> Page:
        """On the provider's authorization form: sign in as `sub`."""
        assert self.at_provider_login(page), (page.url, page.status, page.text[:300])
        return self.go(page.url, method="post", data={"sub": sub})

    def sign_in(self, sub: str, start: str = "/admin/") -> Page:
        page = self.go(start)
        return self.choose(page, sub)

    def expire_id_token(self) -> None:
        """Make the next GET re-check at the provider (as OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS)."""
        session = self.client.session
        session["oidc_id_token_expiration"] = 0
        session.save()

    def urls(self) -> list[str]:
        return [url for url, _status in self.history]


@pytest.fixture
def sso_browser(client, oidc_provider):
    return SsoBrowser(client, oidc_provider)


# --- a relay that records what the portal sends the provider --------------------------------


class Relay:
    """A loopback HTTP relay to the provider that records each request the portal sends.

    Point one endpoint setting at it (e.g. OIDC_OP_TOKEN_ENDPOINT) to see the token request
    from the client side. `host` sets the Host header the provider sees: the mock derives its
    issuer from it, which gives a token endpoint answering with another issuer.
    """

    def __init__(self, target: str, host: str | None = None):
        self.target, self.host = target, host
        self.force_bearer: str | None = None  # replace the Authorization header's token
        self.requests: list[dict] = []
        self.responses: list[dict] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                relay.requests.append(
                    {"method": self.command, "path": self.path, "body": body.decode()}
                )
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("content-type", "authorization", "accept")
                }
                if relay.host:
                    headers["Host"] = relay.host
                if relay.force_bearer:
                    headers["Authorization"] = f"Bearer {relay.force_bearer}"
                answer = requests.request(
                    self.command,
                    relay.target + self.path,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    timeout=10,
                )
                relay.responses.append({"status": answer.status_code, "body": answer.text})
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = _relay

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def relay(oidc_provider):
    relays = []

    def make(host: str | None = None) -> Relay:
        r = Relay(oidc_provider.url, host)
        relays.append(r)
        return r

    yield make
    for r in relays:
        r.close()


@pytest.fixture
def sso_log():
    """Every record of the careportal.sso logger during the test."""
    import logging

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("careportal.sso")
    handler = Keep(level=logging.DEBUG)
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(old)


# --- for browser journeys (Playwright) -------------------------------------------------------


def sign_in_with_sso(page, base_url: str, sub: str, start: str = "/admin/"):
    """Open the portal and sign in at the provider's page (OIDC_ISSUER) as `sub`."""
    from django.conf import settings

    page.goto(base_url + start)
    assert page.url.startswith(settings.OIDC_ISSUER + "/oauth2/authorize"), page.url
    page.locator(f'button[name="sub"][value="{sub}"]').click()
    page.wait_for_load_state()


def sign_out_with_sso(page):
    """The admin's Log out, and the confirmation the demo provider asks for."""
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="End session").click()
    page.wait_for_url("**/sso/signed-out/")


def link_to_provider(user, sub: str | None = None):
    """Make `user` the portal account of the provider's subject `sub` (default: its username).

    The provider's demo users agent and supervisor carry the matching roles.
    """
    from careportal.sso import discovery
    from careportal.sso.models import SsoIdentity

    SsoIdentity.objects.update_or_create(
        user=user, defaults={"subject": sub or user.get_username(), "issuer": discovery.issuer()}
    )
    return user
