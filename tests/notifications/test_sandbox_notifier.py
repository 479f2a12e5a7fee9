"""The sandbox's side of notifications, against a bare receiver (no portal, no database)."""

import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from entitlements.notifications.signatures import decode_secrets, verify
from entitlements.opf_sandbox.server import Sandbox
from tests.fixtures.sandbox import CATALOGUE, ENTITLEMENTS

from .conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
PASSWORD_GRANT = {
    "grant_type": "password",
    "client_id": "opf-operator",
    "username": "careportal",
    "password": "careportal-sandbox-password",
}


class Receiver:
    """A stand-in portal endpoint: records each request, answers the next queued status."""

    def __init__(self):
        self.received = []
        self.statuses = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = json.dumps({"result": "applied" if status == 200 else "no"}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/opf/notifications"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def sandbox(receiver):
    with Sandbox(
        port=0,
        products=CATALOGUE,
        entitlements=ENTITLEMENTS,
        confirm_later=["DisneyPlus_EU"],
        notify_url=receiver.url,
        notify_secret=SECRET,
        notify_delay=0.05,
        notify_retry_delay=0.01,
    ) as sb:
        yield sb


def change(sandbox, entitlement_id, product_id, correlation_id="corr-1"):
    token = requests.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5).json()
    return requests.post(
        sandbox.change_product_url(entitlement_id),
        json={"productId": product_id},
        headers={
            "Authorization": f"Bearer {token['access_token']}",
            "x-correlation-id": correlation_id,
        },
        timeout=5,
    )


def verified(headers, body):
    return verify(
        keys=decode_secrets([SECRET]),
        webhook_id=headers["webhook-id"],
        timestamp=headers["webhook-timestamp"],
        signature=headers["webhook-signature"],
        body=body,
        tolerance=300,
        now=time.time(),
    )


def test_a_202_is_followed_by_a_signed_confirmation_echoing_the_correlation_id(sandbox, receiver):
    assert change(sandbox, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM").status_code == 202
    [sent] = sandbox.wait_for_deliveries()

    [(path, headers, body)] = receiver.received
    assert path == "/opf/notifications" and verified(headers, body)
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["eventType"] == "CHANGE_CONFIRMED"
    assert payload["entitlementId"] == "ENT-DSN-1"
    assert payload["productId"] == "DisneyPlus_EU_PREMIUM"
    assert payload["correlationId"] == "corr-1"
    assert payload["status"] == "ACTIVE" and payload["occurredAt"].endswith("Z")
    assert sent["webhook_id"] == headers["webhook-id"] and sent["state"] == "delivered"
    assert sandbox.entitlement("ENT-DSN-1")["productId"] == "DisneyPlus_EU_PREMIUM"


def test_a_200_sends_nothing(sandbox, receiver):
    assert change(sandbox, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM").status_code == 200
    time.sleep(0.2)
    assert sandbox.deliveries() == [] and receiver.received == []


def test_decline_per_provider_leaves_the_product(sandbox, receiver):
    sandbox.configure(notify_decision="DisneyPlus_EU=decline,confirm")
    change(sandbox, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM")
    sandbox.wait_for_deliveries()
    assert json.loads(receiver.received[0][2])["eventType"] == "CHANGE_DECLINED"
    e = sandbox.entitlement("ENT-DSN-1")
    assert (e["productId"], e["pendingProductId"]) == ("DisneyPlus_EU_STANDARD", None)


def test_a_refused_delivery_is_retried_with_the_same_id_then_given_up(sandbox, receiver):
    receiver.statuses = [503, 500, 401]
    change(sandbox, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM")
    [sent] = sandbox.wait_for_deliveries()

    assert sent["state"] == "failed"
    assert [a["status"] for a in sent["attempts"]] == [503, 500, 401]
    ids = {headers["webhook-id"] for _, headers, _ in receiver.received}
    assert ids == {sent["webhook_id"]}
    assert all(verified(headers, body) for _, headers, body in receiver.received)


def test_a_retry_that_succeeds_stops_retrying(sandbox, receiver):
    receiver.statuses = [503]
    change(sandbox, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM")
    [sent] = sandbox.wait_for_deliveries()
    assert [a["status"] for a in sent["attempts"]] == [503, 200]
    assert sent["state"] == "delivered"


def test_held_deliveries_wait_for_release_and_reset_drops_them(sandbox, receiver):
    sandbox.configure(notify_delay=None)
    change(sandbox, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM")
    time.sleep(0.1)
    assert [d["state"] for d in sandbox.deliveries()] == ["held"]
    assert sandbox.entitlement("ENT-DSN-1")["pendingProductId"] == "DisneyPlus_EU_PREMIUM"
    sandbox.reset()
    time.sleep(0.1)
    assert receiver.received == [] and sandbox.deliveries() == []


def test_provider_and_status_changes_over_the_control_api(sandbox, receiver):
    answer = requests.post(
        f"{sandbox.url}/_sandbox/provider-change",
        json={"entitlementId": "ENT-NFX-1", "productId": "Netflix_EU_B_BUNDLE_BASIC"},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["status"] == 200
    answer = requests.post(
        f"{sandbox.url}/_sandbox/status-change",
        json={"entitlementId": "ENT-NFX-1", "status": "SUSPENDED"},
        timeout=5,
    )
    assert answer.status_code == 200
    events = [json.loads(body)["eventType"] for _, _, body in receiver.received]
    assert events == ["PRODUCT_CHANGED_AT_PROVIDER", "STATUS_CHANGED"]
    assert sandbox.entitlement("ENT-NFX-1")["productId"] == "Netflix_EU_B_BUNDLE_BASIC"
    listed = requests.get(f"{sandbox.url}/_sandbox/deliveries", timeout=5).json()
    assert [d["payload"]["eventType"] for d in listed] == events
    assert sandbox.requests("change_product") == []
    page = requests.get(f"{sandbox.url}/_sandbox/", timeout=5).text
    assert "PRODUCT_CHANGED_AT_PROVIDER" in page


@pytest.mark.parametrize(
    "payload",
    [
        {"entitlementId": "ENT-NOPE", "productId": "Netflix_EU_B_BUNDLE_BASIC"},
        {"entitlementId": "ENT-NFX-1", "productId": "DisneyPlus_EU_BASIC"},
        {"entitlementId": "ENT-NFX-1"},
    ],
)
def test_a_provider_change_the_provider_cannot_make_is_refused(sandbox, receiver, payload):
    answer = requests.post(f"{sandbox.url}/_sandbox/provider-change", json=payload, timeout=5)
    assert answer.status_code == 400 and receiver.received == []


def test_release_over_the_control_api(sandbox, receiver):
    sandbox.configure(notify_delay=None)
    change(sandbox, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM")
    answer = requests.post(f"{sandbox.url}/_sandbox/notifications/release", timeout=5)
    assert answer.json() == {"released": 1}
    sandbox.wait_for_deliveries()
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    "setting",
    [
        {"notify_url": "ftp://x"},
        {"notify_secret": "whsec_!!"},
        {"notify_delay": -1},
        {"notify_decision": "maybe"},
        {"notify_decision": {"DisneyPlus_EU": "later"}},
        {"notify_attempts": 0},
    ],
)
def test_bad_notify_settings_are_refused(sandbox, setting):
    with pytest.raises(ValueError):
        sandbox.configure(**setting)


def test_command_line_flags(receiver):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "entitlements.opf_sandbox",
            "--port",
            "0",
            "--catalogue",
            str(ROOT / "tests/sandbox/data/catalogue.csv"),
            "--entitlements",
            str(ROOT / "tests/sandbox/data/entitlements.csv"),
            "--confirm-later",
            "DisneyPlus_EU",
            "--notify-url",
            receiver.url,
            "--notify-secret",
            SECRET,
            "--notify-delay",
            "0.1",
            "--notify-decision",
            "decline",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        url = re.fullmatch(r"OPF sandbox listening on (http://127\.0\.0\.1:\d+)\n", first)[1]
        settings = requests.get(f"{url}/_sandbox/settings", timeout=5).json()
        assert settings["notify_url"] == receiver.url
        assert (settings["notify_delay"], settings["notify_decision"]) == (0.1, "decline")
        answer = requests.post(
            f"{url}/_sandbox/provider-change",
            json={"entitlementId": "ent-disney-1", "productId": "DisneyPlus_EU_PREMIUM"},
            timeout=5,
        )
        assert answer.json()["status"] == 200
        [(_, headers, body)] = receiver.received
        assert verified(headers, body)
    finally:
        process.terminate()
        process.wait(timeout=10)
