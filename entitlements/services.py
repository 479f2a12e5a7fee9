"""Writes: the only code that calls OPF.

`change_product` records every attempt before OPF is called and its outcome after, calls OPF
outside any transaction or row lock, and updates the mirror from the outcome.
"""

import logging
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from . import messages
from .models import ChangeAttempt, Entitlement, Product, new_correlation_id
from .opf import ChangeProductResult, InvalidIdentifier, OpfClient, OpfConfig
from .opf.client import validate_identifier
from .outcomes import Outcome
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
    log.info(
        "change_product start correlation_id=%s entitlement=%s from=%s to=%s user=%s",
        attempt.correlation_id,
        attempt.entitlement_opf_id,
        attempt.from_product.opf_id,
        new_product.opf_id,
        attempt.actor_username,
        extra={"correlation_id": attempt.correlation_id},
    )
    try:
        result = get_opf_client().change_product(
            entitlement_id=attempt.entitlement_opf_id,
            product_id=new_product.opf_id,
            correlation_id=attempt.correlation_id,
        )
    except Exception:
        # A bug of ours mid-call: we cannot tell whether OPF got the request.
        log.exception(
            "change_product crashed correlation_id=%s",
            attempt.correlation_id,
            extra={"correlation_id": attempt.correlation_id},
        )
        result = ChangeProductResult(
            outcome=Outcome.OUTCOME_UNKNOWN,
            correlation_id=attempt.correlation_id,
            http_status=None,
            response_body="",
            opf_message="",
            attempts=(),
            duration_ms=0.0,
            detail="The portal failed while calling OPF; OPF may have received the change.",
        )
    return record_outcome(attempt=attempt, result=result)


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
                entitlement=current,
                entitlement_opf_id=current.opf_id,
                account_id=current.account_id,
                provider_id=current.provider_id,
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
        log.info(
            "change_product late answer ignored correlation_id=%s outcome=%s http_status=%s",
            attempt.correlation_id,
            attempt.outcome,
            result.http_status,
            extra={"correlation_id": attempt.correlation_id},
        )
        return attempt
    for field, value in answer.items():
        setattr(attempt, field, value)
    attempt._loaded_outcome = attempt.outcome
    log.log(
        logging.WARNING if result.outcome == Outcome.OUTCOME_UNKNOWN else logging.INFO,
        "change_product %s correlation_id=%s entitlement=%s http_status=%s duration_ms=%d",
        result.outcome.label,
        attempt.correlation_id,
        attempt.entitlement_opf_id,
        result.http_status,
        result.duration_ms,
        extra={"correlation_id": attempt.correlation_id},
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
