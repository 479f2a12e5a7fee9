"""Writes: the only code that calls OPF.

`change_product` records every attempt before OPF is called and its outcome after, calls OPF
outside any transaction or row lock, and updates the mirror from the outcome.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from careportal.logs import add_to_change_log_context, change_log_context

from . import messages
from .models import (
    ChangeAttempt,
    DeliveryResult,
    Entitlement,
    NotificationDelivery,
    Product,
    new_correlation_id,
)
from .notifications.payload import EventType, Notification
from .opf import ChangeProductResult, InvalidIdentifier, OpfClient, OpfConfig
from .opf.client import validate_identifier
from .outcomes import BLOCKING, Outcome
from .selectors import (
    entitlement_status_refusal,
    open_change,
    open_change_refusal,
    product_refusal,
)

log = logging.getLogger(__name__)


class ChangeRefused(Exception):
    """The change was refused before anything was sent; the message is for the agent."""


class StaleEntitlement(ChangeRefused):
    pass


class ChangeInProgress(ChangeRefused):
    pass


@lru_cache(maxsize=1)
def get_opf_client() -> OpfClient:
    """One client per process: its pooled session keeps connections to OPF alive."""
    return OpfClient(
        OpfConfig(
            base_url=settings.OPF_BASE_URL,
            token_url=settings.OPF_TOKEN_URL,
            token_grant=settings.OPF_TOKEN_GRANT,
            client_id=settings.OPF_CLIENT_ID,
            client_secret=settings.OPF_CLIENT_SECRET,
            username=settings.OPF_USERNAME,
            password=settings.OPF_PASSWORD,
            tenant_id=settings.OPF_TENANT_ID,
            connect_timeout=settings.OPF_CONNECT_TIMEOUT,
            read_timeout=settings.OPF_READ_TIMEOUT,
        ),
        cache=cache,
    )


@receiver(setting_changed)
def _forget_opf_client(*, setting: str, **kwargs) -> None:
    if setting.startswith("OPF_"):
        get_opf_client.cache_clear()


def _actor(user) -> dict[str, str]:
    identity = getattr(user, "sso_identity", None)
    return {
        "actor_username": user.get_username(),
        "actor_subject": getattr(identity, "subject", "") or "",
        "actor_name": user.get_full_name() if hasattr(user, "get_full_name") else "",
    }


def _valid_reason(reason_code: str) -> bool:
    return reason_code in {code for code, _label in settings.CHANGE_REASONS}


def change_product(
    *,
    entitlement: Entitlement,
    new_product: Product,
    user,
    reason_code: str,
    comment: str = "",
    expected_version: int | None = None,
) -> ChangeAttempt:
    """Move `entitlement` to `new_product` in OPF and return the finished audit record.

    Raises ChangeRefused (with a message for the agent) when nothing was sent.
    `expected_version` is the entitlement version the agent's form was opened on.
    """
    if not _valid_reason(reason_code):
        raise ChangeRefused(messages.REASON_REQUIRED)
    try:
        validate_identifier(entitlement.opf_id)
        validate_identifier(new_product.opf_id)
    except InvalidIdentifier as exc:
        raise ChangeRefused(messages.INVALID_IDENTIFIER) from exc

    attempt = _record_intent(
        entitlement=entitlement,
        new_product=new_product,
        user=user,
        reason_code=reason_code,
        comment=comment,
        expected_version=expected_version,
    )
    # Every line logged until the outcome is recorded is about this change (JSON logs).
    with change_log_context(**_log_fields(attempt)):
        log.info(
            "change_product start correlation_id=%s entitlement=%s from=%s to=%s user=%s",
            attempt.correlation_id,
            attempt.entitlement_opf_id,
            attempt.from_product.opf_id,
            new_product.opf_id,
            attempt.actor_username,
        )
        return record_outcome(attempt=attempt, result=_call_opf(attempt, new_product))


def _log_fields(attempt: ChangeAttempt, outcome: str = "") -> dict[str, str]:
    return {
        "correlation_id": attempt.correlation_id,
        "user": attempt.actor_username,
        "entitlement": attempt.entitlement_opf_id,
        "outcome": outcome,
    }


def _call_opf(attempt: ChangeAttempt, new_product: Product) -> ChangeProductResult:
    try:
        return get_opf_client().change_product(
            entitlement_id=attempt.entitlement_opf_id,
            product_id=new_product.opf_id,
            correlation_id=attempt.correlation_id,
        )
    except Exception:
        # A bug of ours mid-call: we cannot tell whether OPF got the request.
        log.exception("change_product crashed correlation_id=%s", attempt.correlation_id)
        return ChangeProductResult(
            outcome=Outcome.OUTCOME_UNKNOWN,
            correlation_id=attempt.correlation_id,
            http_status=None,
            response_body="",
            opf_message="",
            attempts=(),
            duration_ms=0.0,
            detail="The portal failed while calling OPF; OPF may have received the change.",
        )


def _record_intent(
    *,
    entitlement: Entitlement,
    new_product: Product,
    user,
    reason_code: str,
    comment: str,
    expected_version: int | None,
) -> ChangeAttempt:
    try:
        with transaction.atomic():
            current = (
                Entitlement.objects.select_for_update()
                .select_related("product")
                .get(pk=entitlement.pk)
            )
            if expected_version is not None and current.version != expected_version:
                raise StaleEntitlement(messages.STALE_ENTITLEMENT)
            refusal = entitlement_status_refusal(current) or product_refusal(current, new_product)
            if refusal:
                raise ChangeRefused(refusal)
            # The partial unique index lets one open change per entitlement exist, whatever
            # the number of agents and processes: a second one fails here.
            return ChangeAttempt.objects.create(
                correlation_id=new_correlation_id(),
                user=user,
                **_actor(user),
                **ChangeAttempt.entitlement_snapshot(current),
                from_product=current.product,
                to_product=new_product,
                reason_code=reason_code,
                comment=comment,
                outcome=Outcome.IN_FLIGHT,
            )
    except IntegrityError as exc:
        # Asked only now, outside the failed transaction, to say what blocks the change.
        blocking = open_change(entitlement)
        refusal = open_change_refusal(blocking) if blocking else messages.CHANGE_IN_PROGRESS
        raise ChangeInProgress(refusal) from exc


def record_outcome(*, attempt: ChangeAttempt, result: ChangeProductResult) -> ChangeAttempt:
    """Store OPF's answer on the attempt and bring the mirror in line with it."""
    now = timezone.now()
    answer = {
        "outcome": result.outcome.value,
        "http_status": result.http_status,
        "response_body": result.response_body,
        "opf_message": result.opf_message,
        "detail": result.detail,
        "http_attempts": [
            {"http_status": a.http_status, "duration_ms": round(a.duration_ms, 1), "note": a.note}
            for a in result.attempts
        ],
        "duration_ms": round(result.duration_ms),
        "finished_at": now,
    }
    with transaction.atomic():
        # Lock order: the change, then its entitlement (the notification handler's order too).
        # The conditional update is the lock and the "still in flight?" check in one statement.
        recorded = ChangeAttempt.objects.filter(pk=attempt.pk, outcome=Outcome.IN_FLIGHT).update(
            **answer
        )
        if recorded:
            _apply_to_mirror(attempt, result.outcome, now)
    if not recorded:
        # A notification (or a reconcile) got there first; never move it backwards.
        attempt.refresh_from_db()
        add_to_change_log_context(outcome=attempt.outcome)
        log.info(
            "change_product late answer ignored correlation_id=%s outcome=%s http_status=%s",
            attempt.correlation_id,
            attempt.outcome,
            result.http_status,
            extra=_log_fields(attempt, attempt.outcome),
        )
        return attempt
    for field, value in answer.items():
        setattr(attempt, field, value)
    attempt._loaded_outcome = attempt.outcome
    add_to_change_log_context(outcome=attempt.outcome)
    log.log(
        logging.WARNING if result.outcome == Outcome.OUTCOME_UNKNOWN else logging.INFO,
        "change_product %s correlation_id=%s entitlement=%s http_status=%s duration_ms=%d",
        result.outcome.label,
        attempt.correlation_id,
        attempt.entitlement_opf_id,
        result.http_status,
        result.duration_ms,
        extra=_log_fields(attempt, attempt.outcome),
    )
    return attempt


def _apply_to_mirror(attempt: ChangeAttempt, outcome: Outcome, now) -> None:
    if outcome == Outcome.COMPLETED:
        changes = {
            "product_id": attempt.to_product_id,
            "pending_product": None,
            "pending_since": None,
        }
    elif outcome == Outcome.AWAITING_CONFIRMATION:
        changes = {"pending_product_id": attempt.to_product_id, "pending_since": now}
    elif outcome in (Outcome.NOT_FOUND, Outcome.OUTCOME_UNKNOWN):
        changes = {"needs_review": True}
    else:
        return  # rejected or not sent: the mirror is as it was
    Entitlement.objects.filter(pk=attempt.entitlement_id).update(
        **changes, version=F("version") + 1, updated_at=now
    )


def mark_unfinished_as_unknown(*, older_than_seconds: float) -> list[ChangeAttempt]:
    """Turn attempts left "in flight" by a dead process into "outcome unknown".

    Nothing is resent: the request may have reached OPF, so a supervisor reconciles it.
    """
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    stale = ChangeAttempt.objects.filter(outcome=Outcome.IN_FLIGHT, created_at__lt=cutoff).order_by(
        "created_at"
    )
    marked = []
    for attempt in stale:
        result = ChangeProductResult(
            outcome=Outcome.OUTCOME_UNKNOWN,
            correlation_id="",
            http_status=None,
            response_body="",
            opf_message="",
            detail="The portal stopped before OPF's answer was recorded; nothing was resent.",
            attempts=(),
            duration_ms=0.0,
        )
        attempt = record_outcome(attempt=attempt, result=result)
        if attempt.outcome == Outcome.OUTCOME_UNKNOWN:
            marked.append(attempt)
    return marked


# --- OPF notifications (issue 5) ------------------------------------------------------------
# OPF calls the portal back after a 202 and when a customer changes tier at the provider. Each
# delivery is applied once: its NotificationDelivery row (unique webhook id) is written in the
# same transaction as its effect. Locks are taken in the order record_outcome uses: the open
# change (if any), then the entitlement; with both held, a copy of the delivery that committed
# meanwhile is visible and recognised.

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
        with transaction.atomic():
            entitlement = _lock_for_notification(notification)
            if NotificationDelivery.objects.filter(webhook_id=webhook_id).exists():
                raise _Duplicate
            now = timezone.now()
            if entitlement is None:
                effect = Effect(
                    DeliveryResult.UNKNOWN_ENTITLEMENT,
                    "No entitlement with this id in the portal; kept for review.",
                    needs_review=True,
                )
            else:
                effect = _NOTIFICATION_EFFECTS[notification.event_type](
                    entitlement=entitlement, notification=notification, now=now
                )
            delivery = NotificationDelivery.objects.create(
                webhook_id=webhook_id,
                received_at=now,
                sent_at=sent_at,
                event_type=notification.event_type.value,
                entitlement_opf_id=notification.entitlement_id,
                product_opf_id=notification.product_id,
                status=notification.status,
                occurred_at=notification.occurred_at,
                correlation_id=notification.correlation_id,
                entitlement=entitlement,
                change=effect.change,
                result=effect.result,
                detail=effect.detail,
                needs_review=effect.needs_review,
                body=body,
                headers=headers,
                remote_addr=remote_addr,
            )
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
        extra=_log_fields(effect.change, effect.change.outcome) if effect.change else {},
    )
    return AppliedNotification(effect.result, effect.detail, delivery.pk)


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
        ChangeAttempt.objects.select_for_update()
        .filter(entitlement_id=entitlement_id, outcome__in=sorted(BLOCKING))
        .values_list("pk", flat=True)
    )
    return entitlements.filter(pk=entitlement_id).first()


def _reported(notification: Notification, now: datetime) -> datetime:
    # A clock ahead of ours must not make every later notification look old.
    return min(notification.occurred_at, now)


def _when(notification: Notification) -> str:
    return notification.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _is_older(moment: datetime, last: datetime | None) -> bool:
    return last is not None and moment < last


def _awaited_change(entitlement: Entitlement, notification: Notification):
    """The change a confirmation or decline is about, or why none matches.

    Read with a lock: an open one is already ours (_lock_for_notification), so this re-reads it
    without waiting; a finished one never changes.
    """
    changes = ChangeAttempt.objects.select_for_update(of=("self",)).select_related("to_product")
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
        entitlement=entitlement, origin="portal", to_product__opf_id=notification.product_id
    )
    change = same_target.filter(outcome__in=sorted(BLOCKING)).first()
    if change is None:
        # A repeat of one already applied is harmless; anything else needs a look.
        change = same_target.filter(outcome__in=[Outcome.CONFIRMED, Outcome.DECLINED]).first()
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
    change.outcome = decision
    change.finished_at = now
    change.detail = f"{change.detail} {said}".strip()
    change.save(update_fields=["outcome", "finished_at", "detail"])

    detail = f"Change {previous.label} -> {decision.label}."
    if confirmed:
        reported = _reported(notification, now)
        if _is_older(reported, entitlement.product_reported_at):
            detail += " The mirror keeps the newer product OPF reported since."
        else:
            entitlement.product_id = change.to_product_id
            entitlement.product_reported_at = reported
            detail += f" Product is now {change.to_product.opf_id}."
    entitlement.pending_product = None
    entitlement.pending_since = None
    entitlement.version += 1
    entitlement.save()
    return Effect(DeliveryResult.APPLIED, detail, change=change)


def _record_provider_change(
    *, entitlement: Entitlement, notification: Notification, now: datetime
) -> Effect:
    product = Product.objects.filter(opf_id=notification.product_id).first()
    if product is None or product.provider_id != entitlement.provider_id:
        entitlement.needs_review = True
        entitlement.save(update_fields=["needs_review", "updated_at"])
        why = "not in the catalogue" if product is None else "of another provider"
        return Effect(
            DeliveryResult.UNMATCHED,
            f"Product {notification.product_id} is {why}; mirror unchanged, kept for review.",
            needs_review=True,
        )
    reported = _reported(notification, now)
    if _is_older(reported, entitlement.product_reported_at) or (
        ChangeAttempt.objects.filter(
            entitlement=entitlement, outcome=Outcome.COMPLETED, finished_at__gt=reported
        ).exists()
    ):
        return Effect(DeliveryResult.STALE, "The product changed again since; ignored.")
    if product.pk == entitlement.product_id:
        return Effect(DeliveryResult.ALREADY_APPLIED, f"Already on {product.opf_id}.")
    # A change awaiting confirmation is left as it is: the provider may still confirm or
    # decline it, and its own notification settles it (docs/notifications.md).
    previous = entitlement.product
    change = ChangeAttempt.objects.create(
        origin="provider",
        user=None,
        actor_username="provider",
        actor_name=f"{entitlement.provider_id} (reported by OPF)",
        **ChangeAttempt.entitlement_snapshot(entitlement),
        from_product=previous,
        to_product=product,
        reason_code="provider_change",
        outcome=Outcome.COMPLETED,
        detail=(
            f"Made by the customer at the provider at {_when(notification)}; reported by an OPF "
            "notification, nothing was sent to OPF."
        ),
        finished_at=now,
    )
    entitlement.product = product
    entitlement.product_reported_at = reported
    entitlement.version += 1
    entitlement.save()
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
    entitlement.status = notification.status
    entitlement.status_reported_at = reported
    entitlement.version += 1
    entitlement.save()
    return Effect(DeliveryResult.APPLIED, detail)


_NOTIFICATION_EFFECTS = {
    EventType.CHANGE_CONFIRMED: _settle_awaited_change,
    EventType.CHANGE_DECLINED: _settle_awaited_change,
    EventType.PRODUCT_CHANGED_AT_PROVIDER: _record_provider_change,
    EventType.STATUS_CHANGED: _record_status_change,
}


# --- Supervisors settle a change of unknown outcome -------------------------------------------


def settle_unknown_change(
    *, attempt: ChangeAttempt, applied: bool, user, note: str
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
        f"Settled by supervisor {user.get_username()} at "
        f"{now.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}: OPF shows the change "
        f"{found}. Note: {note}"
    )
    with transaction.atomic():
        # The same order and the same "still open?" check as record_outcome.
        settled = ChangeAttempt.objects.filter(
            pk=attempt.pk, outcome=Outcome.OUTCOME_UNKNOWN
        ).update(
            outcome=decision.value,
            finished_at=now,
            # Appended: the client's reason for "unknown" stays readable beside the settlement.
            detail=f"{attempt.detail} {said}".strip(),
        )
        if not settled:
            raise ChangeRefused(messages.SETTLEMENT_NOT_UNKNOWN)
        changes = {"needs_review": False, "version": F("version") + 1, "updated_at": now}
        if applied:
            changes["product_id"] = attempt.to_product_id
        Entitlement.objects.filter(pk=attempt.entitlement_id).update(**changes)
    attempt.refresh_from_db()
    log.info(
        "change settled by supervisor correlation_id=%s outcome=%s user=%s",
        attempt.correlation_id,
        decision.label,
        user.get_username(),
        extra={**_log_fields(attempt, attempt.outcome), "user": user.get_username()},
    )
    return attempt
