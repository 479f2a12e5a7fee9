"""Reads used by the services, the admin and the views: queries only, no decisions (rules.py)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from .models import ChangeAttempt, ChangeOrigin, Entitlement, NotificationDelivery, Product
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


def provider_confirms_later(provider_id: str) -> bool | None:
    """What OPF answered the last portal change of this provider: 202 (the provider confirms
    later) -> True, 200 -> False, no such change yet -> None. Served by change_provider_time."""
    status = (
        ChangeAttempt.objects.filter(
            provider_id=provider_id, origin=ChangeOrigin.PORTAL, http_status__in=(200, 202)
        )
        .order_by("-created_at", "-id")
        .values_list("http_status", flat=True)
        .first()
    )
    return None if status is None else status == 202


# --- The account page: every entitlement of one customer account ------------------------------


def _newest_change(field: str) -> Subquery:
    """A field of each entitlement's newest change (served by change_entitlement_time)."""
    newest = ChangeAttempt.objects.filter(entitlement=OuterRef("pk")).order_by("-created_at", "-id")
    return Subquery(newest.values(field)[:1])


def account_entitlements(account_id: str) -> QuerySet[Entitlement]:
    """The account's entitlements, each with its newest change's time, outcome and new tier."""
    return (
        Entitlement.objects.filter(account_id=account_id)
        .select_related("product", "pending_product")
        .annotate(
            last_change_at=_newest_change("created_at"),
            last_change_outcome=_newest_change("outcome"),
            last_change_to=_newest_change("to_product__name"),
        )
        .order_by("provider_id", "opf_id")
    )


def account_history(account_id: str) -> QuerySet[ChangeAttempt]:
    """The account's changes across its entitlements, newest first (change_account_time)."""
    return (
        ChangeAttempt.objects.filter(account_id=account_id)
        .select_related("from_product", "to_product")
        .order_by("-created_at", "-id")
    )


def open_changes(entitlement_ids) -> dict[int, ChangeAttempt]:
    """The open change of each of these entitlements that has one, by entitlement id."""
    changes = (
        ChangeAttempt.objects.open()
        .filter(entitlement_id__in=entitlement_ids)
        .select_related("to_product")
    )
    return {change.entitlement_id: change for change in changes}


def waiting_changes_of(username: str) -> QuerySet[ChangeAttempt]:
    """An agent's own changes still awaiting the provider's confirmation, oldest first."""
    return (
        ChangeAttempt.objects.filter(outcome=Outcome.AWAITING_CONFIRMATION, actor_username=username)
        .select_related("from_product", "to_product")
        .order_by("created_at", "id")
    )


def entitlement_state(pk: int) -> dict | None:
    """What the waiting-change poll needs: one read by primary key, with the product's name."""
    return (
        Entitlement.objects.filter(pk=pk)
        .values("version", "product_id", "product__name", "pending_product_id")
        .first()
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


def open_counts(now: datetime | None = None) -> dict[str, int]:
    """Changes in flight, awaiting confirmation, overdue among those, of unknown outcome (one
    query over the open changes only): the dashboard's, the metrics' and Needs attention's."""
    awaiting = Q(outcome=Outcome.AWAITING_CONFIRMATION)
    return ChangeAttempt.objects.open().aggregate(  # a settled change is not open
        in_flight=Count("id", filter=Q(outcome=Outcome.IN_FLIGHT)),
        awaiting=Count("id", filter=awaiting),
        overdue=Count("id", filter=awaiting & Q(created_at__lt=confirmation_cutoff(now))),
        unknown=Count("id", filter=Q(outcome=Outcome.OUTCOME_UNKNOWN)),
    )


def attention_count(now: datetime | None = None) -> int:
    """How many things need a supervisor: the overdue and unknown changes of open_counts(), the
    rest read over their indexes for at most ATTENTION_COUNT_CAP ids each (no COUNT over a
    large table)."""
    counts = open_counts(now)
    changes = counts["overdue"] + counts["unknown"]
    total = min(changes, ATTENTION_COUNT_CAP)
    for part in (notifications_for_review(), entitlements_for_review()):
        if total >= ATTENTION_COUNT_CAP:
            break
        total += len(part.order_by().values_list("pk", flat=True)[: ATTENTION_COUNT_CAP - total])
    return total
