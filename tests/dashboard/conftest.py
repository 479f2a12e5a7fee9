"""A mixed history made through the real services against the OPF sandbox, and the dashboard's
figures computed directly from the audit, to hold the aggregate against."""

import uuid
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from entitlements.change_stats import latency_bucket
from entitlements.models import ChangeAttempt, DailyChangeStat
from entitlements.notifications.payload import EventType, Notification
from entitlements.outcomes import Outcome
from entitlements.services import (
    apply_notification,
    mark_unfinished_as_unknown,
    settle_unknown_change,
)
from tests.factories import change, change_attempt


def notify(event_type: EventType, entitlement_id: str, product_id: str, correlation_id=""):
    """An authenticated OPF notification, applied by the portal's service."""
    now = timezone.now()
    return apply_notification(
        notification=Notification(
            event_type=event_type,
            entitlement_id=entitlement_id,
            product_id=product_id,
            status="",
            occurred_at=now,
            correlation_id=correlation_id,
        ),
        webhook_id=f"msg_{uuid.uuid4().hex}",
        sent_at=now,
        body="{}",
        headers={},
    )


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def audit_figures() -> Counter:
    """What the aggregate must hold, counted from ChangeAttempt itself (not from its code)."""
    figures = Counter()
    for record in ChangeAttempt.objects.exclude(outcome=Outcome.IN_FLIGHT):
        day = timezone.localdate(record.created_at)
        if record.origin == "provider":
            figures[day, "provider_change", record.outcome] += 1
            continue
        figures[day, "outcome", record.outcome] += 1
        figures[day, "reason", record.reason_code] += 1
        figures[day, "agent", record.actor_username] += 1
        if record.http_attempts:
            figures[day, "opf_call", ""] += 1
            figures[day, "opf_latency", latency_bucket(record.duration_ms)] += 1
            if record.http_status not in (200, 202, 400, 404):
                figures[day, "opf_error", ""] += 1
    return figures


def stored_figures() -> Counter:
    return Counter(
        {
            (day, measure, key): count
            for day, measure, key, count in DailyChangeStat.objects.values_list(
                "day", "measure", "key", "count"
            )
            if count
        }
    )


@pytest.fixture
def history(sandbox, world, agent, supervisor):
    """Every way a change record finishes, through the services: completed, awaiting then
    confirmed, rejected, unknown then settled declined, not sent (token refused), made at the
    provider, reconciled to unknown three days ago, and one left in flight."""
    change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    awaited = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent, reason_code="retention_offer")
    notify(EventType.CHANGE_CONFIRMED, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM", awaited.correlation_id)
    sandbox.inject("change_product", "status", status=400, body='{"message": "not allowed"}')
    change("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", supervisor, reason_code="customer_downgrade")
    sandbox.inject("change_product", "status", status=504)
    unknown = change("ENT-NFX-2", "Netflix_EU_B_BUNDLE_STANDARD", agent)
    settle_unknown_change(change=unknown, applied=False, user=supervisor, note="not in OPF")
    cache.clear()  # no OPF token kept: the next one is asked for, and refused
    sandbox.inject("token", "refuse_token", count=5)
    change("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", agent, reason_code="billing_correction")
    notify(EventType.PRODUCT_CHANGED_AT_PROVIDER, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_BASIC")
    # A process died mid-call three days ago; the reconcile makes it "outcome unknown".
    with mock.patch("django.utils.timezone.now", return_value=days_ago(3)):
        change_attempt("ENT-DSN-1", "DisneyPlus_EU_BASIC", user=agent)
    mark_unfinished_as_unknown(older_than_seconds=60)
    change_attempt("ENT-NFX-2", "Netflix_EU_B_BUNDLE_PREMIUM", user=supervisor)  # in flight
