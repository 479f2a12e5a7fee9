"""The chain at scale: 8 concurrent writers never fork it; 100,000 seals verify."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from entitlements.audit_chain import GENESIS, content_of, link_hash
from entitlements.models import ChainHead, ChangeAttempt, Seal
from entitlements.outcomes import Outcome
from tests.fixtures.sandbox import CATALOGUE, ENTITLEMENTS, load_world_into_portal

from .conftest import make_change, tamper, verify_audit

WRITERS = 8
CHANGES_EACH = 3


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_leave_one_intact_chain(sandbox, agent):
    extra = [
        {"entitlementId": f"ENT-CC-{n}", "accountId": f"ACC-CC-{n}",
         "productId": "Netflix_EU_B_BUNDLE_STANDARD", "status": "ACTIVE"}
        for n in range(WRITERS)
    ]
    sandbox.load(entitlements=ENTITLEMENTS + extra)
    load_world_into_portal(CATALOGUE, extra)
    # OPF's latency makes the writers' transactions overlap around the call.
    sandbox.configure(latency_ms=15)
    barrier = threading.Barrier(WRITERS)
    errors = []

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            for i in range(CHANGES_EACH):
                tier = ("PREMIUM", "STANDARD")[i % 2]
                attempt = make_change(agent, f"ENT-CC-{n}", f"Netflix_EU_B_BUNDLE_{tier}")
                assert attempt.outcome == Outcome.COMPLETED
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    seals = WRITERS * CHANGES_EACH * 2
    assert ChangeAttempt.objects.count() == WRITERS * CHANGES_EACH
    assert list(Seal.objects.values_list("sequence", flat=True)) == list(range(1, seals + 1))
    # Interleaved: some writer's created seal lands between another's created and finished.
    subjects = list(Seal.objects.values_list("subject_pk", flat=True))
    assert any(a != b for a, b in zip(subjects[0::2], subjects[1::2], strict=True))
    assert verify_audit().startswith(
        f"audit chain intact: {seals} seals from 1, {WRITERS * CHANGES_EACH} records match"
    )


def _bulk_chain(count: int) -> None:
    """`count` seals written straight to the table (seal() one by one would take minutes)."""
    prev, now, seals = GENESIS, timezone.now(), []
    for n in range(1, count + 1):
        content = content_of(
            kind="test.fact", subject=f"entitlements_product:{n}", sealed_at=now,
            fact={"n": str(n), "note": "bulk-built link of a long chain"},
        )
        digest = link_hash(prev, content)
        seals.append(Seal(sequence=n, kind="test.fact", subject_table="entitlements_product",
                          subject_pk=n, sealed_at=now, content=content, prev_hash=prev,
                          hash=digest))
        prev = digest
    Seal.objects.bulk_create(seals, batch_size=5000)
    ChainHead.objects.create(id=1, sequence=count, prev_hash=seals[-2].hash, hash=prev)


@pytest.mark.django_db
def test_a_chain_of_100000_seals_verifies_and_a_break_near_its_end_is_found():
    _bulk_chain(100_000)
    line = verify_audit()
    assert line.startswith("audit chain intact: 100000 seals from 1"), line
    tamper(("UPDATE entitlements_seal SET content = content || ' ' WHERE sequence = 99999", []))
    assert verify_audit() == (
        "BROKEN audit chain broken at seal 99999: edited: its content no longer matches its hash"
    )
