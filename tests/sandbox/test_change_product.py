"""changeProduct: 200/202, refusals, the token rules, the entitlement id as one path segment."""

from __future__ import annotations

import json
import time

import pytest

from entitlements.opf_sandbox.server import Sandbox

from .helpers import (
    BASIC,
    DISNEY_PREMIUM,
    ENTITLEMENTS,
    ODD_IDS,
    PASSWORD_GRANT,
    PREMIUM,
    PRODUCTS,
    STANDARD,
    change,
    raw,
    raw_socket,
    refresh,
)


def test_change_product_200_moves_the_entitlement(sandbox, session, token):
    answer = change(session, sandbox, token, product_id=PREMIUM)
    assert answer.status_code == 200
    assert answer.json() == {
        "entitlementId": "ent-netflix-1",
        "productId": PREMIUM,
        "status": "ACTIVE",
    }
    assert sandbox.entitlement("ent-netflix-1")["productId"] == PREMIUM
    assert sandbox.entitlement("ent-netflix-1")["pendingProductId"] is None


def test_change_product_202_for_a_confirm_later_provider(sandbox, session, token):
    sandbox.configure(confirm_later=["DisneyPlus_EU"])
    answer = change(session, sandbox, token, "ent-disney-1", DISNEY_PREMIUM)
    assert answer.status_code == 202
    assert answer.json()["productId"] == "DisneyPlus_EU_STANDARD"  # not changed yet
    assert answer.json()["pendingProductId"] == DISNEY_PREMIUM
    state = sandbox.entitlement("ent-disney-1")
    assert (state["productId"], state["pendingProductId"]) == (
        "DisneyPlus_EU_STANDARD",
        DISNEY_PREMIUM,
    )
    # Other providers still complete at once.
    assert change(session, sandbox, token).status_code == 200


@pytest.mark.parametrize(
    ("entitlement_id", "body", "status", "code"),
    [
        ("ent-netflix-1", b"not json", 400, "INVALID_BODY"),
        ("ent-netflix-1", b"[1, 2]", 400, "INVALID_BODY"),
        ("ent-netflix-1", b"", 400, "INVALID_BODY"),
        ("ent-netflix-1", b"{}", 400, "INVALID_PRODUCT_ID"),
        ("ent-netflix-1", b'{"productId": 7}', 400, "INVALID_PRODUCT_ID"),
        ("ent-netflix-1", b'{"productId": "Nope"}', 400, "PRODUCT_NOT_FOUND"),
        (
            "ent-netflix-1",
            b'{"productId": "Netflix_EU_B_BUNDLE_LEGACY"}',
            400,
            "PRODUCT_NOT_ACTIVE",
        ),
        ("ent-netflix-1", b'{"productId": "DisneyPlus_EU_PREMIUM"}', 400, "PROVIDER_MISMATCH"),
        (
            "ent-cancelled",
            b'{"productId": "Netflix_EU_B_BUNDLE_PREMIUM"}',
            400,
            "ENTITLEMENT_NOT_CHANGEABLE",
        ),
        (
            "no-such-entitlement",
            b'{"productId": "Netflix_EU_B_BUNDLE_PREMIUM"}',
            404,
            "ENTITLEMENT_NOT_FOUND",
        ),
    ],
)
def test_change_product_refusals(sandbox, session, token, entitlement_id, body, status, code):
    before = sandbox.entitlement(entitlement_id)
    answer = session.post(
        sandbox.change_product_url(entitlement_id),
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=5,
    )
    assert answer.status_code == status
    assert answer.json()["code"] == code and answer.json()["message"]
    assert sandbox.entitlement(entitlement_id) == before


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Bearer ", "Basic b3BmOng="])
def test_change_product_without_a_valid_token_is_403(sandbox, session, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    answer = change(session, sandbox, None, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["code"] == "FORBIDDEN"
    assert sandbox.entitlement("ent-netflix-1")["productId"] == BASIC


def test_auth_failure_status_can_be_401(session):
    with Sandbox(
        port=0, products=PRODUCTS, entitlements=ENTITLEMENTS, auth_failure_status=401
    ) as sb:
        answer = change(session, sb, "stale")
        assert answer.status_code == 401
        assert "invalid_token" in answer.headers["WWW-Authenticate"]


def test_expired_access_token_is_refused_and_refresh_recovers(session):
    with Sandbox(port=0, products=PRODUCTS, entitlements=ENTITLEMENTS, token_lifetime=0.2) as sb:
        tokens = session.post(sb.token_url, data=PASSWORD_GRANT, timeout=5).json()
        assert change(session, sb, tokens["access_token"]).status_code == 200
        time.sleep(0.3)
        assert change(session, sb, tokens["access_token"], product_id=PREMIUM).status_code == 403
        refreshed = refresh(session, sb, tokens["refresh_token"])
        assert change(session, sb, refreshed["access_token"], product_id=PREMIUM).ok


def test_change_product_needs_post(sandbox, session, token):
    answer = session.get(
        sandbox.change_product_url("ent-netflix-1"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"


@pytest.mark.parametrize("odd_id", ODD_IDS, ids=["slash", "space", "unicode", "percent", "10kB"])
def test_entitlement_id_is_one_encoded_segment(sandbox, session, token, odd_id):
    answer = change(session, sandbox, token, odd_id)
    assert answer.status_code == 200
    assert answer.json()["entitlementId"] == odd_id
    assert sandbox.entitlement(odd_id)["productId"] == STANDARD
    record = sandbox.requests("change_product")[-1]
    assert record.entitlement_id == odd_id
    assert record.path == sandbox.change_product_url(odd_id).removeprefix(sandbox.url)


def test_raw_utf8_in_the_path_decodes_like_percent_encoding(sandbox, token):
    path = "/tpes/v1/operator/entitlements/ünïcode-☃/actions/changeProduct".encode()
    request = (
        b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer "
        + token.encode()
        + b"\r\nContent-Length: 20\r\n\r\n"
        + json.dumps({"productId": STANDARD}).encode()[:20]
    )
    raw_socket(sandbox, request)
    assert sandbox.requests("change_product")[-1].entitlement_id == "ünïcode-☃"


@pytest.mark.parametrize(
    "segment",
    ["a/b", "..", ".", "", "%FF"],
    ids=["two-segments", "dot-dot", "dot", "empty", "not-utf8"],
)
def test_a_path_that_is_not_one_segment_is_404_and_recorded(sandbox, token, segment):
    path = f"/tpes/v1/operator/entitlements/{segment}/actions/changeProduct"
    status, body = raw(
        sandbox,
        "POST",
        path,
        json.dumps({"productId": STANDARD}),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert status == 404
    assert json.loads(body)["code"] == "NOT_FOUND"
    record = sandbox.requests("change_product")[-1]
    assert (record.path, record.entitlement_id, record.status) == (path, None, 404)
    assert sandbox.entitlement("a/b")["productId"] == BASIC


def test_encoded_dot_dot_is_the_entitlement_named_dot_dot(sandbox, token):
    # Percent-decoded once, as the rule says; only a raw `..` is a dot segment.
    path = "/tpes/v1/operator/entitlements/%2E%2E/actions/changeProduct"
    auth = {"Authorization": f"Bearer {token}"}
    status, _ = raw(sandbox, "POST", path, b'{"productId": "x"}', auth)
    assert status == 404
    assert sandbox.requests("change_product")[-1].entitlement_id == ".."


def test_unknown_paths_are_404_json_and_recorded(sandbox, session):
    answer = session.post(f"{sandbox.url}/tpes/v2/whatever?x=1", json={}, timeout=5)
    assert answer.status_code == 404
    assert answer.json()["code"] == "NOT_FOUND"
    [record] = sandbox.requests("other")
    assert (record.method, record.path, record.status) == ("POST", "/tpes/v2/whatever?x=1", 404)
