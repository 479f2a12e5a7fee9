"""Fixtures for OPF's notifications: signed deliveries over real HTTP to a live portal.

Deliveries are signed here with hmac/base64 directly (not with the portal's code), so the tests
hold the portal to the Standard Webhooks contract rather than to itself.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
import requests

from tests.sso.fixtures import link_to_provider, sign_in_with_sso

# Two secrets configured at once, as during a rotation; OTHER_SECRET is not configured.
SECRET = "whsec_" + base64.b64encode(b"notification-test-key-current-01").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"notification-test-key-previous-1").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"notification-test-key-unknown-1").decode()


def signature(body: bytes, *, webhook_id: str, timestamp: int | str, secret: str = SECRET):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(body: bytes, *, webhook_id=None, timestamp=None, secret=SECRET) -> dict:
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(
            body, webhook_id=webhook_id, timestamp=timestamp, secret=secret
        ),
    }


def iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


def notification(event_type: str, entitlement_id: str = "ENT-NFX-1", **fields) -> bytes:
    """A notification body; fields use the contract's names (productId, status, ...)."""
    body = {"eventType": event_type, "entitlementId": entitlement_id, "occurredAt": iso()}
    body.update(fields)
    return json.dumps(body).encode()


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


@pytest.fixture
def notification_secrets(settings):
    settings.OPF_NOTIFICATION_SECRETS = [SECRET, OLD_SECRET]
    settings.OPF_NOTIFICATION_TOLERANCE = 300
    settings.OPF_NOTIFICATION_MAX_BYTES = 64 * 1024


@pytest.fixture
def endpoint(live_server, notification_secrets) -> str:
    return live_server.url + "/opf/notifications"


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy from the environment
    yield session
    session.close()


@pytest.fixture
def deliver(endpoint, http):
    """POST a body, signed unless headers are given: deliver(body, headers=None, **signing)."""

    def post(body: bytes, headers: dict | None = None, **signing) -> requests.Response:
        if headers is None:
            headers = signed_headers(body, **signing)
        return http.post(endpoint, data=body, headers=headers, timeout=30)

    return post


@pytest.fixture
def notifying_sandbox(sandbox, endpoint):
    """The OPF sandbox, delivering its notifications to the live portal, held until released."""
    sandbox.configure(
        notify_url=endpoint,
        notify_secret=SECRET,
        notify_delay=None,
        notify_attempts=3,
        notify_retry_delay=0.05,
    )
    return sandbox


@pytest.fixture(autouse=True)
def _browser_tests_sign_in_through_sso(request):
    if "page" in request.fixturenames:
        request.getfixturevalue("sso_configured")


def log_in(page, live_server, user) -> None:
    """The login step of the browser test, in one place: through SSO, as in production.

    `user` becomes the portal account of the demo provider's subject of the same name.
    """
    link_to_provider(user)
    sign_in_with_sso(page, live_server.url, user.get_username())
    page.wait_for_url(f"{live_server.url}/admin/")
