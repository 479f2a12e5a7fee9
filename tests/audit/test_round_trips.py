"""A change's database round trips (issue 14: change_product <= 1.25x a bare request on
PostgreSQL), and the one-statement finish keeping everything the multi-statement one does.

The tests use real transactions (transactional_db): inside a test's wrapping transaction the
finish runs in that transaction, statement by statement, as it does inside a notification's.
"""

import pytest
from django.db import connection

from entitlements.audit_chain import sealed_transaction
from entitlements.models import (
    ChainHead,
    ChangeAttempt,
    DailyChangeStat,
    Entitlement,
    Product,
    Seal,
)
from entitlements.outcomes import Outcome
from entitlements.services import change_product
from entitlements.services.audit import finish_change, record_change
from tests.fixtures.round_trips import round_trips

from .conftest import make_change, verify_audit


@pytest.mark.postgres_only
def test_a_change_is_six_round_trips_its_finish_one_statement(
    transactional_db, sandbox, world, agent
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's round trips are in-process calls")
    make_change(agent, "ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC")  # token fetched, connection open
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")  # as the admin view has it
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    with round_trips() as sent:
        change = change_product(
            entitlement=entitlement, new_product=premium, user=agent, reason_code="customer_upgrade"
        )
    assert change.outcome == Outcome.COMPLETED
    # The intent: BEGIN, the locking SELECT, the INSERT, its seal, COMMIT; the finish: one
    # statement in autocommit (the UPDATE, the counts, the mirror and the seal).
    assert sent == ["BEGIN", "SELECT", "INSERT", "WITH", "COMMIT", "WITH"], sent
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.product.opf_id == "Netflix_EU_B_BUNDLE_PREMIUM"
    assert entitlement.version == 2
    assert list(Seal.objects.filter(subject_pk=change.pk).values_list("kind", flat=True)) == [
        "change.created",
        "change.finished",
    ]
    outcomes = DailyChangeStat.objects.filter(measure="outcome", key="completed")
    assert sum(outcomes.values_list("count", flat=True)) == 2
    assert verify_audit().startswith("audit chain intact: 4 seals from 1, 2 records match")


def _in_flight(entitlement_id: str, agent) -> ChangeAttempt:
    entitlement = Entitlement.objects.select_related("product").get(opf_id=entitlement_id)
    with sealed_transaction():
        return record_change(
            entitlement=entitlement,
            to_product=entitlement.product,
            user=agent,
            reason_code="customer_upgrade",
        )


def test_a_finish_finds_the_record_still_open_or_changes_nothing(transactional_db, world, agent):
    change = _in_flight("ENT-NFX-1", agent)
    mirror = {"needs_review": True}
    assert finish_change(
        change=change,
        was=Outcome.IN_FLIGHT,
        outcome=Outcome.OUTCOME_UNKNOWN,
        detail="first",
        mirror=mirror,
    )
    before = (
        Seal.objects.count(),
        ChainHead.objects.get().hash,
        list(DailyChangeStat.objects.order_by("pk").values_list("measure", "key", "count")),
        Entitlement.objects.get(pk=change.entitlement_id).version,
    )
    assert before[3] == 2 and before[0] == 2
    stale = ChangeAttempt.objects.get(pk=change.pk)
    # A second, late finish from "in flight" (the record moved on): refused, nothing written.
    assert not finish_change(
        change=stale,
        was=Outcome.IN_FLIGHT,
        outcome=Outcome.COMPLETED,
        detail="late",
        mirror={"needs_review": False},
    )
    after = (
        Seal.objects.count(),
        ChainHead.objects.get().hash,
        list(DailyChangeStat.objects.order_by("pk").values_list("measure", "key", "count")),
        Entitlement.objects.get(pk=change.entitlement_id).version,
    )
    assert after == before
    stored = ChangeAttempt.objects.get(pk=change.pk)
    assert (stored.outcome, stored.detail) == (Outcome.OUTCOME_UNKNOWN, "first")
    assert Entitlement.objects.get(pk=change.entitlement_id).needs_review
    assert verify_audit().startswith("audit chain intact: 2 seals from 1, 1 records match")


def test_a_finish_without_a_mirror_change_leaves_the_entitlement(transactional_db, world, agent):
    change = _in_flight("ENT-NFX-1", agent)
    assert finish_change(
        change=change, was=Outcome.IN_FLIGHT, outcome=Outcome.REJECTED, detail="no"
    )
    assert change.outcome == Outcome.REJECTED
    assert Entitlement.objects.get(pk=change.entitlement_id).version == 1
    assert DailyChangeStat.objects.get(measure="outcome", key="rejected").count == 1
    assert verify_audit().startswith("audit chain intact: 2 seals from 1, 1 records match")
