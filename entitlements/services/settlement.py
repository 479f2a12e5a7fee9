"""Supervisors settle a change of unknown outcome after checking OPF; nothing is sent to OPF."""

import logging

from django.utils import timezone

from .. import messages
from ..audit_chain import sealed_transaction
from ..exceptions import ChangeRefused
from ..models import ChangeAttempt
from ..outcomes import Outcome
from .audit import finish_change, log_fields, utc_text
from .mirror import update_mirror

log = logging.getLogger(__name__)


def settle_unknown_change(
    *, change: ChangeAttempt, applied: bool, user, note: str
) -> ChangeAttempt:
    """Record what a supervisor found in OPF about a change whose outcome was unknown.

    Nothing is sent to OPF. `applied` means OPF shows the entitlement on the new product: the
    change becomes confirmed and the mirror moves; otherwise it becomes declined and the mirror
    stays. Either way the entitlement may change again. Raises ChangeRefused when the change is
    not (or no longer) of unknown outcome, or when the note is missing.
    """
    note = note.strip()
    if not note:
        raise ChangeRefused(messages.SETTLEMENT_NOTE_REQUIRED)
    now = timezone.now()
    decision = Outcome.CONFIRMED if applied else Outcome.DECLINED
    found = "applied" if applied else "not applied"
    said = (
        f"Settled by supervisor {user.get_username()} at {utc_text(now)}: OPF shows the change "
        f"{found}. Note: {note}"
    )
    with sealed_transaction():
        # The same order and the same "still open?" check as record_outcome.
        settled = finish_change(
            change=change,
            was=Outcome.OUTCOME_UNKNOWN,
            outcome=decision,
            # Appended: the client's reason for "unknown" stays readable beside the settlement.
            detail=f"{change.detail} {said}".strip(),
            finished_at=now,
        )
        if not settled:
            raise ChangeRefused(messages.SETTLEMENT_NOT_UNKNOWN)
        fields = {"needs_review": False}
        if applied:
            fields["product_id"] = change.to_product_id
        update_mirror(entitlement_id=change.entitlement_id, now=now, **fields)
    change.refresh_from_db()
    log.info(
        "change settled by supervisor correlation_id=%s outcome=%s user=%s",
        change.correlation_id,
        decision.label,
        user.get_username(),
        extra={**log_fields(change), "user": user.get_username()},
    )
    return change
