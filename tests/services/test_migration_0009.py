"""Migration 0009: entitlements changed before it hold their newest completed portal change as
the product's newest fact, so a late provider-side notification older than it stays stale."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("entitlements", "0008_audit_seals")]
AFTER = [("entitlements", "0009_integrity")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_0006_backfills_the_time_opf_answered_a_completed_portal_change(world):
    apps = _migrate(BEFORE)
    Entitlement = apps.get_model("entitlements", "Entitlement")
    ChangeAttempt = apps.get_model("entitlements", "ChangeAttempt")
    Product = apps.get_model("entitlements", "Product")
    answered = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    older_report = answered - timedelta(hours=1)
    untouched = Entitlement.objects.get(opf_id="ENT-NFX-2")
    for opf_id, reported in (("ENT-NFX-1", None), ("ENT-DSN-1", older_report)):
        e = Entitlement.objects.get(opf_id=opf_id)
        Entitlement.objects.filter(pk=e.pk).update(product_reported_at=reported)
        for finished in (answered - timedelta(days=1), answered):
            ChangeAttempt.objects.create(
                entitlement=e, entitlement_opf_id=e.opf_id, account_id=e.account_id,
                provider_id=e.provider_id, from_product=e.product,
                to_product=Product.objects.filter(provider_id=e.provider_id).last(),
                outcome="completed", origin="portal", finished_at=finished,
            )  # fmt: skip
    try:
        apps = _migrate(AFTER)
    finally:  # whatever happened, leave the schema at the latest migrations
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    Entitlement = apps.get_model("entitlements", "Entitlement")
    times = dict(Entitlement.objects.values_list("opf_id", "product_reported_at"))
    assert times["ENT-NFX-1"] == answered
    assert times["ENT-DSN-1"] == answered
    assert times[untouched.opf_id] is None
