"""The body of an OPF notification: parse and validate it into a typed value, nothing else.

Only called on a body whose signature was verified. Unknown extra fields are tolerated (OPF
may add some); the fields we act on are strict, so a mistake on the sender's side comes back as
400 with the reason instead of doing something half right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from entitlements.models import EntitlementStatus
from entitlements.opf.identifiers import identifier_problem

# Same bounds as the model fields they are matched against.
MAX_ENTITLEMENT_ID = 200
MAX_PRODUCT_ID = 200
MAX_CORRELATION_ID = 64
# occurredAt must fall in this window (docs/notifications.md): nothing OPF reports happened
# before it, and a clock a little ahead is tolerated (counted as "now"). Outside it lie only
# mistakes, and values a database may store but not give back (a year-1 date becomes a BC
# timestamp on PostgreSQL that psycopg cannot read; year 9999 overflows in UTC).
EARLIEST_OCCURRED_AT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_OCCURRED_AHEAD = timedelta(days=1)


class EventType(StrEnum):
    CHANGE_CONFIRMED = "CHANGE_CONFIRMED"  # the provider confirmed a change OPF answered 202 to
    CHANGE_DECLINED = "CHANGE_DECLINED"  # the provider declined it
    PRODUCT_CHANGED_AT_PROVIDER = "PRODUCT_CHANGED_AT_PROVIDER"  # the customer did it there
    STATUS_CHANGED = "STATUS_CHANGED"  # the entitlement's status changed in OPF


NEEDS_PRODUCT = frozenset(
    {
        EventType.CHANGE_CONFIRMED,
        EventType.CHANGE_DECLINED,
        EventType.PRODUCT_CHANGED_AT_PROVIDER,
    }
)


@dataclass(frozen=True)
class Notification:
    event_type: EventType
    entitlement_id: str
    product_id: str  # "" when the event does not carry one
    status: str  # "" when the event does not carry one
    occurred_at: datetime  # timezone-aware
    correlation_id: str  # "" unless OPF echoes the x-correlation-id the portal sent


class InvalidPayload(Exception):
    """Signed but not a notification we understand. `errors` maps a field to what is wrong."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in errors.items()))
        self.errors = errors


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _load_object(body: bytes) -> dict:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidPayload({"body": "not UTF-8"}) from exc
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:  # a deeply nested body
        raise InvalidPayload({"body": "nested too deeply"}) from exc
    except ValueError as exc:
        raise InvalidPayload({"body": "not valid JSON"}) from exc
    if not isinstance(data, dict):
        raise InvalidPayload({"body": "must be a JSON object"})
    return data


def _text(data: dict, field: str, max_length: int, errors: dict, *, required: bool) -> str:
    """The field's text by the one identifier rule; blank counts as absent."""
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[field] = "required" if value is None else "must not be empty"
        return ""
    problem = identifier_problem(value, max_length=max_length)
    if problem:
        errors[field] = problem
        return ""
    return value


def _timestamp(data: dict, field: str, errors: dict, now: datetime) -> datetime | None:
    value = data.get(field)
    if not isinstance(value, str) or not value:
        errors[field] = "required, an ISO 8601 date and time with a UTC offset"
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors[field] = "not an ISO 8601 date and time"
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        errors[field] = "needs a UTC offset, e.g. 2025-01-31T12:00:00Z"
        return None
    # Aware datetimes compare without converting, so even year 1 or 9999 cannot overflow here.
    if not EARLIEST_OCCURRED_AT <= moment <= now + MAX_OCCURRED_AHEAD:
        errors[field] = (
            f"must be between {EARLIEST_OCCURRED_AT:%Y-%m-%dT%H:%M:%SZ} and one day after the "
            "portal's clock"
        )
        return None
    return moment


def parse_notification(body: bytes, *, now: datetime | None = None) -> Notification:
    """The notification in `body`, or InvalidPayload listing every problem found.

    `now` (the portal's clock by default) bounds how far ahead occurredAt may be.
    """
    data = _load_object(body)
    errors: dict[str, str] = {}

    raw_type = data.get("eventType")
    try:
        event_type = EventType(raw_type) if isinstance(raw_type, str) else None
    except ValueError:
        event_type = None
    if event_type is None:
        errors["eventType"] = "must be one of " + ", ".join(e.value for e in EventType)

    entitlement_id = _text(data, "entitlementId", MAX_ENTITLEMENT_ID, errors, required=True)
    product_id = _text(
        data, "productId", MAX_PRODUCT_ID, errors, required=event_type in NEEDS_PRODUCT
    )
    status = _text(data, "status", 20, errors, required=event_type == EventType.STATUS_CHANGED)
    if event_type == EventType.STATUS_CHANGED and status and status not in EntitlementStatus.values:
        errors["status"] = "must be one of " + ", ".join(EntitlementStatus.values)
    occurred_at = _timestamp(data, "occurredAt", errors, now or datetime.now(UTC))
    correlation_id = _text(data, "correlationId", MAX_CORRELATION_ID, errors, required=False)

    if errors:
        raise InvalidPayload(errors)
    return Notification(
        event_type=event_type,
        entitlement_id=entitlement_id,
        product_id=product_id,
        status=status,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
    )
