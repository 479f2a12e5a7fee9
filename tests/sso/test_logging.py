"""Sign-ins, refusals and sign-outs are logged with user, IP and time, never tokens."""

import json
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from .fixtures import keycloak_claims

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_log():
    """Every log record of the portal's process, at every level."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            # urllib3 also serves this test's own browser half (whose URLs carry the codes).
            if not record.name.startswith("urllib3"):
                records.append(record)

    handler = Keep(level=logging.DEBUG)
    names = ["", "careportal", "careportal.sso", "entitlements", "django", "mozilla_django_oidc"]
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    yield records
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _text(record: logging.LogRecord) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return formatter.format(record) + " " + repr(record.__dict__)


def test_no_token_or_secret_in_any_log(settings, sso_browser, op_user, relay, every_log):
    token_relay = relay()
    settings.OIDC_OP_TOKEN_ENDPOINT = token_relay.url + "/oauth2/token"
    sub = op_user("logged", ["care-agent"])

    sso_browser.sign_in(sub)  # sign-in
    sso_browser.expire_id_token()
    sso_browser.go("/admin/")  # silent re-check
    sso_browser.provider.set_user(sub, keycloak_claims("logged", []))
    sso_browser.expire_id_token()
    sso_browser.go("/admin/")  # refused at the re-check
    sso_browser.client.post("/oidc/logout/")  # sign-out of the provider
    sso_browser.op.cookies.clear()
    settings.OIDC_OP_TOKEN_ENDPOINT = relay(host="sso.other.example").url + "/oauth2/token"
    sso_browser.sign_in(op_user("other", ["care-agent"]))  # refused: wrong issuer

    secrets = {settings.OIDC_RP_CLIENT_SECRET}
    for request in token_relay.requests:
        body = parse_qs(request["body"])
        secrets |= {body["code"][0], body["code_verifier"][0]}
    for response in token_relay.responses:
        tokens = json.loads(response["body"])
        secrets |= {tokens["access_token"], tokens["id_token"], tokens["refresh_token"]}
    for url in sso_browser.urls():
        secrets |= set(parse_qs(urlsplit(url).query).get("code", []))
    assert len(secrets) >= 9

    texts = [_text(record) for record in every_log]
    events = [t for t in texts if t.startswith("careportal.sso ")]
    assert any(" sso sign-in " in t for t in events)
    assert any(" sso refresh " in t for t in events)
    assert any(" sso refused " in t and "reason=no_role" in t for t in events)
    assert any(" sso refused " in t and "wrong issuer" in t for t in events)
    for secret in secrets:
        leaks = [t for t in texts if secret in t]
        assert not leaks, (
            f"a secret is in the logs: {leaks[0][leaks[0].find(secret) - 300 :][:400]}"
        )
    # Nothing that looks like a JWT either.
    jwt_like = re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.")
    assert not [t for t in texts if jwt_like.search(t)]


def test_the_sign_in_line_says_who_from_where_and_when(sso_browser, op_user, sso_log):
    sub = op_user("when", ["care-supervisor"])
    sso_browser.client.defaults["REMOTE_ADDR"] = "10.1.2.3"

    sso_browser.sign_in(sub)

    [record] = [r for r in sso_log if r.getMessage().startswith("sso sign-in")]
    line = record.getMessage()
    assert "user=when" in line and f"sub={sub}" in line and "ip=10.1.2.3" in line
    assert re.search(r"at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", line)
    assert 'groups="Care supervisor"' in line
    assert record.sso == {
        "user": "when",
        "sub": sub,
        "ip": "10.1.2.3",
        "at": record.sso["at"],
        "groups": "Care supervisor",
    }
