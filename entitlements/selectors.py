"""Reads used by the services, the admin and the views: queries only, no decisions (rules.py)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import ChangeAttempt, Entitlement, NotificationDelivery, Product
from .outcomes import Outcome


def open_change(entitlement: Entitlement) -> ChangeAttempt | None:
    """The change in flight, awaiting confirmation or of unknown outcome, if any (at most one)."""
    return (
        ChangeAttempt.objects.open()
        .filter(entitlement=entitlement)
        .select_related("to_product")
        .first()
    )


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


def confirmation_cutoff(now: datetime | None) -> datetime:
    deadline = settings.CONFIRMATION_DEADLINE  # seconds; a timedelta is understood too
    if not isinstance(deadline, timedelta):
        deadline = timedelta(seconds=deadline)
    return (now or timezone.now()) - deadline


def is_overdue(change: ChangeAttempt, now: datetime | None = None) -> bool:
    """Whether `change`, awaiting confirmation, has waited past CONFIRMATION_DEADLINE."""
    return (
        change.outcome == Outcome.AWAITING_CONFIRMATION
        and change.created_at < confirmation_cutoff(now)
    )


def overdue_changes(now: datetime | None = None) -> QuerySet[ChangeAttempt]:
    """Changes still awaiting the provider's confirmation CONFIRMATION_DEADLINE after they were
    made, newest first (matrix row R3)."""
    return (
        ChangeAttempt.objects.open()
        .filter(outcome=Outcome.AWAITING_CONFIRMATION, created_at__lt=confirmation_cutoff(now))
        .select_related("from_product", "to_product", "entitlement")
        .order_by("-created_at", "-id")
    )


def unknown_outcome_changes() -> QuerySet[ChangeAttempt]:
    """Changes OPF may or may not have made, for a supervisor to reconcile; newest first."""
    return (
        ChangeAttempt.objects.open()
        .filter(outcome=Outcome.OUTCOME_UNKNOWN)
        .select_related("from_product", "to_product", "entitlement")
        .order_by("-created_at", "-id")
    )


def notifications_for_review() -> QuerySet[NotificationDelivery]:
    """OPF notifications the portal could not apply (unknown entitlement, no matching change)."""
    return NotificationDelivery.objects.filter(needs_review=True).order_by("-received_at", "-id")


def entitlements_for_review() -> QuerySet[Entitlement]:
    """Entitlements flagged for review (OPF did not know them, a change is unresolved, OPF showed
    a product not in the catalogue), newest first, through the partial index."""
    return Entitlement.objects.filter(needs_review=True).select_related("product").order_by("-id")


ATTENTION_COUNT_CAP = 1000  # "1000+" beyond: a count that stays cheap whatever happens


def attention_count(now: datetime | None = None) -> int:
    """How many things need a supervisor, the changes counted in one query over the open ones
    (the partial index's few rows), the rest read over their indexes for at most
    ATTENTION_COUNT_CAP ids each (no COUNT over a large table)."""
    changes = ChangeAttempt.objects.open().aggregate(
        n=Count(
            "id",
            filter=Q(outcome=Outcome.OUTCOME_UNKNOWN)
            | Q(outcome=Outcome.AWAITING_CONFIRMATION, created_at__lt=confirmation_cutoff(now)),
        )
    )["n"]
    total = min(changes, ATTENTION_COUNT_CAP)
    for part in (notifications_for_review(), entitlements_for_review()):
        if total >= ATTENTION_COUNT_CAP:
            break
        total += len(part.order_by().values_list("pk", flat=True)[: ATTENTION_COUNT_CAP - total])
    return total
