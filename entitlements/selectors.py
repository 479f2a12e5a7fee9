"""Reads used by the service, the admin and the views."""

from django.conf import settings
from django.db.models import QuerySet

from . import messages
from .models import ChangeAttempt, Entitlement, Product
from .outcomes import BLOCKING, Outcome


def open_change(entitlement: Entitlement) -> ChangeAttempt | None:
    """The change in flight, awaiting confirmation or of unknown outcome, if any (at most one)."""
    return (
        ChangeAttempt.objects.filter(entitlement=entitlement, outcome__in=BLOCKING)
        .select_related("to_product")
        .first()
    )


def entitlement_status_refusal(entitlement: Entitlement) -> str | None:
    if entitlement.status not in settings.CHANGEABLE_STATUSES:
        return messages.STATUS_FORBIDS.format(status=entitlement.get_status_display())
    return None


def entitlement_refusal(entitlement: Entitlement) -> str | None:
    """Why this entitlement cannot change product now, or None when it can."""
    refusal = entitlement_status_refusal(entitlement)
    if refusal:
        return refusal
    current = open_change(entitlement)
    return None if current is None else open_change_refusal(current)


def open_change_refusal(change: ChangeAttempt) -> str:
    """Why an open change blocks another one on the same entitlement."""
    if change.outcome == Outcome.AWAITING_CONFIRMATION:
        return messages.PENDING_CHANGE.format(product=change.to_product.name)
    if change.outcome == Outcome.OUTCOME_UNKNOWN:
        return messages.UNKNOWN_OUTCOME
    return messages.CHANGE_IN_PROGRESS


def product_refusal(entitlement: Entitlement, product: Product) -> str | None:
    if product.pk is None:
        return messages.PRODUCT_UNKNOWN
    if not product.active:
        return messages.PRODUCT_INACTIVE
    if product.provider_id != entitlement.provider_id:
        return messages.PRODUCT_OTHER_PROVIDER
    if product.pk == entitlement.product_id:
        return messages.PRODUCT_SAME
    return None


def change_refusal(entitlement: Entitlement, product: Product) -> str | None:
    return entitlement_refusal(entitlement) or product_refusal(entitlement, product)


def allowed_products(entitlement: Entitlement) -> QuerySet[Product]:
    """The tiers an agent may move this entitlement to: active, same provider, not current."""
    return (
        Product.objects.filter(provider_id=entitlement.provider_id, active=True)
        .exclude(pk=entitlement.product_id)
        .order_by("tier", "opf_id")
    )


def change_history(entitlement: Entitlement) -> QuerySet[ChangeAttempt]:
    return (
        ChangeAttempt.objects.filter(entitlement=entitlement)
        .select_related("from_product", "to_product")
        .order_by("-created_at", "-id")
    )
