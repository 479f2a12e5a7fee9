"""Count-limited faults: what the portal sees, what the sandbox records, what OPF did."""

from __future__ import annotations

import base64
import time

import pytest
import requests

from entitlements.opf_sandbox.faults import FaultError

from .helpers import BASIC, PASSWORD_GRANT, PREMIUM, STANDARD, change, refresh


def test_latency_fault_delays_only_the_next_request(sandbox, session, token):
    sandbox.inject("change_product", "latency", ms=300)
    started = time.perf_counter()
    assert change(session, sandbox, token).status_code == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    change(session, sandbox, token)
    assert time.perf_counter() - started < 0.2
    assert [r.fault for r in sandbox.requests("change_product")] == ["latency", None]


def test_standing_latency_applies_to_every_request(sandbox, session, token):
    sandbox.latency_ms = 100
    for _ in range(2):
        started = time.perf_counter()
        change(session, sandbox, token)
        assert time.perf_counter() - started >= 0.1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_status_fault_counts_as_received_and_changes_nothing(sandbox, session, token, status):
    sandbox.inject("change_product", "status", count=2, status=status)
    assert change(session, sandbox, token).status_code == status
    assert change(session, sandbox, token).status_code == status
    assert sandbox.entitlement("ent-netflix-1")["productId"] == BASIC
    assert change(session, sandbox, token).status_code == 200
    records = sandbox.requests("change_product")
    assert [(r.status, r.fault) for r in records] == [
        (status, "status"),
        (status, "status"),
        (200, None),
    ]


def test_status_fault_with_redirect_and_empty_answers(sandbox, session, token):
    sandbox.inject("change_product", "status", status=302, headers={"Location": "/login"})
    sandbox.inject("change_product", "status", status=204)
    redirect = change(session, sandbox, token, allow_redirects=False)
    assert (redirect.status_code, redirect.headers["Location"]) == (302, "/login")
    empty = change(session, sandbox, token)
    assert (empty.status_code, empty.content) == (204, b"")
    assert "Content-Length" not in empty.headers
    # The connection survived both: keep-alive framing stayed right.
    assert change(session, sandbox, token).status_code == 200
    assert len({r.connection for r in sandbox.requests("change_product")}) == 1


def test_status_fault_bodies(sandbox, session, token):
    sandbox.inject(
        "change_product",
        "status",
        status=502,
        body="<html>Bad gateway</html>",
        headers={"Content-Type": "text/html"},
    )
    sandbox.inject("change_product", "status", status=400, body={"code": "X", "message": "m"})
    html = change(session, sandbox, token)
    assert (html.text, html.headers["Content-Type"]) == ("<html>Bad gateway</html>", "text/html")
    assert change(session, sandbox, token).json() == {"code": "X", "message": "m"}


def test_status_fault_body_base64_sends_exact_bytes(sandbox, session, token):
    raw = b'{"message": "x\x00"}\xff\xfe'
    sandbox.inject(
        "change_product", "status", status=200, body_base64=base64.b64encode(raw).decode()
    )
    assert change(session, sandbox, token).content == raw
    for bad in ({"body_base64": "not base64!"}, {"body_base64": "eA==", "body": "x"}):
        with pytest.raises(FaultError):
            sandbox.inject("change_product", "status", status=200, **bad)


def test_status_fault_with_apply_does_the_change_but_hides_it(sandbox, session, token):
    sandbox.inject("change_product", "status", status=504, apply=True)
    assert change(session, sandbox, token, product_id=PREMIUM).status_code == 504
    assert sandbox.entitlement("ent-netflix-1")["productId"] == PREMIUM


def test_hang_fault_gives_a_read_timeout_after_the_request_arrived(sandbox, session, token):
    sandbox.inject("change_product", "hang", seconds=5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        change(session, sandbox, token, timeout=(5, 0.3))
    [record] = sandbox.requests("change_product")
    assert record.fault == "hang" and record.status is None
    assert record.json() == {"productId": STANDARD}
    assert sandbox.entitlement("ent-netflix-1")["productId"] == BASIC


def test_short_hang_ends_with_a_closed_connection(sandbox, session, token):
    sandbox.inject("change_product", "hang", seconds=0.1)
    with pytest.raises(requests.exceptions.ConnectionError):
        change(session, sandbox, token)


def test_reset_fault_sends_rst(sandbox, token):
    sandbox.inject("change_product", "reset")
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        change(requests, sandbox, token)
    assert "reset" in str(caught.value).lower()
    [record] = sandbox.requests("change_product")
    assert (record.fault, record.status) == ("reset", None)
    assert sandbox.entitlement("ent-netflix-1")["productId"] == BASIC


def test_reset_fault_with_apply(sandbox, token):
    sandbox.inject("change_product", "reset", apply=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        change(requests, sandbox, token, product_id=PREMIUM)
    assert sandbox.entitlement("ent-netflix-1")["productId"] == PREMIUM


def test_truncate_fault_announces_more_body_than_it_sends(sandbox, session, token):
    sandbox.inject("change_product", "truncate")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        change(session, sandbox, token)
    assert sandbox.requests("change_product")[-1].status == 200
    assert sandbox.entitlement("ent-netflix-1")["productId"] == BASIC
    # Afterwards the session reconnects and works.
    assert change(session, sandbox, token).status_code == 200


def test_truncate_with_apply_cuts_the_real_answer(sandbox, token):
    sandbox.inject("change_product", "truncate", apply=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        change(requests, sandbox, token, product_id=PREMIUM)
    assert sandbox.entitlement("ent-netflix-1")["productId"] == PREMIUM


@pytest.mark.parametrize(
    ("status", "error"), [(503, "temporarily_unavailable"), (401, "unauthorized_client")]
)
def test_refuse_token_fault(sandbox, session, status, error):
    sandbox.inject("token", "refuse_token", **({} if status == 503 else {"status": status}))
    refused = session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5)
    assert (refused.status_code, refused.json()["error"]) == (status, error)
    assert session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5).status_code == 200


def test_expire_tokens_then_refresh_succeeds(sandbox, session):
    tokens = session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5).json()
    assert change(session, sandbox, tokens["access_token"]).status_code == 200
    sandbox.inject("change_product", "expire_tokens")
    assert sandbox.faults() == []  # acts at once, nothing queued
    assert change(session, sandbox, tokens["access_token"], product_id=PREMIUM).status_code == 403
    refreshed = refresh(session, sandbox, tokens["refresh_token"])
    assert change(session, sandbox, refreshed["access_token"], product_id=PREMIUM).ok


def test_reject_auth_refuses_even_a_fresh_token(sandbox, session, token):
    sandbox.inject("change_product", "reject_auth", count=2)
    assert change(session, sandbox, token).status_code == 403
    fresh = session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5).json()
    assert change(session, sandbox, fresh["access_token"]).status_code == 403
    assert change(session, sandbox, fresh["access_token"]).status_code == 200
    sandbox.inject("change_product", "reject_auth", status=401)
    assert change(session, sandbox, token).status_code == 401


def test_faults_only_hit_their_kind_in_order(sandbox, session, token):
    sandbox.inject("token", "status", status=500)
    sandbox.inject("change_product", "status", status=502)
    sandbox.inject("change_product", "status", status=503)
    assert [f["status"] for f in sandbox.faults()] == [500, 502, 503]
    assert change(session, sandbox, token).status_code == 502
    assert change(session, sandbox, token).status_code == 503
    assert session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5).status_code == 500
    assert sandbox.faults() == []


def test_clear_faults(sandbox, session, token):
    sandbox.inject("change_product", "status", count=5, status=500)
    assert sandbox.faults() == [
        {
            "kind": "change_product",
            "fault": "status",
            "count": 5,
            "status": 500,
            "body": None,
            "body_base64": None,
            "headers": None,
            "apply": False,
        }
    ]
    sandbox.clear_faults()
    assert change(session, sandbox, token).status_code == 200


@pytest.mark.parametrize(
    ("kind", "fault", "params"),
    [
        ("change_product", "explode", {}),
        ("keycloak", "status", {"status": 500}),
        ("change_product", "refuse_token", {}),
        ("token", "reject_auth", {}),
        ("change_product", "status", {}),
        ("change_product", "status", {"status": 99}),
        ("change_product", "status", {"status": 500, "colour": "red"}),
        ("change_product", "status", {"status": 500, "headers": {"X": "a\r\nInjected: 1"}}),
        ("change_product", "latency", {"ms": -1}),
        ("change_product", "hang", {"count": 0}),
        ("change_product", "truncate", {"status": 204}),
    ],
)
def test_inject_refuses_bad_faults(sandbox, kind, fault, params):
    with pytest.raises(FaultError):
        sandbox.inject(kind, fault, **params)
    assert sandbox.faults() == []
