"""The endpoint OPF calls: POST /opf/notifications (contract: docs/notifications.md).

The only CSRF-exempt view: it is authenticated by the Standard Webhooks signature instead of a
session. Answers, in the order they are decided:
413 body too big (nothing read past the limit) - 401 not authenticated - 400 signed but not a
notification we understand - 200 everything else (applied, duplicate, stale, kept for review) -
503 our own trouble (database down...), so OPF retries later. Never a 500.
"""

import logging
import time
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .metrics import NOTIFICATIONS
from .notifications.payload import InvalidPayload, parse_notification
from .notifications.signatures import InvalidSignature, decode_secrets, verify
from .services import apply_notification

log = logging.getLogger(__name__)

# Kept with the delivery (the signature too: it lets anyone re-check the stored body later).
_KEPT_HEADERS = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
    "content-length",
    "user-agent",
)


def _answer(status: int, **body) -> JsonResponse:
    return JsonResponse(body, status=status)


def _declared_length(request: HttpRequest) -> int | None:
    value = request.META.get("CONTENT_LENGTH") or "0"
    return int(value) if value.isascii() and value.isdigit() else None


def _kept_headers(request: HttpRequest) -> dict[str, str]:
    kept = {}
    for name in _KEPT_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            kept[name] = "".join(ch for ch in value[:500] if ch.isprintable())
    return kept


@csrf_exempt
@require_POST
def opf_notification(request: HttpRequest) -> JsonResponse:
    try:
        return _receive(request)
    except Exception:
        # Our own trouble (a database that is down, a bug): OPF keeps the delivery and retries.
        error_id = uuid.uuid4().hex[:12]
        NOTIFICATIONS.labels("error").inc()
        log.exception("opf notification failed error_id=%s", error_id)
        response = _answer(503, error="temporarily unavailable, retry later", errorId=error_id)
        response["Retry-After"] = "30"
        return response


def _refused(status: int, result: str, **body) -> JsonResponse:
    NOTIFICATIONS.labels(result).inc()
    return _answer(status, **body)


def _receive(request: HttpRequest) -> JsonResponse:
    limit = settings.OPF_NOTIFICATION_MAX_BYTES
    declared = _declared_length(request)
    if declared is None:
        return _refused(400, "malformed", error="bad Content-Length")
    if declared > limit:
        return _refused(413, "too_large", error=f"body larger than {limit} bytes")
    body = request.read(limit + 1)  # never more than the limit, whatever the headers said
    if len(body) > limit:
        return _refused(413, "too_large", error=f"body larger than {limit} bytes")

    webhook_id = request.headers.get("webhook-id")
    try:
        sent_at = verify(
            keys=decode_secrets(settings.OPF_NOTIFICATION_SECRETS),
            webhook_id=webhook_id,
            timestamp=request.headers.get("webhook-timestamp"),
            signature=request.headers.get("webhook-signature"),
            body=body,
            tolerance=settings.OPF_NOTIFICATION_TOLERANCE,
            now=time.time(),
        )
    except InvalidSignature as exc:
        log.warning(
            "opf notification refused (401): %s remote=%s", exc, request.META.get("REMOTE_ADDR")
        )
        return _refused(401, "unauthenticated", error="not authenticated")

    try:
        notification = parse_notification(body)
    except InvalidPayload as exc:
        log.warning("opf notification malformed (400) webhook_id=%s: %s", webhook_id, exc)
        return _refused(400, "malformed", error="malformed notification", fields=exc.errors)

    applied = apply_notification(
        notification=notification,
        webhook_id=webhook_id,
        sent_at=datetime.fromtimestamp(sent_at, tz=UTC),
        body=body.decode("utf-8"),
        headers=_kept_headers(request),
        remote_addr=request.META.get("REMOTE_ADDR", "")[:45],
    )
    NOTIFICATIONS.labels(str(applied.result)).inc()
    return _answer(200, result=applied.result)
