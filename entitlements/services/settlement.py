"""Settling a change OPF never answered clearly: a supervisor after checking OPF, or
reconciliation from OPF's state (services/reconciliation.py). Nothing is sent to OPF.

A settlement is its own fact: the change keeps its outcome, OPF status and answer, and gains
its settlement (applied / not applied, by whom, when, what OPF showed, the note) through
audit.settle_change. The entitlement is then unblocked, and on the new product when applied.
"""

import logging
from datetime import datetime

from django.utils import timezone

from .. import messages
from ..audit_chain import sealed_transaction
from ..exceptions import ChangeRefused
from ..models import ChangeAttempt, Settlement
from ..outcomes import Outcome
from ..selectors import is_overdue
from .audit import log_fields, settle_change
from .mirror import update_mirror

log = logging.getLogger(__name__)


def apply_settlement(
    *,
    change: ChangeAttempt,
    settlement: Settlement,
    settled_by: str,
    note: str,
    now: datetime,
    opf_state: str = "",
) -> bool:
    """Settle `change` and bring its entitlement in line, in one transaction; False when it was
    no longer open (finished, settled, or answered meanwhile): then nothing changed."""
    with sealed_transaction():
        # The same order as record_outcome: the change record, then its entitlement.
        if not settle_change(
            change=change,
            settlement=settlement,
            settled_by=settled_by,
            note=note,
            now=now,
            opf_state=opf_state,
        ):
            return False
        fields = {"needs_review": False, "pending_product": None, "pending_since": None}
        if settlement == Settlement.APPLIED:
            fields["product_id"] = change.to_product_id
        if opf_state:
            fields["confirmed_by_opf_at"] = now
        update_mirror(entitlement_id=change.entitlement_id, now=now, **fields)
    log.info(
        "change settled %s by %s correlation_id=%s outcome=%s opf_state=%r",
        settlement.label,
        settled_by,
        change.correlation_id,
        change.outcome,
        opf_state,
        extra=log_fields(change),
    )
    return True


def may_be_settled(change: ChangeAttempt, now: datetime | None = None) -> bool:
    """A change of unknown outcome, or one whose confirmation is overdue, not yet settled."""
    if change.settlement:
        return False
    if change.outcome == Outcome.OUTCOME_UNKNOWN:
        return True
    return is_overdue(change, now)


def settle_unknown_change(
    *, change: ChangeAttempt, applied: bool, user, note: str
) -> ChangeAttempt:
    """Record what a supervisor found in OPF about a change of unknown outcome or an overdue
    confirmation; nothing is sent to OPF.

    `applied` means OPF shows the entitlement on the new product: the mirror moves; otherwise it
    stays. Either way the entitlement may change again. Raises ChangeRefused when the change may
    not (or no longer) be settled, or when the note is missing.
    """
    note = note.strip()
    if not note:
        raise ChangeRefused(messages.SETTLEMENT_NOTE_REQUIRED)
    if not may_be_settled(change):
        raise ChangeRefused(messages.SETTLEMENT_NOT_UNKNOWN)
    settled = apply_settlement(
        change=change,
        settlement=Settlement.APPLIED if applied else Settlement.NOT_APPLIED,
        settled_by=user.get_username(),
        note=note,
        now=timezone.now(),
    )
    if not settled:
        raise ChangeRefused(messages.SETTLEMENT_NOT_UNKNOWN)
    change.refresh_from_db()
    return change
