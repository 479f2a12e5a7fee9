"""Bulk changes: a tier of many Netflix Basic entitlements, in the portal and in the sandbox."""

import pytest

from tests.fixtures.sandbox import CATALOGUE, ENTITLEMENTS, load_world_into_portal

SOURCE = "Netflix_EU_B_BUNDLE_BASIC"
TARGET = "Netflix_EU_B_BUNDLE_STANDARD"
REASON = "technical_fix"


def basic_entitlements(count: int) -> list[dict]:
    return [
        {"entitlementId": f"ENT-BULK-{n:05d}", "accountId": f"ACC-B{n:05d}",
         "productId": SOURCE, "status": "ACTIVE"}
        for n in range(1, count + 1)
    ]  # fmt: skip


@pytest.fixture
def tier(request, db, sandbox):
    """N (the test's `tier_size` mark, default 25) ACTIVE Netflix Basic entitlements, plus the
    shared world (whose two Basic ones are cancelled and revoked: blocked by status)."""
    marker = request.node.get_closest_marker("tier_size")
    rows = basic_entitlements(marker.args[0] if marker else 25)
    load_world_into_portal(CATALOGUE, ENTITLEMENTS + rows)
    sandbox.load(entitlements=ENTITLEMENTS + rows)
    return [row["entitlementId"] for row in rows]


def plan(user, *, first_batch=10, ids=None, source=SOURCE, target=TARGET, comment=""):
    from entitlements.bulk.planning import PlanRequest, plan_job
    from entitlements.models import Product

    return plan_job(
        PlanRequest(
            user=user,
            source_product=Product.objects.get(opf_id=source) if source else None,
            target_product=Product.objects.get(opf_id=target),
            reason_code=REASON,
            comment=comment,
            ids=ids,
            first_batch=first_batch,
        )
    )


def run_in_process(job, seconds=30.0) -> bool:
    """One worker's slice, in this process (the task body without its queue)."""
    import time

    from entitlements.bulk.running import Runner

    job.refresh_from_db()
    return Runner(job.pk, job.generation, until=time.monotonic() + seconds).run()


def sent_ids(sandbox) -> list[str]:
    return [r.entitlement_id for r in sandbox.requests("change_product")]
