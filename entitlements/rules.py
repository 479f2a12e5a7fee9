"""May this entitlement change product, and why not: pure functions, no queries.

Each returns None when the change may go ahead, or the sentence (from messages.py) that tells
the agent why not. Callers pass what they have already read (the open change, the product);
the change service applies them again under the entitlement's row lock.
"""

from django.conf import settings

from . import messages
from .models import ChangeAttempt, Entitlement, Product, Settlement
from .outcomes import Outcome


def status_refusal(entitlement: Entitlement) -> str | None:
    """Only the statuses in CHANGEABLE_STATUSES allow a change."""
    if entitlement.status not in settings.CHANGEABLE_STATUSES:
        return messages.STATUS_FORBIDS.format(status=entitlement.get_status_display())
    return None


def open_change_refusal(change: ChangeAttempt) -> str:
    """Why an open change (its to_product loaded) blocks another one on the same entitlement."""
    if change.outcome == Outcome.AWAITING_CONFIRMATION:
        return messages.PENDING_CHANGE.format(product=change.to_product.name)
    if change.outcome == Outcome.OUTCOME_UNKNOWN:
        return messages.UNKNOWN_OUTCOME
    return messages.CHANGE_IN_PROGRESS


def change_refusal(entitlement: Entitlement, open_change: ChangeAttempt | None) -> str | None:
    """Why `entitlement`, whose open change is `open_change`, cannot change product now."""
    refusal = status_refusal(entitlement)
    if refusal or open_change is None:
        return refusal
    return open_change_refusal(open_change)


def product_refusal(entitlement: Entitlement, product: Product | None) -> str | None:
    """Why `entitlement` cannot move to `product` (None, or never saved: not in the catalogue)."""
    if product is None or product.pk is None:
        return messages.PRODUCT_UNKNOWN
    if not product.active:
        return messages.PRODUCT_INACTIVE
    if product.provider_id != entitlement.provider_id:
        return messages.PRODUCT_OTHER_PROVIDER
    if product.pk == entitlement.product_id:
        return messages.PRODUCT_SAME
    return None


def tier_direction(product: Product, current: Product) -> str:
    """ "upgrade", "downgrade" or "same tier": `product`'s tier number against `current`'s."""
    if product.tier > current.tier:
        return "upgrade"
    if product.tier < current.tier:
        return "downgrade"
    return "same tier"


def reason_fits(reason_code: str, direction: str) -> bool:
    """A reason tied to a direction (CHANGE_REASONS' third part) fits only changes that way."""
    tied_to = settings.CHANGE_REASON_DIRECTIONS.get(reason_code, "any")
    return tied_to == "any" or tied_to == direction


def reason_refusal(reason_code: str, current: Product, product: Product) -> str | None:
    """Why `reason_code` does not fit a change from `current` to `product` (e.g. "Customer
    asked to upgrade" for a downgrade)."""
    direction = tier_direction(product, current)
    if reason_fits(reason_code, direction):
        return None
    return messages.REASON_WRONG_DIRECTION.format(direction=direction)


def ticket_refusal(ticket: str) -> str | None:
    """With CHANGE_TICKET_REQUIRED on, every change names its care interaction."""
    if settings.CHANGE_TICKET_REQUIRED and not ticket.strip():
        return messages.TICKET_REQUIRED


def settlement_from_opf(change: ChangeAttempt, opf_product_id: str | None) -> Settlement | None:
    """What OPF's state answers about `change` (unknown outcome or overdue confirmation), its
    products loaded; None when it answers nothing and a person must look.

    OPF on the new product: applied. OPF on the old product: not applied, but only for an unknown
    outcome; an awaited confirmation may still come, so it stays open. Anything else (another
    product, no such entitlement in OPF): no answer.
    """
    if opf_product_id == change.to_product.opf_id:
        return Settlement.APPLIED
    if opf_product_id == change.from_product.opf_id and change.outcome == Outcome.OUTCOME_UNKNOWN:
        return Settlement.NOT_APPLIED
    return None
