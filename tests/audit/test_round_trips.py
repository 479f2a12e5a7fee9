"""A change's database round trips (issue 14: change_product <= 1.25x a bare request on
PostgreSQL), and the one-statement intent and finish keeping everything the multi-statement
ones do.

The tests use real transactions (transactional_db): inside a test's wrapping transaction the
finish runs in that transaction, statement by statement, as it does inside a notification's.
"""

import contextlib

import pytest
from django.db import connection
from django.utils import timezone

from entitlements import messages
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
def test_a_change_is_three_round_trips_its_intent_and_finish_one_statement_each(
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
    # The read (the entitlement now, the record's id); the intent: one statement in autocommit
    # (the row locked and checked, the INSERT, its seal); the finish: one statement (the
    # UPDATE, the counts, the mirror and the seal).
    assert sent == ["SELECT", "WITH", "WITH"], sent
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


# --- the intent in one statement (PostgreSQL, outside a transaction) --------------------------

postgres_autocommit = pytest.mark.postgres_only


def _record_fields(change: ChangeAttempt) -> dict:
    """What a change record holds, but for what differs between any two records."""
    skip = {"id", "correlation_id", "created_at", "finished_at", "duration_ms", "http_attempts"}
    return {
        f.attname: getattr(change, f.attname)
        for f in ChangeAttempt._meta.concrete_fields
        if f.attname not in skip
    }


@postgres_autocommit
def test_an_intent_in_one_statement_stores_what_the_transaction_stores(
    transactional_db, sandbox, world, agent
):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement intent is PostgreSQL's")
    from django.db import transaction

    getattr(agent, "sso_identity", None)  # read once per user, as by the first change
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    made = {}
    for name, atomic in (("one statement", False), ("transaction", True)):
        Entitlement.objects.filter(opf_id="ENT-NFX-1").update(product_id=Product.objects.get(
            opf_id="Netflix_EU_B_BUNDLE_STANDARD").pk)  # fmt: skip
        entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
        with round_trips() as sent, transaction.atomic() if atomic else _nothing():
            change = change_product(
                entitlement=entitlement, new_product=premium, user=agent,
                reason_code="customer_upgrade", comment="a ' quote", ticket="T-1",
            )  # fmt: skip
        made[name] = (ChangeAttempt.objects.get(pk=change.pk), sent)
    (fast, fast_sent), (slow, slow_sent) = made["one statement"], made["transaction"]
    assert fast_sent[:2] == ["SELECT", "WITH"] and "BEGIN" not in fast_sent, fast_sent
    assert "SELECT" in slow_sent and "INSERT" in slow_sent, slow_sent
    assert _record_fields(fast) == _record_fields(slow)
    assert fast.outcome == Outcome.COMPLETED and fast.comment == "a ' quote"
    assert verify_audit().startswith("audit chain intact: 4 seals from 1, 2 records match")


@contextlib.contextmanager
def _nothing():
    yield


@postgres_autocommit
def test_an_entitlement_moved_between_the_read_and_the_write_is_left_to_the_transaction(
    transactional_db, sandbox, world, agent, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement intent is PostgreSQL's")
    from entitlements.exceptions import ChangeRefused
    from entitlements.services import changes
    from entitlements.services.mirror import update_mirror

    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    real_read = changes.read_for_change

    def read_then_another_agent_moves_it(pk, lock=False):
        read = real_read(pk, lock=lock)
        if not lock:  # the read before the one statement; not the transaction's own
            update_mirror(entitlement_id=pk, now=timezone.now(), product=premium)
        return read

    monkeypatch.setattr(changes, "read_for_change", read_then_another_agent_moves_it)
    with pytest.raises(ChangeRefused) as refused:
        change_product(
            entitlement=entitlement, new_product=premium, user=agent,
            reason_code="customer_upgrade",
        )  # fmt: skip
    # The statement found the row moved and wrote nothing; the transaction saw why.
    assert str(refused.value) == messages.PRODUCT_SAME
    assert not ChangeAttempt.objects.exists() and not Seal.objects.exists()
    assert sandbox.requests("change_product") == []


@postgres_autocommit
def test_an_open_change_refuses_the_one_statement_intent(transactional_db, sandbox, world, agent):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement intent is PostgreSQL's")
    from entitlements.exceptions import ChangeInProgress

    open_change = _in_flight("ENT-NFX-1", agent)
    with pytest.raises(ChangeInProgress) as refused:
        make_change(agent, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    assert str(refused.value) == messages.CHANGE_IN_PROGRESS
    assert list(ChangeAttempt.objects.values_list("pk", flat=True)) == [open_change.pk]
    assert Seal.objects.count() == 1


@postgres_autocommit
def test_an_over_long_value_is_refused_by_the_one_statement_intent_not_cut(
    transactional_db, world, agent
):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement intent is PostgreSQL's")
    from django.db import DataError

    from entitlements.services.audit import record_change_if_unmoved
    from entitlements.services.statements import read_for_change

    entitlement, change_id = read_for_change(Entitlement.objects.get(opf_id="ENT-NFX-1").pk)
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    with pytest.raises(DataError):
        record_change_if_unmoved(
            entitlement=entitlement, change_id=change_id, to_product=premium, user=agent,
            reason_code="customer_upgrade", comment="", ticket="T" * 101,
        )  # fmt: skip
    assert not ChangeAttempt.objects.exists() and not Seal.objects.exists()
