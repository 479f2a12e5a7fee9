"""The audit's hash chain: every fact sealed once, in order, and any tampering named."""

import hashlib

import pytest
from django.db import DatabaseError, connection, transaction

from entitlements.audit_chain import GENESIS, content_of, fact_of, link_hash
from entitlements.models import ChainHead, ChangeAttempt, Seal
from entitlements.outcomes import Outcome

from .conftest import make_change, tamper, verify_audit

pytestmark = pytest.mark.django_db


def test_each_change_is_sealed_when_created_and_when_finished(sealed_changes):
    seals = list(Seal.objects.order_by("sequence"))
    assert [s.sequence for s in seals] == [1, 2, 3, 4, 5, 6]
    assert [s.kind for s in seals] == ["change.created", "change.finished"] * 3
    assert [s.subject_pk for s in seals] == [c.pk for c in sealed_changes for _ in (1, 2)]
    prev = GENESIS
    for s in seals:
        # The documented serialisation: prev hash + content, SHA-256 in hex.
        assert s.prev_hash == prev
        assert s.hash == hashlib.sha256((prev + s.content).encode()).hexdigest()
        prev = s.hash
    created, finished = seals[0].content.split("\n"), seals[1].content.split("\n")
    assert created[:2] == ["change.created", f"entitlements_changeattempt:{sealed_changes[0].pk}"]
    assert '"outcome":"in_flight"' in created[3] and '"outcome":"completed"' in finished[3]
    head = ChainHead.objects.get()
    assert (head.sequence, head.hash) == (6, seals[-1].hash)


def test_the_newest_seal_of_a_record_is_the_record_as_stored(sealed_changes):
    for change in sealed_changes:
        newest = Seal.objects.filter(subject_pk=change.pk).order_by("-sequence").first()
        stored = ChangeAttempt.objects.select_related("from_product", "to_product").get(
            pk=change.pk
        )
        assert newest.content == content_of(
            kind="change.finished",
            subject=f"entitlements_changeattempt:{change.pk}",
            sealed_at=newest.sealed_at,
            fact=fact_of(stored),
        )


def test_an_intact_chain_verifies_in_one_line(sealed_changes):
    line = verify_audit()
    assert line.startswith("audit chain intact: 6 seals from 1, 3 records match their seals")
    head = Seal.objects.order_by("-sequence").first()
    assert f"head 6:{head.hash}" in line and "\n" not in line
    assert verify_audit("--print-head") == f"6:{head.hash}"
    assert verify_audit("--anchor", f"6:{head.hash}").startswith("audit chain intact")


def test_verify_since_a_date_starts_at_the_first_seal_of_that_day(sealed_changes):
    later = Seal.objects.get(sequence=4).sealed_at
    assert verify_audit("--since", later.isoformat()).startswith(
        "audit chain intact: 3 seals from 4"
    )
    assert verify_audit("--since", "not-a-date").startswith("BROKEN --since")


def test_a_seal_outside_the_facts_transaction_is_refused(transactional_db, sandbox, world, agent):
    from entitlements.audit_chain import seal

    change = make_change(agent)
    with pytest.raises(RuntimeError, match="transaction"):
        seal(kind="change.created", subject=change)
    assert Seal.objects.count() == 2


def test_seals_are_append_only_in_the_orm(sealed_changes):
    first = Seal.objects.get(sequence=1)
    with pytest.raises(PermissionError):
        first.save()
    with pytest.raises(PermissionError):
        first.delete()
    with pytest.raises(PermissionError):
        Seal.objects.all().delete()


@pytest.mark.postgres_only
def test_postgresql_refuses_update_and_delete_of_seals(sealed_changes):
    if connection.vendor != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's")
    for sql in (
        "UPDATE entitlements_seal SET content = 'x' WHERE sequence = 1",
        "DELETE FROM entitlements_seal WHERE sequence = 6",
        "UPDATE entitlements_chainhead SET sequence = 3, prev_hash = hash",
        "DELETE FROM entitlements_chainhead",
    ):
        with pytest.raises(DatabaseError, match="seal|chain head"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert verify_audit().startswith("audit chain intact: 6 seals")


# --- tampering by the tables' owner, triggers disabled: verify_audit names the first broken seal


def test_editing_a_record_is_named(sealed_changes):
    second = sealed_changes[1]
    tamper(("UPDATE entitlements_changeattempt SET outcome = %s WHERE id = %s",
            [Outcome.REJECTED.value, second.pk]))
    assert verify_audit() == (
        "BROKEN audit chain broken at seal 4: edited: record entitlements_changeattempt:"
        f"{second.pk} differs from its seal (outcome: sealed 'completed', now 'rejected')"
    )


def test_swapping_two_records_is_named_at_the_first(sealed_changes):
    first, second = sealed_changes[:2]
    tamper(
        ("UPDATE entitlements_changeattempt SET comment = 'x' WHERE id = %s", [first.pk]),
        ("UPDATE entitlements_changeattempt SET entitlement_opf_id = CASE id WHEN %s THEN %s"
         " ELSE %s END WHERE id IN (%s, %s)",
         [first.pk, second.entitlement_opf_id, first.entitlement_opf_id, first.pk, second.pk]),
    )
    assert verify_audit().startswith(
        f"BROKEN audit chain broken at seal 2: edited: record entitlements_changeattempt:{first.pk}"
    )


def test_deleting_a_record_is_named(sealed_changes):
    tamper(("DELETE FROM entitlements_changeattempt WHERE id = %s", [sealed_changes[1].pk]))
    assert verify_audit() == (
        "BROKEN audit chain broken at seal 4: deleted: record entitlements_changeattempt:"
        f"{sealed_changes[1].pk} it seals is gone"
    )


def test_inserting_a_record_without_a_seal_is_named(sealed_changes):
    original = ChangeAttempt.objects.get(pk=sealed_changes[0].pk)
    forged = ChangeAttempt.objects.create(
        **ChangeAttempt.entitlement_snapshot(original.entitlement),
        from_product=original.from_product,
        to_product=original.to_product,
        reason_code="customer_upgrade",
        outcome=Outcome.COMPLETED,
    )
    assert verify_audit() == (
        f"BROKEN audit chain broken at unsealed record: inserted: record "
        f"entitlements_changeattempt:{forged.pk} has no seal"
    )


def test_editing_a_seal_is_named(sealed_changes):
    tamper(("UPDATE entitlements_seal SET content = replace(content, 'completed', 'rejected')"
            " WHERE sequence = 4", []))
    assert verify_audit() == (
        "BROKEN audit chain broken at seal 4: edited: its content no longer matches its hash"
    )


def test_rewriting_a_seal_with_a_fresh_hash_is_named(sealed_changes):
    fourth = Seal.objects.get(sequence=4)
    content = fourth.content.replace("completed", "rejected")
    tamper(
        ("UPDATE entitlements_seal SET content = %s, hash = %s WHERE sequence = 4",
         [content, link_hash(fourth.prev_hash, content)]),
        ("UPDATE entitlements_changeattempt SET outcome = 'rejected' WHERE id = %s",
         [sealed_changes[1].pk]),
    )
    assert verify_audit().startswith("BROKEN audit chain broken at seal 4: deleted: seal 5 ")


def test_deleting_a_seal_is_named(sealed_changes):
    tamper(("DELETE FROM entitlements_seal WHERE sequence = 3", []))
    assert verify_audit() == "BROKEN audit chain broken at seal 3: deleted: seals 3..3 are missing"


def test_deleting_the_newest_seals_is_named(sealed_changes):
    tamper(("DELETE FROM entitlements_seal WHERE sequence >= 5", []))
    assert verify_audit().startswith(
        "BROKEN audit chain broken at seal 5: deleted: the chain head is seal 6"
    )


def test_deleting_a_seal_and_renumbering_the_rest_is_named(sealed_changes):
    tamper(
        ("DELETE FROM entitlements_seal WHERE sequence = 3", []),
        ("UPDATE entitlements_seal SET sequence = sequence - 1 WHERE sequence = 4", []),
        ("UPDATE entitlements_seal SET sequence = sequence - 1 WHERE sequence = 5", []),
        ("UPDATE entitlements_seal SET sequence = sequence - 1 WHERE sequence = 6", []),
        ("UPDATE entitlements_chainhead SET sequence = 5", []),
    )
    assert verify_audit().startswith("BROKEN audit chain broken at seal 2: deleted: seal 3 ")


def test_inserting_a_seal_is_named(sealed_changes):
    third = Seal.objects.get(sequence=3)
    content = third.content.replace("ENT-NFX-2", "ENT-NFX-9")
    tamper(
        *[("UPDATE entitlements_seal SET sequence = sequence + 1 WHERE sequence = %s", [n])
          for n in (6, 5, 4, 3)],
        ("INSERT INTO entitlements_seal (sequence, kind, subject_table, subject_pk, sealed_at,"
         " content, prev_hash, hash) VALUES (3, %s, %s, %s, %s, %s, %s, %s)",
         [third.kind, third.subject_table, third.subject_pk, third.sealed_at, content,
          third.prev_hash, link_hash(third.prev_hash, content)]),
        ("UPDATE entitlements_chainhead SET sequence = 7", []),
    )
    assert verify_audit() == (
        "BROKEN audit chain broken at seal 3: inserted: it is not in the chain (seal 4 skips it)"
    )


def test_swapping_two_seals_is_named(sealed_changes):
    tamper(
        ("UPDATE entitlements_seal SET sequence = -1 WHERE sequence = 3", []),
        ("UPDATE entitlements_seal SET sequence = 3 WHERE sequence = 4", []),
        ("UPDATE entitlements_seal SET sequence = 4 WHERE sequence = -1", []),
    )
    assert verify_audit() == (
        "BROKEN audit chain broken at seal 3: reordered: it follows seal 4, which now comes "
        "after it"
    )


def test_a_rewritten_log_no_longer_matches_its_anchor(sealed_changes):
    anchor = verify_audit("--print-head")
    # The owner rebuilds the whole chain from a forged first record: internally consistent.
    with transaction.atomic():
        tamper(("UPDATE entitlements_seal SET content = replace(content, %s, %s)",
                ['"agent":"agent"', '"agent":"other"']))
        prev = "0" * 64
        for s in Seal.objects.order_by("sequence"):
            digest = link_hash(prev, s.content)
            tamper(("UPDATE entitlements_seal SET prev_hash = %s, hash = %s WHERE sequence = %s",
                    [prev, digest, s.sequence]))
            prev = digest
        tamper(("UPDATE entitlements_changeattempt SET actor_username = 'other'", []),
               ("UPDATE entitlements_chainhead SET hash = %s", [prev]))
    assert verify_audit().startswith("audit chain intact")
    assert verify_audit("--anchor", anchor) == (
        "BROKEN audit chain broken at seal 6: edited: its hash differs from the anchor: the log "
        "up to it was rewritten"
    )


def test_seals_are_written_in_one_place_only():
    import re
    from pathlib import Path

    portal = Path(__file__).resolve().parents[2] / "entitlements"
    writes = re.compile(
        r"INSERT INTO entitlements_seal|Seal\.objects\.(bulk_)?create|(?<!class )\bSeal\("
    )
    writers = {
        str(path.relative_to(portal))
        for path in portal.rglob("*.py")
        if "migrations" not in path.parts and writes.search(path.read_text())
    }
    assert writers == {"audit_chain.py"}
