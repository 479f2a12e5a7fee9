"""The one write path of the audit: a change record is created, finished and settled here, and a
review is recorded here, nowhere else.

Every service that records a change (the change flow, provider-side changes and confirmations
from notifications, supervisors' settlements, the reconcile command) calls `record_change` and
`finish_change`; tests/architecture/test_architecture.py keeps it so. The records are
append-only: a finished one is never written again (the model refuses it, and on PostgreSQL a
trigger does too). Each creation and each finish is sealed in the audit's hash chain
(docs/audit.md): the callers' write transactions are `sealed_transaction()` blocks.
Both keep the supervisors' dashboard figures (change_stats.py) in the same transaction. On
PostgreSQL the change flow's intent (`record_change_if_unmoved`: lock and check, insert, seal)
and its finish (update, counts, mirror, seal) are one statement each, so a change is three
round trips with its read (bench/README.md).
"""

import copy
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from ..audit_chain import seal, sealed_transaction, write_sealed
from ..change_stats import count_finish, counts_upsert, finish_counts
from ..metrics import CHANGES_FINISHED
from ..models import (
    ChangeAttempt,
    ChangeOrigin,
    Entitlement,
    NotificationDelivery,
    Product,
    Settlement,
    new_correlation_id,
)
from ..opf import ChangeProductResult
from ..outcomes import SETTLEABLE, Outcome
from ..upkeep import ReviewMark
from .mirror import mirror_values, update_mirror
from .statements import execute, insert_select_sql, unmoved_sql, update_sql

# The reason code of a refresh record: the mirror was brought in line with a read of OPF.
REFRESH_REASON = "opf_refresh"


def utc_text(moment: datetime) -> str:
    """A moment as the audit's details write it, e.g. "2026-12-01 09:15:00 UTC"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def storable_text(text: str) -> str:
    """`text` as any database stores and gives back: NUL (which a PostgreSQL text column
    refuses) and lone surrogates (no UTF-8 at all) become U+FFFD. The exact bytes of an OPF
    answer are kept apart, in `response_bytes`."""
    if text.isprintable():  # the fast path: printable text has neither
        return text
    return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in text)


def _actor(user) -> dict[str, str]:
    identity = getattr(user, "sso_identity", None)
    return {
        "actor_username": user.get_username(),
        "actor_subject": getattr(identity, "subject", "") or "",
        "actor_name": user.get_full_name() if hasattr(user, "get_full_name") else "",
    }


def record_change(
    *,
    entitlement: Entitlement,
    to_product: Product,
    reason_code: str,
    comment: str = "",
    ticket: str = "",
    origin: ChangeOrigin = ChangeOrigin.PORTAL,
    user=None,
    actor_username: str = "",
    actor_name: str = "",
    outcome: Outcome = Outcome.IN_FLIGHT,
    detail: str = "",
    finished_at: datetime | None = None,
    bulk_job=None,
) -> ChangeAttempt:
    """Create the audit record of one change of `entitlement` from its current product.

    `entitlement` must be the row as locked by the caller (its product is the "from" product).
    The actor is `user` (username, SSO subject and name are copied, so the record stays readable
    whatever happens to the user); without a user, `actor_username` / `actor_name` say who.
    A portal change is created "in flight" before OPF is called and finished by `finish_change`.
    A change that already happened elsewhere (reported by OPF) is created finished: pass its
    `outcome` and `finished_at`. A second open change of the same entitlement raises
    IntegrityError (the database's one-open-change constraint). `bulk_job` is the BulkJob the
    change is part of (entitlements/bulk), None for any other change.
    """
    if (outcome == Outcome.IN_FLIGHT) != (finished_at is None):
        raise ValueError("A change is created in flight, or finished with its finished_at.")
    actor = (
        _actor(user)
        if user is not None
        else {"actor_username": actor_username, "actor_name": actor_name}
    )
    change = _new_change(
        entitlement=entitlement,
        to_product=to_product,
        user=user,
        **actor,
        origin=origin,
        reason_code=reason_code,
        comment=comment,
        ticket=ticket,
        outcome=outcome,
        detail=detail,
        finished_at=finished_at,
        bulk_job=bulk_job,
    )
    change.save(force_insert=True)
    seal(kind="change.created", subject=change)
    if outcome != Outcome.IN_FLIGHT:
        count_finish(change, was=Outcome.IN_FLIGHT)  # the dashboard's figures, same transaction
    return change


def _new_change(*, entitlement: Entitlement, **fields) -> ChangeAttempt:
    """The record in memory: the entitlement as it is now, its product the "from" product."""
    return ChangeAttempt(
        correlation_id=new_correlation_id(),
        **ChangeAttempt.entitlement_snapshot(entitlement),
        from_product=entitlement.product,
        **fields,
    )


def record_change_if_unmoved(
    *,
    entitlement: Entitlement,
    change_id: int,
    to_product: Product,
    user,
    reason_code: str,
    comment: str,
    ticket: str,
    bulk_job=None,
) -> ChangeAttempt | None:
    """PostgreSQL, outside any transaction: record_change() of a portal change in flight, the
    record and its seal in one statement, if the entitlement row is still as `entitlement`
    (read just before by statements.read_for_change(), with `change_id`) shows it.

    The statement locks the row and checks it (version, product, status, account, provider)
    before the INSERT, as the transaction path's SELECT ... FOR UPDATE does before its own:
    three round trips fewer. None when the row moved since the read: nothing is written and the
    caller takes the transaction path, which says why. A second open change of the entitlement
    raises IntegrityError, as in record_change().
    """
    change = _new_change(
        entitlement=entitlement,
        to_product=to_product,
        user=user,
        **_actor(user),
        reason_code=reason_code,
        comment=comment,
        ticket=ticket,
        bulk_job=bulk_job,
    )
    change.pk = change_id
    insert, params = insert_select_sql(change)
    guard, guard_params = unmoved_sql(entitlement)
    steps = [("created", f"{insert} WHERE EXISTS ({guard}) RETURNING 1", params + guard_params)]
    if not write_sealed(steps, kind="change.created", subject=change):
        return None
    change._state.adding, change._state.db = False, connection.alias
    change.take_stored_values({})  # stored as in memory: save() now sees it as loaded
    return change


def finish_change(
    *,
    change: ChangeAttempt,
    was: Outcome,
    outcome: Outcome,
    detail: str,
    finished_at: datetime | None = None,
    opf_answer: ChangeProductResult | None = None,
    mirror: dict | None = None,
) -> bool:
    """Give `change` its `outcome` if its record still has outcome `was`; say whether it did.

    The conditional update is the row lock and the "still open?" check in one statement: an
    answer arriving after a notification, a reconcile or a supervisor settled the change
    changes nothing (False), so a record never moves backwards. `detail` replaces the record's
    plain-words detail (callers appending keep the old one in it); `opf_answer` stores what OPF
    said (status, body as text and as exact bytes, message, each HTTP request, duration); text
    goes through `storable_text`; `mirror` the fields
    services/mirror.py then sets on the entitlement, in the same transaction, if it finished.
    On success `change` holds the stored values too.

    Inside the caller's sealed_transaction() it runs there; otherwise in one of its own, which on
    PostgreSQL is one statement: update, dashboard counts, mirror and seal (write_sealed).
    """
    fields = _finish_fields(outcome, detail, finished_at or timezone.now(), opf_answer)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        finished = _finish_in_one_statement(change, was, fields, mirror)
    else:
        with sealed_transaction(savepoint=False):
            finished = execute(*update_sql(ChangeAttempt, fields, where=_still_open(change, was)))
            if finished:
                change.take_stored_values(fields)
                seal(kind="change.finished", subject=change)
                count_finish(change, was=was)  # the dashboard's figures, same transaction
                if mirror is not None:
                    now = fields["finished_at"]
                    update_mirror(entitlement_id=change.entitlement_id, now=now, **mirror)
    if finished:
        # Counted once the outcome is committed (a rolled-back one never happened).
        transaction.on_commit(CHANGES_FINISHED.labels(outcome.value).inc)
    return bool(finished)


def _finish_fields(outcome, detail, finished_at, opf_answer) -> dict:
    fields = {"outcome": outcome.value, "finished_at": finished_at, "detail": storable_text(detail)}
    if opf_answer is not None:
        fields.update(
            http_status=opf_answer.http_status,
            response_body=storable_text(opf_answer.response_body),
            response_bytes=opf_answer.response_bytes,
            opf_message=storable_text(opf_answer.opf_message),
            http_attempts=[
                {
                    "http_status": a.http_status,
                    "duration_ms": round(a.duration_ms, 1),
                    "note": a.note,
                }
                for a in opf_answer.attempts
            ],
            duration_ms=round(opf_answer.duration_ms),
        )
    return fields


def _still_open(change: ChangeAttempt, was: Outcome) -> dict:
    # A settled change is final, whatever its outcome.
    return {"pk": change.pk, "outcome": was.value, "settlement": ""}


def _finish_in_one_statement(change, was: Outcome, fields: dict, mirror: dict | None) -> bool:
    # The same writes as the multi-statement path, in its order (the change, the counts, the
    # entitlement, the seal): one round trip instead of six.
    staged = copy.copy(change)
    staged.take_stored_values(fields)  # the record as the statement leaves it
    sql, params = update_sql(ChangeAttempt, fields, where=_still_open(change, was))
    steps = [("finished", f"{sql} RETURNING 1", params)]
    counts = counts_upsert(finish_counts(staged, was=was), when="{when}")
    if counts:
        steps.append(("counted", *counts))
    if mirror is not None:
        values = mirror_values(now=fields["finished_at"], **mirror)
        sql, params = update_sql(Entitlement, values, where={"pk": change.entitlement_id})
        steps.append(("mirrored", f"{sql} AND {{when}} RETURNING 1", params))
    finished = write_sealed(steps, kind="change.finished", subject=staged)
    if finished:
        change.take_stored_values(fields)
    return finished


def log_fields(change: ChangeAttempt) -> dict[str, str]:
    """What a log line about `change` carries as fields (JSON logs, careportal.logs)."""
    return {
        "correlation_id": change.correlation_id,
        "user": change.actor_username,
        "entitlement": change.entitlement_opf_id,
        "outcome": "" if change.outcome == Outcome.IN_FLIGHT else change.outcome,
    }


def record_refresh(
    *,
    entitlement: Entitlement,
    opf_product: Product,
    detail: str,
    now: datetime,
    user=None,
    actor_username: str = "",
) -> ChangeAttempt:
    """The audit record of one difference a read of OPF showed, as the mirror is brought in line.

    A change record of origin REFRESH, created finished: from the product the mirror said
    (`entitlement`, as locked by the caller) to the one OPF said; `detail` says both in words
    (the status too). Who asked is `user`, or `actor_username` (a command).
    """
    return record_change(
        entitlement=entitlement,
        to_product=opf_product,
        reason_code=REFRESH_REASON,
        origin=ChangeOrigin.REFRESH,
        user=user,
        actor_username=actor_username,
        outcome=Outcome.COMPLETED,
        detail=detail,
        finished_at=now,
    )


def settle_change(
    *,
    change: ChangeAttempt,
    settlement: Settlement,
    settled_by: str,
    note: str,
    now: datetime,
    opf_state: str = "",
) -> bool:
    """Record the settlement of `change` if it is still open and settleable; say whether it did.

    Its outcome, OPF status and answer stay as they are; the settlement is written once beside
    them (who: a supervisor's username or RECONCILIATION; what OPF showed, when a read was made),
    and the change no longer blocks its entitlement. Like finish_change, the conditional update
    is the "still open?" check: a change settled or finished meanwhile is left alone (False).
    """
    fields = {
        "settlement": settlement.value,
        "settled_at": now,
        "settled_by": settled_by,
        "settlement_opf_state": opf_state,
        "settlement_note": note,
    }
    settled = (
        ChangeAttempt.objects.open()
        .filter(pk=change.pk, outcome__in=sorted(SETTLEABLE))
        .update(**fields)
    )
    if settled:
        change.take_stored_values(fields)
        seal(kind="change.settled", subject=change)
    return bool(settled)


def record_review(
    *,
    user,
    note: str = "",
    delivery: NotificationDelivery | None = None,
    entitlement: Entitlement | None = None,
) -> ReviewMark:
    """A supervisor marked a notification kept for review, or a flagged entitlement, reviewed."""
    mark = ReviewMark.objects.create(
        user=user,
        actor_username=user.get_username(),
        delivery=delivery,
        entitlement=entitlement,
        note=note,
    )
    seal(kind="review.recorded", subject=mark)
    return mark
