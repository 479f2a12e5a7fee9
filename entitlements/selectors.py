"""Reads used by the service, the admin and the views."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from . import messages
from .models import ChangeAttempt, Entitlement, NotificationDelivery, Product
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
    return refusal_given_open_change(entitlement, open_change(entitlement))


def refusal_given_open_change(
    entitlement: Entitlement, current: ChangeAttempt | None
) -> str | None:
    """entitlement_refusal for a caller that has already read the open change."""
    refusal = entitlement_status_refusal(entitlement)
    if refusal or current is None:
        return refusal
    return open_change_refusal(current)


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


# --- Supervisors: changes that need a person (issue 5) ----------------------------------------


def _confirmation_cutoff(now: datetime | None) -> datetime:
    deadline = settings.CONFIRMATION_DEADLINE  # seconds; a timedelta is understood too
    if not isinstance(deadline, timedelta):
        deadline = timedelta(seconds=deadline)
    return (now or timezone.now()) - deadline


def overdue_changes(now: datetime | None = None) -> QuerySet[ChangeAttempt]:
    """Changes still awaiting the provider's confirmation CONFIRMATION_DEADLINE after they were
    made, newest first (matrix row R3)."""
    return (
        ChangeAttempt.objects.filter(
            outcome=Outcome.AWAITING_CONFIRMATION, created_at__lt=_confirmation_cutoff(now)
        )
        .select_related("from_product", "to_product", "entitlement")
        .order_by("-created_at", "-id")
    )


def is_overdue(change: ChangeAttempt, now: datetime | None = None) -> bool:
    return (
        change.outcome == Outcome.AWAITING_CONFIRMATION
        and change.created_at < _confirmation_cutoff(now)
    )


def unknown_outcome_changes() -> QuerySet[ChangeAttempt]:
    """Changes OPF may or may not have made, for a supervisor to reconcile; newest first."""
    return (
        ChangeAttempt.objects.filter(outcome=Outcome.OUTCOME_UNKNOWN)
        .select_related("from_product", "to_product", "entitlement")
        .order_by("-created_at", "-id")
    )


def notifications_for_review() -> QuerySet[NotificationDelivery]:
    """OPF notifications the portal could not apply (unknown entitlement, no matching change)."""
    return NotificationDelivery.objects.filter(needs_review=True).order_by("-received_at", "-id")


def open_change_counts(now: datetime | None = None) -> dict[str, int]:
    """How many changes are in flight, awaiting confirmation (of which overdue), of unknown
    outcome: one COUNT over the open changes only (the partial index of open changes,
    one_open_change_per_entitlement, on PostgreSQL; the finished millions are never read)."""
    awaiting = Q(outcome=Outcome.AWAITING_CONFIRMATION)
    return ChangeAttempt.objects.filter(outcome__in=sorted(BLOCKING)).aggregate(
        in_flight=Count("pk", filter=Q(outcome=Outcome.IN_FLIGHT)),
        awaiting_confirmation=Count("pk", filter=awaiting),
        overdue=Count("pk", filter=awaiting & Q(created_at__lt=_confirmation_cutoff(now))),
        outcome_unknown=Count("pk", filter=Q(outcome=Outcome.OUTCOME_UNKNOWN)),
    )
