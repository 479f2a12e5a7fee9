"""The sandbox's read of third-party entitlements, over real HTTP: paging, filter, token, faults,
and the control that changes an entitlement behind the portal's back."""

from __future__ import annotations

import json

import pytest
import requests

from .helpers import BASIC, PREMIUM, STANDARD, change

NETFLIX_1 = "ent-netflix-1"


def read(session, sandbox, token, *, where=None, **params):
    query = {"filter": json.dumps({"productType": "THIRDPARTY", **(where or {})}), **params}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return session.get(sandbox.entitlements_url, params=query, headers=headers, timeout=5)


def ids(answer):
    return [e["entitlementId"] for e in answer.json()["entitlements"]]


def test_the_read_answers_the_object_form_from_the_state(sandbox, session, token):
    answer = read(session, sandbox, token, where={"accountId": "acc-1"})

    assert answer.status_code == 200
    body = answer.json()
    expected = [e for e in sandbox.entitlements() if e["accountId"] == "acc-1"]
    assert expected and body["totalRecords"] == len(expected)
    assert body["entitlements"] == [
        {
            "entitlementId": e["entitlementId"],
            "accountId": "acc-1",
            "productId": e["productId"],
            "productType": "THIRDPARTY",
            "status": e["status"],
        }
        for e in expected
    ]
    [record] = sandbox.requests("entitlements")
    assert (record.method, record.status, record.fault) == ("GET", 200, None)
    assert record.path.startswith("/crm-gateway/v1/rmg/v1/entitlements?filter=")


def test_pages_are_numbered_from_1_and_limited(sandbox, session, token):
    everything = [e["entitlementId"] for e in sandbox.entitlements()]
    assert len(everything) > 4

    pages = [ids(read(session, sandbox, token, limit=2, page=p)) for p in (1, 2, 3)]
    beyond = read(session, sandbox, token, limit=2, page=len(everything))
    default = read(session, sandbox, token)

    assert pages == [everything[0:2], everything[2:4], everything[4:6]]
    assert beyond.json() == {"totalRecords": len(everything), "entitlements": []}
    assert ids(default) == everything  # no limit: 100, more than the test data holds


@pytest.mark.parametrize(
    ("where", "params", "message"),
    [
        ({"accountId": ["acc-1"]}, {}, "strings"),
        ({"customerId": "acc-1"}, {}, "not supported"),
        ({}, {"limit": "0"}, "limit"),
        ({}, {"limit": "1001"}, "limit"),
        ({}, {"limit": "ten"}, "whole number"),
        ({}, {"page": "0"}, "numbered from 1"),
    ],
)
def test_a_query_it_cannot_read_is_400(sandbox, session, token, where, params, message):
    answer = read(session, sandbox, token, where=where, **params)

    assert answer.status_code == 400
    assert answer.json()["code"] == "INVALID_QUERY" and message in answer.json()["message"]


def test_filter_that_is_not_an_object_is_400(sandbox, session, token):
    answer = session.get(
        sandbox.entitlements_url,
        params={"filter": "[1]"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 400


def test_filters_by_account_status_and_product_type(sandbox, session, token):
    sandbox.set_entitlement(NETFLIX_1, status="SUSPENDED")

    by_status = read(session, sandbox, token, where={"status": "SUSPENDED"})
    other_type = read(session, sandbox, token, where={"productType": "LINEAR"})
    unknown_account = read(session, sandbox, token, where={"accountId": "nobody"})

    assert ids(by_status) == [NETFLIX_1]
    assert other_type.json() == {"totalRecords": 0, "entitlements": []}
    assert unknown_account.json() == {"totalRecords": 0, "entitlements": []}


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic eDp5"])
def test_the_read_needs_a_valid_bearer_token(sandbox, session, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    answer = session.get(sandbox.entitlements_url, headers=headers, timeout=5)

    assert answer.status_code == 403
    assert sandbox.requests("entitlements")[-1].status == 403


def test_the_read_is_401_when_configured_so(sandbox, session):
    sandbox.configure(auth_failure_status=401)
    answer = session.get(sandbox.entitlements_url, timeout=5)
    assert answer.status_code == 401 and "WWW-Authenticate" in answer.headers


def test_the_read_needs_get(sandbox, session, token):
    answer = session.post(
        sandbox.entitlements_url, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET"


def test_the_read_shows_a_change_the_sandbox_applied(sandbox, session, token):
    assert change(session, sandbox, token, NETFLIX_1, PREMIUM).status_code == 200

    [entitlement] = read(session, sandbox, token, where={"entitlementId": NETFLIX_1}).json()[
        "entitlements"
    ]
    assert entitlement["productId"] == PREMIUM


def test_a_202_change_shows_the_old_product_until_confirmed(sandbox, session, token):
    disney = next(e for e in sandbox.entitlements() if e["productId"].startswith("DisneyPlus"))
    sandbox.configure(confirm_later=["DisneyPlus_EU"])
    target = "DisneyPlus_EU_PREMIUM" if disney["productId"] != "DisneyPlus_EU_PREMIUM" else None
    assert target is not None
    assert change(session, sandbox, token, disney["entitlementId"], target).status_code == 202

    where = {"entitlementId": disney["entitlementId"]}
    [entitlement] = read(session, sandbox, token, where=where).json()["entitlements"]
    assert entitlement["productId"] == disney["productId"]


@pytest.mark.parametrize(
    ("fault", "params", "status"),
    [("status", {"status": 503}, 503), ("reject_auth", {}, 403)],
)
def test_faults_target_the_read_and_only_the_read(sandbox, session, token, fault, params, status):
    sandbox.inject("entitlements", fault, **params)

    assert change(session, sandbox, token).status_code == 200  # changeProduct untouched
    assert read(session, sandbox, token).status_code == status
    assert read(session, sandbox, token).status_code == 200
    assert [(r.fault, r.status) for r in sandbox.requests("entitlements")] == [
        (fault, status),
        (None, 200),
    ]


def test_hang_reset_and_truncate_apply_to_the_read(sandbox, session, token):
    sandbox.inject("entitlements", "hang", seconds=2)
    sandbox.inject("entitlements", "reset")
    sandbox.inject("entitlements", "truncate")

    with pytest.raises(requests.ReadTimeout):
        session.get(sandbox.entitlements_url, timeout=(1, 0.3))
    with pytest.raises(requests.ConnectionError):
        read(session, sandbox, token)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        read(session, sandbox, token)
    assert [r.fault for r in sandbox.requests("entitlements")] == ["hang", "reset", "truncate"]


def test_latency_applies_to_the_read(sandbox, session, token):
    sandbox.inject("entitlements", "latency", ms=300)
    answer = read(session, sandbox, token)
    assert answer.status_code == 200 and answer.elapsed.total_seconds() >= 0.3


def test_control_changes_an_entitlement_behind_the_portals_back(sandbox, session, token):
    url = f"{sandbox.url}/_sandbox/entitlements/{NETFLIX_1}"

    changed = session.post(url, json={"productId": STANDARD, "status": "SUSPENDED"}, timeout=5)

    assert changed.status_code == 200
    assert (changed.json()["productId"], changed.json()["status"]) == (STANDARD, "SUSPENDED")
    [seen] = read(session, sandbox, token, where={"entitlementId": NETFLIX_1}).json()[
        "entitlements"
    ]
    assert (seen["productId"], seen["status"]) == (STANDARD, "SUSPENDED")
    assert sandbox.deliveries() == [] and sandbox.requests("change_product") == []


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        (NETFLIX_1, {"productId": "Nope_PRODUCT"}, 400),
        (NETFLIX_1, {"status": "HAPPY"}, 400),
        (NETFLIX_1, {"tier": 3}, 400),
        (NETFLIX_1, {}, 400),
        (NETFLIX_1, {"productId": 5}, 400),
        ("nobody", {"productId": BASIC}, 404),
    ],
)
def test_control_refuses_a_bad_change_and_changes_nothing(sandbox, session, path, payload, status):
    before = sandbox.entitlements()
    answer = session.post(f"{sandbox.url}/_sandbox/entitlements/{path}", json=payload, timeout=5)
    assert answer.status_code == status
    assert sandbox.entitlements() == before


def test_set_entitlement_in_python(sandbox):
    assert sandbox.set_entitlement(NETFLIX_1, product_id=PREMIUM)["productId"] == PREMIUM
    assert sandbox.entitlement(NETFLIX_1)["productId"] == PREMIUM
    with pytest.raises(ValueError):
        sandbox.set_entitlement("nobody", status="ACTIVE")
