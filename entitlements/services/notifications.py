"""OPF notifications: confirmations and declines of awaited changes, provider changes, status.

OPF calls the portal back after a 202 and when a customer changes tier at the provider
(docs/notifications.md). Each delivery is applied once: its NotificationDelivery row (unique
webhook id) is written in the same transaction as its effect. Locks are taken in the order
record_outcome uses: the open change (if any), then the entitlement; with both held, a copy of
the delivery that committed meanwhile is visible and recognised.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from ..audit_chain import seal, sealed_transaction
from ..models import (
    ChangeAttempt,
    ChangeOrigin,
    DeliveryResult,
    Entitlement,
    NotificationDelivery,
    Product,
)
from ..notifications.payload import EventType, Notification
from ..outcomes import BLOCKING, Outcome
from .audit import finish_change, log_fields, record_change, utc_text
from .mirror import flag_for_review, update_mirror

log = logging.getLogger(__name__)

DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Effect:
    """What one notification did, as stored on its delivery row."""

    result: DeliveryResult
    detail: str
    change: ChangeAttempt | None = None
    needs_review: bool = False


@dataclass(frozen=True)
class AppliedNotification:
    result: str  # a DeliveryResult value, or DUPLICATE
    detail: str
    delivery_id: int | None


class _Duplicate(Exception):
    pass


def apply_notification(
    *,
    notification: Notification,
    webhook_id: str,
    sent_at: datetime,
    body: str,
    headers: dict[str, str],
    remote_addr: str = "",
) -> AppliedNotification:
    """Apply one authenticated OPF notification exactly once and keep it in the delivery log.

    A delivery already applied (same `webhook_id`, even one committing at this very moment in
    another process) changes nothing and returns DUPLICATE.
    """
    # Cheap check without the write lock: OPF's retries of a delivery we applied stop here.
    if NotificationDelivery.objects.filter(webhook_id=webhook_id).exists():
        return AppliedNotification(DUPLICATE, "already received", None)
    try:
        with sealed_transaction():
            entitlement = _lock_for_notification(notification)
            if NotificationDelivery.objects.filter(webhook_id=webhook_id).exists():
                raise _Duplicate
            now = timezone.now()
            effect = _effect_of(notification, entitlement, now)
            delivery = NotificationDelivery.objects.create(
                webhook_id=webhook_id,
                received_at=now,
                sent_at=sent_at,
                **_delivery_fields(notification),
                entitlement=entitlement,
                change=effect.change,
                result=effect.result,
                detail=effect.detail,
                needs_review=effect.needs_review,
                body=body,
                headers=headers,
                remote_addr=remote_addr,
            )
            seal(kind="notification.kept", subject=delivery)
    except _Duplicate:
        return AppliedNotification(DUPLICATE, "already received", None)
    except IntegrityError:
        # A concurrent copy of this delivery committed first (PostgreSQL: our insert waited
        # for it); everything above was rolled back with this transaction.
        if NotificationDelivery.objects.filter(webhook_id=webhook_id).exists():
            return AppliedNotification(DUPLICATE, "already received", None)
        raise
    log.log(
        logging.WARNING if effect.needs_review else logging.INFO,
        "opf notification %s webhook_id=%s event=%s entitlement=%r correlation_id=%s: %s",
        effect.result,
        webhook_id,
        notification.event_type,
        notification.entitlement_id,
        effect.change.correlation_id if effect.change else notification.correlation_id,
        effect.detail,
        extra=log_fields(effect.change) if effect.change else {},
    )
    return AppliedNotification(effect.result, effect.detail, delivery.pk)


def _effect_of(notification: Notification, entitlement: Entitlement | None, now) -> Effect:
    if entitlement is None:
        return Effect(
            DeliveryResult.UNKNOWN_ENTITLEMENT,
            "No entitlement with this id in the portal; kept for review.",
            needs_review=True,
        )
    return _NOTIFICATION_EFFECTS[notification.event_type](
        entitlement=entitlement, notification=notification, now=now
    )


def _delivery_fields(notification: Notification) -> dict:
    """What the delivery row keeps of the notification as OPF sent it."""
    return {
        "event_type": notification.event_type.value,
        "entitlement_opf_id": notification.entitlement_id,
        "product_opf_id": notification.product_id,
        "status": notification.status,
        "occurred_at": notification.occurred_at,
        "correlation_id": notification.correlation_id,
    }


def _lock_for_notification(notification: Notification) -> Entitlement | None:
    """Lock what the notification may change, in record_outcome's order; the entitlement."""
    entitlements = Entitlement.objects.select_for_update(of=("self",)).select_related("product")
    if notification.event_type not in (EventType.CHANGE_CONFIRMED, EventType.CHANGE_DECLINED):
        return entitlements.filter(opf_id=notification.entitlement_id).first()
    entitlement_id = (
        Entitlement.objects.filter(opf_id=notification.entitlement_id)
        .values_list("pk", flat=True)
        .first()
    )
    if entitlement_id is None:
        return None
    # The only change a confirmation or decline can still move (at most one is open).
    list(
        ChangeAttempt.objects.open()
        .select_for_update(of=("self",))
        .filter(entitlement_id=entitlement_id)
        .values_list("pk", flat=True)
    )
    return entitlements.filter(pk=entitlement_id).first()


def _reported(notification: Notification, now: datetime) -> datetime:
    # A clock ahead of ours must not make every later notification look old.
    return min(notification.occurred_at, now)


def _when(notification: Notification) -> str:
    return utc_text(notification.occurred_at)


def _is_older(moment: datetime, last: datetime | None) -> bool:
    return last is not None and moment < last


def _awaited_change(entitlement: Entitlement, notification: Notification):
    """The change a confirmation or decline is about, or why none matches.

    Read with a lock: an open one is already ours (_lock_for_notification), so this re-reads it
    without waiting; a finished one never changes.
    """
    changes = ChangeAttempt.objects.select_for_update(of=("self",)).select_related(
        "from_product",
        "to_product",  # both sealed with the record
    )
    if notification.correlation_id:
        change = changes.filter(correlation_id=notification.correlation_id).first()
        if change is None:
            return None, "No change with this correlation id."
        if change.entitlement_id != entitlement.pk:
            return None, "The correlation id belongs to a change of another entitlement."
        if change.to_product.opf_id != notification.product_id:
            return None, f"That change was to {change.to_product.opf_id}, not to this product."
        return change, ""
    same_target = changes.filter(
        entitlement=entitlement,
        origin=ChangeOrigin.PORTAL,
        to_product__opf_id=notification.product_id,
    )
    change = same_target.open().first()
    if change is None:
        # A repeat of one already applied is harmless; anything else needs a look.
        change = same_target.filter(
            Q(outcome__in=[Outcome.CONFIRMED, Outcome.DECLINED]) | ~Q(settlement="")
        ).first()
    if change is None:
        return None, "No change to this product is awaiting confirmation."
    return change, ""


def _settle_awaited_change(
    *, entitlement: Entitlement, notification: Notification, now: datetime
) -> Effect:
    confirmed = notification.event_type == EventType.CHANGE_CONFIRMED
    decision = Outcome.CONFIRMED if confirmed else Outcome.DECLINED
    change, why_not = _awaited_change(entitlement, notification)
    if change is None:
        return Effect(DeliveryResult.UNMATCHED, why_not + " Kept for review.", needs_review=True)
    if change.outcome == decision or (confirmed and change.outcome == Outcome.COMPLETED):
        label = Outcome(change.outcome).label
        return Effect(DeliveryResult.ALREADY_APPLIED, f"The change was already {label}.")
    if change.settlement:
        return Effect(
            DeliveryResult.UNMATCHED,
            f"The change was {change.get_settlement_display()} before; it stays so. Kept for "
            "review.",
            change=change,
            needs_review=True,
        )
    if change.outcome not in BLOCKING:
        # Settled otherwise (e.g. confirmed, then declined): never moved backwards.
        return Effect(
            DeliveryResult.UNMATCHED,
            f"The change is already {Outcome(change.outcome).label}; it stays so. Kept for review.",
            change=change,
            needs_review=True,
        )
    # In flight too: OPF's notification overtook its own 202 (record_outcome then ignores it).
    previous = Outcome(change.outcome)
    said = f"{decision.label.capitalize()} by the provider at {_when(notification)}."
    detail = f"Change {previous.label} -> {decision.label}."
    fields = {"pending_product": None, "pending_since": None}
    if confirmed:
        reported = _reported(notification, now)
        if _is_older(reported, entitlement.product_reported_at):
            detail += " The mirror keeps the newer product OPF reported since."
        else:
            fields.update(product_id=change.to_product_id, product_reported_at=reported)
            detail += f" Product is now {change.to_product.opf_id}."
    finish_change(
        change=change,
        was=previous,  # locked by _lock_for_notification: it cannot have moved since
        outcome=decision,
        detail=f"{change.detail} {said}".strip(),
        finished_at=now,
        mirror=fields,  # the entitlement moves with the record, as for the change flow's finish
    )
    return Effect(DeliveryResult.APPLIED, detail, change=change)


def _record_provider_change(
    *, entitlement: Entitlement, notification: Notification, now: datetime
) -> Effect:
    product = Product.objects.filter(opf_id=notification.product_id).first()
    if product is None or product.provider_id != entitlement.provider_id:
        flag_for_review(entitlement_id=entitlement.pk, now=now)
        why = "not in the catalogue" if product is None else "of another provider"
        return Effect(
            DeliveryResult.UNMATCHED,
            f"Product {notification.product_id} is {why}; mirror unchanged, kept for review.",
            needs_review=True,
        )
    reported = _reported(notification, now)
    # Ordered by what OPF says happened, never by when the portal heard of it: the newest fact
    # is kept in product_reported_at (a portal change's at the time OPF answered it).
    if _is_older(reported, entitlement.product_reported_at):
        return Effect(DeliveryResult.STALE, "The product changed again since; ignored.")
    if product.pk == entitlement.product_id:
        return Effect(DeliveryResult.ALREADY_APPLIED, f"Already on {product.opf_id}.")
    # A change awaiting confirmation is left as it is: the provider may still confirm or
    # decline it, and its own notification settles it (docs/notifications.md).
    previous = entitlement.product
    change = record_change(
        entitlement=entitlement,
        to_product=product,
        reason_code="provider_change",
        origin=ChangeOrigin.PROVIDER,
        actor_username=ChangeOrigin.PROVIDER.value,
        actor_name=f"{entitlement.provider_id} (reported by OPF)",
        outcome=Outcome.COMPLETED,
        detail=(
            f"Made by the customer at the provider at {_when(notification)}; reported by an OPF "
            "notification, nothing was sent to OPF."
        ),
        finished_at=now,
    )
    update_mirror(
        entitlement_id=entitlement.pk, now=now, product=product, product_reported_at=reported
    )
    return Effect(
        DeliveryResult.APPLIED,
        f"Changed at the provider: {previous.opf_id} -> {product.opf_id}.",
        change=change,
    )


def _record_status_change(
    *, entitlement: Entitlement, notification: Notification, now: datetime
) -> Effect:
    reported = _reported(notification, now)
    if _is_older(reported, entitlement.status_reported_at):
        return Effect(DeliveryResult.STALE, "The status changed again since; ignored.")
    if notification.status == entitlement.status:
        return Effect(DeliveryResult.ALREADY_APPLIED, f"Already {notification.status}.")
    detail = f"Status {entitlement.status} -> {notification.status}."
    update_mirror(
        entitlement_id=entitlement.pk,
        now=now,
        status=notification.status,
        status_reported_at=reported,
    )
    return Effect(DeliveryResult.APPLIED, detail)


_NOTIFICATION_EFFECTS = {
    EventType.CHANGE_CONFIRMED: _settle_awaited_change,
    EventType.CHANGE_DECLINED: _settle_awaited_change,
    EventType.PRODUCT_CHANGED_AT_PROVIDER: _record_provider_change,
    EventType.STATUS_CHANGED: _record_status_change,
}
