"""Reconciliation from OPF's state: changes of unknown outcome and overdue confirmations are
settled by what a read of OPF shows (rules.settlement_from_opf), or stay open and are escalated.

Used by `manage.py reconcile_changes` (all of them) and a supervisor's "Check OPF now" (one).
It only reads OPF: it never sends a changeProduct.
"""

import logging
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone

from .. import rules, selectors
from ..models import RECONCILIATION, ChangeAttempt, Settlement
from ..opf import OpfEntitlement, ReadFailed
from .audit import utc_text
from .opf_reads import account_entitlements, describe
from .settlement import apply_settlement, may_be_settled

log = logging.getLogger(__name__)


class Verdict(StrEnum):
    SETTLED_APPLIED = "settled applied"
    SETTLED_NOT_APPLIED = "settled not applied"
    WOULD_SETTLE_APPLIED = "would settle applied"
    WOULD_SETTLE_NOT_APPLIED = "would settle not applied"
    LEFT_OPEN = "left open, escalated"
    READ_FAILED = "OPF could not be read, nothing changed"
    NOT_OPEN = "no longer open, nothing to do"


_DONE = {
    Settlement.APPLIED: Verdict.SETTLED_APPLIED,
    Settlement.NOT_APPLIED: Verdict.SETTLED_NOT_APPLIED,
}
_WOULD = {
    Settlement.APPLIED: Verdict.WOULD_SETTLE_APPLIED,
    Settlement.NOT_APPLIED: Verdict.WOULD_SETTLE_NOT_APPLIED,
}


@dataclass(frozen=True)
class Check:
    """What checking one change against OPF did: the verdict, what OPF showed, why."""

    change: ChangeAttempt
    verdict: Verdict
    opf_state: str = ""
    why: str = ""

    @property
    def settled(self) -> bool:
        return self.verdict in _DONE.values()


class _AccountReads:
    """OPF's entitlements per account, read once per sweep (or the failure, kept too)."""

    def __init__(self) -> None:
        self._seen: dict[str, dict[str, OpfEntitlement] | ReadFailed] = {}

    def record(self, account_id: str, entitlement_id: str) -> OpfEntitlement | None:
        if account_id not in self._seen:
            try:
                self._seen[account_id] = account_entitlements(account_id)
            except ReadFailed as failed:
                self._seen[account_id] = failed
        found = self._seen[account_id]
        if isinstance(found, ReadFailed):
            raise found
        return found.get(entitlement_id)


def check_change(
    change: ChangeAttempt, *, dry_run: bool = False, asked_by: str = "", reads=None
) -> Check:
    """Read OPF for one change and settle it when OPF's state answers; nothing is sent."""
    if not may_be_settled(change):
        return Check(change, Verdict.NOT_OPEN)
    try:
        record = (reads or _AccountReads()).record(change.account_id, change.entitlement_opf_id)
    except ReadFailed as failed:
        log.warning(
            "reconcile correlation_id=%s: OPF could not be read: %s",
            change.correlation_id,
            failed,
            extra={"correlation_id": change.correlation_id},
        )
        return Check(change, Verdict.READ_FAILED, why=str(failed))
    shown = describe(record)
    settlement = rules.settlement_from_opf(change, record.product_id if record else None)
    if settlement is None:
        why = (
            f"OPF shows {shown}; the change was {change.from_product.opf_id} -> "
            f"{change.to_product.opf_id} ({change.get_outcome_display()}): a supervisor decides."
        )
        log.warning(
            "reconcile correlation_id=%s left open, escalated: %s",
            change.correlation_id,
            why,
            extra={"correlation_id": change.correlation_id},
        )
        return Check(change, Verdict.LEFT_OPEN, shown, why)
    if dry_run:
        return Check(change, _WOULD[settlement], shown)
    now = timezone.now()
    note = f"From OPF's state read at {utc_text(now)}: OPF shows {shown}."
    if asked_by:
        note += f" Checked at the request of {asked_by} (Check OPF now)."
    settled = apply_settlement(
        change=change,
        settlement=settlement,
        settled_by=RECONCILIATION,
        note=note,
        now=now,
        opf_state=shown,
    )
    if not settled:
        return Check(change, Verdict.NOT_OPEN, shown)
    return Check(change, _DONE[settlement], shown)


def reconcile_with_opf(*, dry_run: bool = False) -> list[Check]:
    """Check every change of unknown outcome and every overdue confirmation against OPF, oldest
    first, reading each account once."""
    reads = _AccountReads()
    changes = [
        *selectors.unknown_outcome_changes().order_by("created_at", "id"),
        *selectors.overdue_changes().order_by("created_at", "id"),
    ]
    return [check_change(c, dry_run=dry_run, reads=reads) for c in changes]
