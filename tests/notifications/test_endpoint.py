"""POST /opf/notifications over real HTTP: rows N3 and N5-N9, and never a 500."""

import json
import logging
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from django.db import connection

from entitlements.models import ChangeAttempt, Entitlement, NotificationDelivery

from .conftest import OTHER_SECRET, SECRET, notification, signature, signed_headers

pytestmark = pytest.mark.django_db(transaction=True)


def status_change(status="SUSPENDED", **fields):
    return notification("STATUS_CHANGED", status=status, **fields)


def entitlement(opf_id="ENT-NFX-1"):
    return Entitlement.objects.get(opf_id=opf_id)


def nothing_changed():
    e = entitlement()
    return NotificationDelivery.objects.count() == 0 and (e.status, e.version) == ("ACTIVE", 1)


def test_a_signed_notification_is_applied_and_kept_as_received(world, deliver):
    body = status_change()
    headers = signed_headers(body, webhook_id="msg_applied")
    answer = deliver(body, headers)

    assert (answer.status_code, answer.json()) == (200, {"result": "applied"})
    e = entitlement()
    assert (e.status, e.version) == ("SUSPENDED", 2)
    delivery = NotificationDelivery.objects.get()
    assert delivery.webhook_id == "msg_applied"
    assert delivery.body == body.decode()
    assert delivery.headers["webhook-signature"] == headers["webhook-signature"]
    assert delivery.entitlement == e and delivery.detail == "Status ACTIVE -> SUSPENDED."
    assert delivery.remote_addr == "127.0.0.1"


# --- N3: the same delivery again, or many at once ------------------------------------------


def test_n3_a_repeated_delivery_answers_200_and_changes_nothing_more(world, deliver):
    body = status_change()
    first = deliver(body, signed_headers(body, webhook_id="msg_again"))
    # OPF's retry: same id and body, a fresh timestamp and signature.
    time.sleep(1)
    again = deliver(body, signed_headers(body, webhook_id="msg_again"))

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"result": "duplicate"}
    assert NotificationDelivery.objects.count() == 1
    assert entitlement().version == 2


def _post_all_at_once(endpoint, requests_to_send):
    """Send every (body, headers) from its own thread, all released at the same instant."""
    import requests

    barrier = threading.Barrier(len(requests_to_send))
    answers = [None] * len(requests_to_send)

    def send(index, body, headers):
        with requests.Session() as session:
            session.trust_env = False
            barrier.wait()
            try:
                answers[index] = session.post(endpoint, data=body, headers=headers, timeout=60)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                answers[index] = exc

    threads = [
        threading.Thread(target=send, args=(i, body, headers))
        for i, (body, headers) in enumerate(requests_to_send)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_n3_concurrent_copies_of_one_delivery_apply_exactly_once(world, endpoint, caplog):
    body = status_change()
    headers = signed_headers(body, webhook_id="msg_concurrent")
    with caplog.at_level(logging.WARNING):
        answers = _post_all_at_once(endpoint, [(body, headers)] * 16)

    assert [getattr(a, "status_code", a) for a in answers] == [200] * 16
    results = sorted(a.json()["result"] for a in answers)
    assert results == ["applied"] + ["duplicate"] * 15
    assert NotificationDelivery.objects.count() == 1
    assert entitlement().version == 2
    assert "database is locked" not in caplog.text


def test_n3_many_deliveries_and_their_copies_at_once(world, endpoint, caplog):
    """Confirmations, provider-side and status changes for several entitlements, each sent 4x."""

    distinct = [
        status_change("SUSPENDED", entitlementId="ENT-NFX-1"),
        notification(
            "PRODUCT_CHANGED_AT_PROVIDER",
            entitlement_id="ENT-NFX-2",
            productId="Netflix_EU_B_BUNDLE_BASIC",
        ),
        status_change("SUSPENDED", entitlementId="ENT-DSN-1"),
        notification("STATUS_CHANGED", entitlement_id="ENT-UNKNOWN", status="ACTIVE"),
    ]
    sends = []
    for number, body in enumerate(distinct):
        headers = signed_headers(body, webhook_id=f"msg_many_{number}")
        sends += [(body, headers)] * 4
    with caplog.at_level(logging.WARNING):
        answers = _post_all_at_once(endpoint, sends)

    assert [getattr(a, "status_code", a) for a in answers] == [200] * len(sends)
    results = [a.json()["result"] for a in answers]
    assert results.count("duplicate") == len(sends) - len(distinct)
    assert NotificationDelivery.objects.count() == len(distinct)
    versions = {e.opf_id: e.version for e in Entitlement.objects.all()}
    assert versions["ENT-NFX-1"] == versions["ENT-NFX-2"] == versions["ENT-DSN-1"] == 2
    assert ChangeAttempt.objects.filter(origin="provider").count() == 1
    assert "database is locked" not in caplog.text


# --- N5: unknown entitlement ------------------------------------------------------------------


def test_n5_an_unknown_entitlement_is_kept_for_review_and_logged(world, deliver, caplog):
    body = notification("CHANGE_CONFIRMED", entitlement_id="ENT-NOPE", productId="P")
    with caplog.at_level(logging.WARNING, logger="entitlements"):
        answer = deliver(body)

    assert (answer.status_code, answer.json()) == (200, {"result": "unknown_entitlement"})
    delivery = NotificationDelivery.objects.get()
    assert delivery.needs_review and delivery.entitlement is None
    assert delivery.entitlement_opf_id == "ENT-NOPE" and delivery.body == body.decode()
    assert "unknown_entitlement" in caplog.text and "'ENT-NOPE'" in caplog.text


# --- N6: not authenticated --------------------------------------------------------------------

BODY = notification("STATUS_CHANGED", status="SUSPENDED")


def _signed(**changes):
    headers = signed_headers(BODY, webhook_id="msg_n6")
    headers.update(changes)
    return {k: v for k, v in headers.items() if v is not None}


# Built when each case runs: a timestamp taken at collection would age with a long suite.
UNAUTHENTICATED = {
    "no signature headers": lambda: (BODY, {"Content-Type": "application/json"}),
    "no webhook-id": lambda: (BODY, _signed(**{"webhook-id": None})),
    "no webhook-timestamp": lambda: (BODY, _signed(**{"webhook-timestamp": None})),
    "no webhook-signature": lambda: (BODY, _signed(**{"webhook-signature": None})),
    "signed with an unknown secret": lambda: (
        BODY,
        signed_headers(BODY, webhook_id="msg_n6", secret=OTHER_SECRET),
    ),
    "tampered body": lambda: (BODY.replace(b"SUSPENDED", b"CANCELLED"), _signed()),
    "signature of another id": lambda: (BODY, _signed(**{"webhook-id": "msg_other"})),
    "timestamp 10 minutes old": lambda: (
        BODY,
        signed_headers(BODY, webhook_id="msg_n6", timestamp=int(time.time()) - 600),
    ),
    "timestamp 10 minutes ahead": lambda: (
        BODY,
        signed_headers(BODY, webhook_id="msg_n6", timestamp=int(time.time()) + 600),
    ),
    "timestamp not a number": lambda: (BODY, _signed(**{"webhook-timestamp": "soon"})),
    "signature without version": lambda: (BODY, _signed(**{"webhook-signature": "AAAA"})),
    "signature not base64": lambda: (BODY, _signed(**{"webhook-signature": "v1,@@@@"})),
    "bearer-style header": lambda: (BODY, _signed(**{"webhook-signature": "Bearer abc"})),
    "latin-1 in a header": lambda: (BODY, _signed(**{"webhook-id": "msg_\xe9".encode("latin-1")})),
    "non-UTF-8 body, bad signature": lambda: (b"\xff\xfe\x00garbage", _signed()),
}


@pytest.mark.parametrize("case", UNAUTHENTICATED)
def test_n6_unauthenticated_deliveries_get_401_and_change_nothing(world, deliver, case, caplog):
    body, headers = UNAUTHENTICATED[case]()
    with caplog.at_level(logging.WARNING):
        answer = deliver(body, headers)

    assert answer.status_code == 401
    assert answer.json() == {"error": "not authenticated"}
    assert nothing_changed()
    # The refusal is logged, without any secret or signature.
    assert "refused (401)" in caplog.text
    assert SECRET.removeprefix("whsec_") not in caplog.text
    given = headers.get("webhook-signature", "")
    assert len(given) < 20 or given not in caplog.text


# --- N7: signed but malformed -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[]",
        b"\xff\xfe\x00garbage",
        json.dumps({"eventType": "STATUS_CHANGED", "entitlementId": "ENT-NFX-1"}).encode(),
        notification("STATUS_CHANGED", status="NOT_A_STATUS"),
        notification("CHANGE_CONFIRMED"),  # no productId
        notification("SOMETHING_ELSE"),
        notification("STATUS_CHANGED", status="SUSPENDED", occurredAt="2025-01-01 noon"),
    ],
    ids=[
        "not json",
        "empty",
        "array",
        "non-UTF-8 but signed",
        "no occurredAt or status",
        "unknown status",
        "no productId",
        "unknown eventType",
        "bad occurredAt",
    ],
)
def test_n7_signed_but_malformed_gets_400_and_changes_nothing(world, deliver, body):
    answer = deliver(body)

    assert answer.status_code == 400
    assert answer.json()["error"] == "malformed notification"
    assert nothing_changed()


@pytest.mark.parametrize(
    "fields",
    [
        {"entitlementId": "ENT-\ud800"},
        {"productId": "Netflix_EU_B_\ud800"},
        {"correlationId": "\udfff-1"},
        {"entitlementId": "ENT\x00-1"},
        {"productId": "Netflix\u200b_EU_B_BUNDLE_BASIC"},
    ],
    ids=["lone surrogate in entitlementId", "in productId", "in correlationId", "NUL", "invisible"],
)
def test_n7_an_identifier_the_database_cannot_store_gets_400(world, deliver, fields):
    # json.dumps writes the surrogate as the escape \ud800: valid JSON, but no valid text.
    body = notification("PRODUCT_CHANGED_AT_PROVIDER", productId="Netflix_EU_B_BUNDLE_BASIC")
    body = json.dumps({**json.loads(body), **fields}).encode()
    answer = deliver(body)

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "malformed notification"
    assert set(answer.json()["fields"]) == set(fields)
    assert nothing_changed()


# --- N8: oversized body -----------------------------------------------------------------------


def test_n8_an_oversized_body_gets_413_and_nothing_is_stored(world, deliver, settings):
    settings.OPF_NOTIFICATION_MAX_BYTES = 1024
    body = notification("STATUS_CHANGED", status="SUSPENDED", padding="x" * 2000)
    answer = deliver(body)

    assert answer.status_code == 413
    assert nothing_changed()


def test_n8_a_body_longer_than_its_content_length_is_never_read_past_the_limit(
    world, endpoint, settings
):
    """A lying Content-Length is not trusted: what is read is capped and must verify."""
    settings.OPF_NOTIFICATION_MAX_BYTES = 1024
    body = notification("STATUS_CHANGED", status="SUSPENDED")
    headers = signed_headers(body)
    status = _raw_post(endpoint, body + b" " * 5000, headers, content_length=len(body) + 10)
    assert status == 401
    assert nothing_changed()


def test_n8_a_huge_declared_length_is_refused_before_reading(world, endpoint):
    status = _raw_post(endpoint, b"{}", {"webhook-id": "x"}, content_length=10**12)
    assert status == 413
    assert nothing_changed()


def _raw_post(endpoint, body: bytes, headers: dict, *, content_length: int) -> int:
    """A hand-written request, for what HTTP libraries refuse to send."""
    parts = urlsplit(endpoint)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
    lines.append(f"Content-Length: {content_length}")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1])


# --- N9: other methods ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_n9_other_methods_get_405(world, endpoint, http, method):
    body = status_change()
    answer = http.request(method, endpoint, data=body, headers=signed_headers(body), timeout=10)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert nothing_changed()


# --- never a 500 --------------------------------------------------------------------------------


def test_database_trouble_answers_503_so_opf_retries(world, deliver, monkeypatch, caplog):
    from django.db import OperationalError

    from entitlements.models import NotificationDelivery as Model

    def database_down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(Model.objects, "create", database_down)
    body = status_change()
    with caplog.at_level(logging.ERROR):
        answer = deliver(body)

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert answer.json()["errorId"] in caplog.text
    assert "Traceback" not in answer.text
    assert nothing_changed()  # the effect was rolled back with the failed insert
    monkeypatch.undo()
    assert deliver(body).status_code == 200  # OPF's retry then applies it


def test_the_endpoint_is_the_only_csrf_exempt_view():
    from django.urls import get_resolver

    exempt = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif getattr(pattern.callback, "csrf_exempt", False):
                exempt.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns)
    assert exempt == ["opf/notifications"]


def test_the_secret_never_reaches_the_database(world, deliver):
    deliver(status_change())
    stored = json.dumps(list(NotificationDelivery.objects.values("headers", "body", "detail")))
    assert SECRET not in stored and SECRET.removeprefix("whsec_") not in stored
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM entitlements_notificationdelivery")
        assert cursor.fetchone()[0] == 1


def test_signature_helper_matches_the_standard_vector():
    # The tests' own signer is right too, or the endpoint tests would prove little.
    assert (
        signature(
            b'{"test": 2432232314}',
            webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp=1614265330,
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
