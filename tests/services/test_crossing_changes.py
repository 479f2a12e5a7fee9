"""Crossing changes never deadlock (issue 9, item 2).

Entitlement A moves Standard -> Premium while B moves Premium -> Standard, many pairs at once.
Each change locks only its own entitlement row; the product rows are only ever key-share locked
(by the foreign-key checks), which never wait for one another.
"""

import threading

import pytest
from django.db import connection

from entitlements.models import ChangeAttempt, Entitlement, Product
from entitlements.outcomes import Outcome
from tests.factories import change
from tests.fixtures.sandbox import ENTITLEMENTS

PAIRS = 40
STANDARD, PREMIUM = "Netflix_EU_B_BUNDLE_STANDARD", "Netflix_EU_B_BUNDLE_PREMIUM"


def _pair_entitlements() -> list[dict]:
    rows = []
    for n in range(PAIRS):
        rows.append({"entitlementId": f"ENT-X-{n}-A", "accountId": f"ACC-X-{n}",
                     "productId": STANDARD, "status": "ACTIVE"})  # fmt: skip
        rows.append({"entitlementId": f"ENT-X-{n}-B", "accountId": f"ACC-X-{n}",
                     "productId": PREMIUM, "status": "ACTIVE"})  # fmt: skip
    return rows


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_forty_crossing_pairs_at_once_all_complete_without_a_deadlock(sandbox, world, agent):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks: one writer at a time, nothing can cross")
    pairs = _pair_entitlements()
    sandbox.load(entitlements=[*ENTITLEMENTS, *pairs])
    products = {p.opf_id: p for p in Product.objects.filter(opf_id__in=[STANDARD, PREMIUM])}
    for row in pairs:
        product = products[row["productId"]]
        Entitlement.objects.create(
            opf_id=row["entitlementId"], account_id=row["accountId"],
            provider_id=product.provider_id, product=product, status="ACTIVE",
        )  # fmt: skip
    barriers = [threading.Barrier(2) for _ in range(PAIRS)]
    start = threading.Barrier(PAIRS * 2)
    errors: list[str] = []

    def cross(n: int, side: str, to: str):
        try:
            start.wait(timeout=60)
            barriers[n].wait(timeout=60)
            change(f"ENT-X-{n}-{side}", to, agent)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            errors.append(f"{n}{side}: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=cross, args=(n, side, to))
        for n in range(PAIRS)
        for side, to in (("A", PREMIUM), ("B", STANDARD))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == [], f"{len(errors)} of {PAIRS * 2} changes failed: {errors[:5]}"
    done = ChangeAttempt.objects.filter(entitlement_opf_id__startswith="ENT-X-")
    assert done.count() == PAIRS * 2
    assert set(done.values_list("outcome", flat=True)) == {Outcome.COMPLETED}
    moved = dict(
        Entitlement.objects.filter(opf_id__startswith="ENT-X-").values_list(
            "opf_id", "product__opf_id"
        )
    )
    assert all(moved[f"ENT-X-{n}-A"] == PREMIUM for n in range(PAIRS))
    assert all(moved[f"ENT-X-{n}-B"] == STANDARD for n in range(PAIRS))
    assert len(sandbox.requests("change_product")) == PAIRS * 2
