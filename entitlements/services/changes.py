"""The change flow: the only code that asks OPF to change an entitlement's product.

`change_product` records every change before OPF is called and its outcome after, calls OPF
outside any transaction or row lock, and updates the mirror from the outcome.
"""

import dataclasses
import logging
import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from careportal.logs import add_to_change_log_context, change_log_context

from .. import messages, rules
from ..audit_chain import sealed_transaction
from ..exceptions import ChangeInProgress, ChangeRefused, OutcomeNotRecorded, StaleEntitlement
from ..models import ChangeAttempt, Entitlement, Product
from ..opf import ChangeProductResult, InvalidIdentifier
from ..opf.client import validate_identifier
from ..outcomes import Outcome
from ..selectors import open_change
from .audit import (
    finish_change,
    log_fields,
    record_change,
    record_change_if_unmoved,
)
from .opf_client import get_opf_client
from .statements import read_for_change

log = logging.getLogger(__name__)

# Seconds to wait before each further try to record "outcome unknown" when recording OPF's
# answer failed (the first try is at once, on a fresh connection): a database restart is over
# in about this long; an agent is not kept waiting much longer.
FINISH_RETRY_DELAYS = (0.2, 0.5, 1.0)


def _given_refusal(reason_code: str, ticket: str) -> str | None:
    """Why the reason or Ticket given cannot go with a change (a reason's direction is the
    form's concern: it offers only the reasons that fit)."""
    if reason_code not in {code for code, _label in settings.CHANGE_REASONS}:
        return messages.REASON_REQUIRED
    return rules.ticket_refusal(ticket)


def _unknown_result(detail: str, correlation_id: str = "") -> ChangeProductResult:
    """An outcome the portal itself had to call unknown: OPF may have received the change."""
    return ChangeProductResult(
        outcome=Outcome.OUTCOME_UNKNOWN,
        correlation_id=correlation_id,
        http_status=None,
        response_body="",
        opf_message="",
        attempts=(),
        duration_ms=0.0,
        detail=detail,
    )


def change_product(
    *,
    entitlement: Entitlement,
    new_product: Product,
    user,
    reason_code: str,
    comment: str = "",
    ticket: str = "",
    expected_version: int | None = None,
    bulk_job=None,
) -> ChangeAttempt:
    """Move `entitlement` to `new_product` in OPF and return the finished change record.

    Raises ChangeRefused (with a message for the agent) when nothing was sent, and
    OutcomeNotRecorded when the change may have reached OPF but the database took no record of
    it. `expected_version` is the entitlement version the agent's form was opened on; `bulk_job`
    the BulkJob this change is part of, named by its record.
    """
    refusal = _given_refusal(reason_code, ticket)
    if refusal:
        raise ChangeRefused(refusal)
    try:
        validate_identifier(entitlement.opf_id)
        validate_identifier(new_product.opf_id)
    except InvalidIdentifier as exc:
        raise ChangeRefused(messages.INVALID_IDENTIFIER) from exc

    change = _record_intent(
        entitlement=entitlement,
        new_product=new_product,
        user=user,
        reason_code=reason_code,
        comment=comment,
        ticket=ticket,
        expected_version=expected_version,
        bulk_job=bulk_job,
    )
    # Every line logged until the outcome is recorded is about this change (JSON logs), the
    # OPF client's and the token provider's too.
    with change_log_context(**log_fields(change)):
        log.info(
            "change_product start correlation_id=%s entitlement=%s from=%s to=%s user=%s",
            change.correlation_id,
            change.entitlement_opf_id,
            change.from_product.opf_id,
            new_product.opf_id,
            change.actor_username,
        )
        result = _call_opf(change, new_product)
        try:
            return record_outcome(change=change, result=result)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the request may have left
            log.exception(
                "change_product answer not recorded correlation_id=%s http_status=%s",
                change.correlation_id,
                result.http_status,
            )
            return _record_unknown(change, result, exc)


def _call_opf(change: ChangeAttempt, new_product: Product) -> ChangeProductResult:
    try:
        return get_opf_client().change_product(
            entitlement_id=change.entitlement_opf_id,
            product_id=new_product.opf_id,
            correlation_id=change.correlation_id,
        )
    except Exception:
        # A bug of ours mid-call: we cannot tell whether OPF got the request.
        log.exception("change_product crashed correlation_id=%s", change.correlation_id)
        return _unknown_result(
            "The portal failed while calling OPF; OPF may have received the change.",
            change.correlation_id,
        )


def _record_unknown(change: ChangeAttempt, result: ChangeProductResult, failure: Exception):
    """Recording OPF's answer failed: record "outcome unknown" instead, as soon as the database
    allows (a few tries on a fresh connection), or raise OutcomeNotRecorded."""
    answered = f"OPF answered {result.http_status}" if result.http_status else "OPF's answer"
    unknown = dataclasses.replace(
        _unknown_result(
            f"{answered}, but the portal could not record it ({type(failure).__name__}); "
            "the outcome is unknown and nothing was resent.",
            change.correlation_id,
        ),
        http_status=result.http_status,
        attempts=result.attempts,
        duration_ms=result.duration_ms,
    )
    for delay in (0, *FINISH_RETRY_DELAYS):
        time.sleep(delay)
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            connection.close()  # a broken connection is not reused; the next query reconnects
        try:
            return record_outcome(change=change, result=unknown)
        except Exception as exc:  # noqa: BLE001 - tried again, then left to reconcile
            log.warning(
                "change_product outcome unknown not recorded yet correlation_id=%s: %s",
                change.correlation_id,
                type(exc).__name__,
            )
    log.error(
        "change_product left in flight for reconcile_changes correlation_id=%s",
        change.correlation_id,
    )
    raise OutcomeNotRecorded(messages.OUTCOME_NOT_RECORDED) from failure


def _record_intent(
    *,
    entitlement: Entitlement,
    new_product: Product,
    user,
    reason_code: str,
    comment: str,
    ticket: str,
    expected_version: int | None,
    bulk_job=None,
) -> ChangeAttempt:
    given = {"to_product": new_product, "user": user, "reason_code": reason_code,
             "comment": comment, "ticket": ticket, "bulk_job": bulk_job}  # fmt: skip
    try:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Read, check, then write only if the row is still as read (one statement that
            # locks and checks it): three round trips fewer than the transaction below.
            current, change_id = read_for_change(entitlement.pk)
            _check(current, new_product, expected_version)
            change = record_change_if_unmoved(entitlement=current, change_id=change_id, **given)
            if change is not None:
                return change
            # It moved between the read and the write: the transaction decides, and says why.
        with sealed_transaction():
            # Only the entitlement's row is locked: locking its product too would queue every
            # change of that product behind this one (and deadlock with a sealer's key check).
            current, _ = read_for_change(entitlement.pk, lock=True)
            _check(current, new_product, expected_version)
            # The partial unique index lets one open change per entitlement exist, whatever
            # the number of agents and processes: a second one fails here.
            return record_change(entitlement=current, **given)
    except IntegrityError as exc:
        # Asked only now, outside the failed transaction, to say what blocks the change.
        blocking = open_change(entitlement)
        refusal = rules.open_change_refusal(blocking) if blocking else messages.CHANGE_IN_PROGRESS
        raise ChangeInProgress(refusal) from exc


def _check(current: Entitlement, new_product: Product, expected_version: int | None) -> None:
    """Refuse a change the entitlement as it is now does not allow. The open change is left to
    the database's constraint: it holds across processes."""
    if expected_version is not None and current.version != expected_version:
        raise StaleEntitlement(messages.STALE_ENTITLEMENT)
    refusal = rules.status_refusal(current) or rules.product_refusal(current, new_product)
    if refusal:
        raise ChangeRefused(refusal)


def record_outcome(*, change: ChangeAttempt, result: ChangeProductResult) -> ChangeAttempt:
    """Store OPF's answer on the change and bring the mirror in line with it."""
    now = timezone.now()
    # One transaction (on PostgreSQL one statement); lock order: the change, then its
    # entitlement (the notification handler's order too).
    recorded = finish_change(
        change=change,
        was=Outcome.IN_FLIGHT,
        outcome=result.outcome,
        detail=result.detail,
        finished_at=now,
        opf_answer=result,
        mirror=_mirror_fields(change, result.outcome, now),
    )
    if not recorded:
        # A notification (or a reconcile) got there first; never move it backwards.
        change.refresh_from_db()
        add_to_change_log_context(outcome=change.outcome)
        log.info(
            "change_product late answer ignored correlation_id=%s outcome=%s http_status=%s",
            change.correlation_id,
            change.outcome,
            result.http_status,
            extra=log_fields(change),
        )
        return change
    add_to_change_log_context(outcome=change.outcome)
    log.log(
        logging.WARNING if result.outcome == Outcome.OUTCOME_UNKNOWN else logging.INFO,
        "change_product %s correlation_id=%s entitlement=%s http_status=%s duration_ms=%d",
        result.outcome.label,
        change.correlation_id,
        change.entitlement_opf_id,
        result.http_status,
        result.duration_ms,
        extra=log_fields(change),
    )
    return change


def _mirror_fields(change: ChangeAttempt, outcome: Outcome, now) -> dict | None:
    """What the outcome changes on the entitlement (services/mirror.py), None for nothing."""
    if outcome == Outcome.COMPLETED:
        return {
            "product_id": change.to_product_id,
            "pending_product": None,
            "pending_since": None,
            # The newest fact about the product: OPF made the change when it answered.
            "product_reported_at": now,
        }
    if outcome == Outcome.AWAITING_CONFIRMATION:
        return {"pending_product_id": change.to_product_id, "pending_since": now}
    if outcome in (Outcome.NOT_FOUND, Outcome.OUTCOME_UNKNOWN):
        return {"needs_review": True}
    return None  # rejected or not sent: the mirror is as it was


def mark_unfinished_as_unknown(
    *, older_than_seconds: float, dry_run: bool = False
) -> list[ChangeAttempt]:
    """Turn changes left "in flight" by a dead process into "outcome unknown" (with `dry_run`,
    only list them).

    Nothing is resent: the request may have reached OPF, so it is reconciled.
    """
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    stale = (
        ChangeAttempt.objects.filter(outcome=Outcome.IN_FLIGHT, created_at__lt=cutoff)
        .select_related("from_product", "to_product")  # sealed with the record
        .order_by("created_at")
    )
    if dry_run:
        return list(stale)
    result = _unknown_result(
        "The portal stopped before OPF's answer was recorded; nothing was resent."
    )
    marked = []
    for change in stale:
        change = record_outcome(change=change, result=result)
        if change.outcome == Outcome.OUTCOME_UNKNOWN:
            marked.append(change)
    return marked
