"""The /_sandbox/ control API, for a sandbox running in another process."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .helpers import BASIC, ENTITLEMENTS, PRODUCTS, change


def test_control_api_mirrors_the_python_api(sandbox, session, token):
    control = f"{sandbox.url}/_sandbox"
    injected = session.post(
        f"{control}/faults",
        json={
            "kind": "change_product",
            "fault": "status",
            "count": 2,
            "status": 503,
        },
        timeout=5,
    )
    assert injected.status_code == 200
    assert session.get(f"{control}/faults", timeout=5).json() == sandbox.faults()
    assert sandbox.faults()[0]["count"] == 2
    assert change(session, sandbox, token).status_code == 503
    assert session.delete(f"{control}/faults", timeout=5).status_code == 204
    assert sandbox.faults() == []

    listed = session.get(f"{control}/requests", params={"kind": "change_product"}, timeout=5)
    [record] = listed.json()
    assert record["status"] == 503 and record["fault"] == "status"
    assert record["headers"]["authorization"] == f"Bearer {token}"
    assert record["entitlement_id"] == "ent-netflix-1"
    assert len(session.get(f"{control}/requests", timeout=5).json()) == 2
    assert session.delete(f"{control}/requests", timeout=5).status_code == 204
    assert sandbox.requests() == []

    one = session.get(f"{control}/entitlements/{quote('a/b', safe='')}", timeout=5)
    assert one.json() == sandbox.entitlement("a/b")
    assert session.get(f"{control}/entitlements/nope", timeout=5).status_code == 404
    assert len(session.get(f"{control}/entitlements", timeout=5).json()) == len(ENTITLEMENTS)
    assert len(session.get(f"{control}/products", timeout=5).json()) == len(PRODUCTS)


def test_control_api_settings(sandbox, session, token):
    control = f"{sandbox.url}/_sandbox/settings"
    answer = session.post(
        control, json={"confirm_later": ["Netflix_EU_B"], "latency_ms": 1}, timeout=5
    )
    assert answer.json()["confirm_later"] == ["Netflix_EU_B"]
    assert session.get(control, timeout=5).json() == sandbox.settings()
    assert change(session, sandbox, token).status_code == 202
    for bad in (
        {"colour": 1},
        {"auth_failure_status": 500},
        {"latency_ms": -1},
        {"confirm_later": "Netflix_EU_B"},
    ):
        refused = session.post(control, json=bad, timeout=5)
        assert refused.status_code == 400 and refused.json()["message"]


def test_control_api_load_and_reset(sandbox, session, token):
    control = f"{sandbox.url}/_sandbox"
    loaded = session.post(
        f"{control}/load",
        json={
            "entitlements": [
                {"entitlementId": "new", "accountId": "a", "productId": BASIC},
            ]
        },
        timeout=5,
    )
    assert loaded.json() == {"products": len(PRODUCTS), "entitlements": 1}
    assert sandbox.entitlement("ent-netflix-1") is None
    assert change(session, sandbox, token, "new").status_code == 200

    bad = session.post(f"{control}/load", json={"products": [{"productId": "x"}]}, timeout=5)
    assert bad.status_code == 400 and "row 1" in bad.json()["message"]
    assert session.post(f"{control}/load", data=b"{nope", timeout=5).status_code == 400
    assert session.post(f"{control}/load", json=[1], timeout=5).status_code == 400

    sandbox.inject("change_product", "status", status=500)
    sandbox.configure(latency_ms=5)
    assert session.post(f"{control}/reset", timeout=5).status_code == 204
    assert sandbox.entitlement("new") is None
    assert sandbox.entitlement("ent-netflix-1")["productId"] == BASIC
    assert sandbox.faults() == [] and sandbox.requests() == []
    assert sandbox.settings()["latency_ms"] == 0
    assert change(session, sandbox, token).status_code == 403  # tokens forgotten too


def test_control_api_refuses_unknown_routes_and_methods(sandbox, session):
    assert session.get(f"{sandbox.url}/_sandbox/nothing", timeout=5).status_code == 404
    wrong = session.put(f"{sandbox.url}/_sandbox/requests", timeout=5)
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    bad = session.post(f"{sandbox.url}/_sandbox/faults", json={"fault": "status"}, timeout=5)
    assert bad.status_code == 400


def test_control_page_shows_requests_with_secrets_masked(sandbox, session, token):
    change(session, sandbox, token, headers={"x-correlation-id": "corr-<b>"})
    page = session.get(f"{sandbox.url}/_sandbox/", timeout=5)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "/tpes/v1/operator/entitlements/ent-netflix-1/actions/changeProduct" in page.text
    assert "Bearer ***" in page.text and token not in page.text
    assert "careportal-sandbox-password" not in page.text and "password=***" in page.text
    assert "corr-&lt;b&gt;" in page.text and "corr-<b>" not in page.text


@pytest.mark.parametrize(
    ("route", "payload"),
    [
        ("faults", {"kind": "change_product", "fault": ["status"]}),
        ("faults", {"kind": "change_product", "fault": "status", "status": "500"}),
        ("faults", {"kind": "change_product", "fault": "hang", "count": "2"}),
        ("settings", {"confirm_later": 5}),
        ("load", {"products": 5}),
        (
            "load",
            {
                "entitlements": [
                    {"entitlementId": "e", "accountId": "a", "productId": "p", "status": ["ACTIVE"]}
                ]
            },
        ),
    ],
)
def test_control_api_answers_400_to_wrongly_typed_payloads(sandbox, session, route, payload):
    answer = session.post(f"{sandbox.url}/_sandbox/{route}", json=payload, timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == "BAD_CONTROL_REQUEST"
    assert sandbox.faults() == [] and sandbox.entitlement("ent-netflix-1") is not None
