"""The notification body: what is accepted and the reasons given for what is not."""

import json

import pytest

from entitlements.notifications.payload import EventType, InvalidPayload, parse_notification


def body(**fields):
    data = {
        "eventType": "CHANGE_CONFIRMED",
        "entitlementId": "ENT-1",
        "productId": "P-1",
        "status": "ACTIVE",
        "occurredAt": "2025-03-01T10:00:00Z",
    }
    data.update(fields)
    return json.dumps({k: v for k, v in data.items() if v is not ...}).encode()


def errors(raw: bytes) -> dict:
    with pytest.raises(InvalidPayload) as caught:
        parse_notification(raw)
    return caught.value.errors


def test_a_complete_notification_with_extra_fields():
    n = parse_notification(body(correlationId="c-1", somethingNew={"x": 1}))
    assert n.event_type is EventType.CHANGE_CONFIRMED
    assert (n.entitlement_id, n.product_id, n.status, n.correlation_id) == (
        "ENT-1",
        "P-1",
        "ACTIVE",
        "c-1",
    )
    assert n.occurred_at.isoformat() == "2025-03-01T10:00:00+00:00"


def test_offsets_other_than_utc_are_understood():
    n = parse_notification(body(occurredAt="2025-03-01T12:00:00.123+02:00"))
    assert n.occurred_at.utcoffset().total_seconds() == 7200


def test_a_status_change_needs_no_product_and_other_events_no_status():
    n = parse_notification(body(eventType="STATUS_CHANGED", productId=..., status="SUSPENDED"))
    assert (n.product_id, n.status) == ("", "SUSPENDED")
    n = parse_notification(body(eventType="PRODUCT_CHANGED_AT_PROVIDER", status=...))
    assert n.status == ""


@pytest.mark.parametrize(
    "raw, field",
    [
        (b"", "body"),
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (b'"text"', "body"),
        (b"\xff\xfe{}", "body"),
        (b"[" * 100_000 + b"]" * 100_000, "body"),
        (b'{"eventType": NaN}', "body"),
        (body(eventType="CHANGE_CONFIRMD"), "eventType"),
        (body(eventType=...), "eventType"),
        (body(eventType=1), "eventType"),
        (body(entitlementId=...), "entitlementId"),
        (body(entitlementId=""), "entitlementId"),
        (body(entitlementId="   "), "entitlementId"),
        (body(entitlementId=42), "entitlementId"),
        (body(entitlementId="x" * 201), "entitlementId"),
        (body(entitlementId="ENT\u00001"), "entitlementId"),
        (body(entitlementId="ENT\n1"), "entitlementId"),
        (body(productId=...), "productId"),
        (body(productId=None), "productId"),
        (body(eventType="CHANGE_DECLINED", productId=...), "productId"),
        (body(eventType="PRODUCT_CHANGED_AT_PROVIDER", productId=...), "productId"),
        (body(eventType="STATUS_CHANGED", status=...), "status"),
        (body(eventType="STATUS_CHANGED", status="GONE"), "status"),
        (body(occurredAt=...), "occurredAt"),
        (body(occurredAt="yesterday"), "occurredAt"),
        (body(occurredAt="2025-03-01T10:00:00"), "occurredAt"),
        (body(occurredAt=1740823200), "occurredAt"),
        (body(correlationId=["a"]), "correlationId"),
        (body(correlationId="c" * 65), "correlationId"),
    ],
)
def test_malformed_notifications_name_the_field(raw, field):
    assert field in errors(raw)


def test_every_problem_is_reported_at_once():
    found = errors(json.dumps({"eventType": "X", "occurredAt": "no"}).encode())
    assert set(found) == {"eventType", "entitlementId", "occurredAt"}
