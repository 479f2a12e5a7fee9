"""verify_audit's raw-cursor rendering of a record is exactly the fact seal() seals from it."""

from datetime import UTC, datetime

import pytest

from entitlements.audit_chain import FACT_COLUMNS, canonical_json, fact_of
from entitlements.audit_rows import rendered_rows
from entitlements.models import ChangeAttempt, Entitlement, NotificationDelivery, Product
from entitlements.outcomes import Outcome

pytestmark = pytest.mark.django_db

# Values where a shortcut would differ: formula-like text, quotes, newlines and non-ASCII,
# nested JSON with non-ASCII keys and numbers, a time with no microseconds, missing values.
AWKWARD = '=SUM(A1) "quoted"\n\tnext line, ünïcode ✓'
ATTEMPTS = [{"é": 1, "b": [1, -2.5, None, True, {"z": "-x", "a": "=1"}]}, {"note": "ok"}]


def rendered(model, pk: int) -> str:
    table = model._meta.db_table
    return dict(rendered_rows(table, FACT_COLUMNS[table], pk))[pk]


def test_a_change_record_renders_as_its_fact(world):
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    for finished, status, attempts in (
        (datetime(2026, 12, 1, 9, 15, 2, tzinfo=UTC), 200, ATTEMPTS),  # no microseconds
        (datetime(2026, 12, 1, 9, 15, 2, 340380, tzinfo=UTC), None, []),
        (None, 0, {"-": "+"}),
    ):
        record = ChangeAttempt.objects.create(
            **ChangeAttempt.entitlement_snapshot(entitlement),
            from_product=entitlement.product, to_product=premium, reason_code="-minus",
            comment=AWKWARD, outcome=Outcome.COMPLETED, opf_message="@at", detail="+plus",
            http_status=status, finished_at=finished, http_attempts=attempts,
            response_body='{"a": 1}', actor_name="Zoë", duration_ms=0,
        )  # fmt: skip
        stored = ChangeAttempt.objects.get(pk=record.pk)
        assert rendered(ChangeAttempt, record.pk) == canonical_json(fact_of(stored))


def test_a_notification_delivery_renders_as_its_fact(world):
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    for webhook, linked, headers in (("wh-1", entitlement, {"b": "=x", "a": ["ü"]}),
                                     ("wh-2", None, {})):  # fmt: skip
        delivery = NotificationDelivery.objects.create(
            webhook_id=webhook, sent_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
            occurred_at=datetime(2026, 12, 1, 8, 59, 59, 1, tzinfo=UTC), event_type="x.y",
            entitlement_opf_id="ENT-NFX-1", entitlement=linked, result="applied",
            detail=AWKWARD, body='{"raw": "-1"}', headers=headers, remote_addr="127.0.0.1",
        )  # fmt: skip
        stored = NotificationDelivery.objects.get(pk=delivery.pk)
        assert rendered(NotificationDelivery, delivery.pk) == canonical_json(fact_of(stored))
