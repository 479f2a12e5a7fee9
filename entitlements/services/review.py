"""Supervisors mark what was kept for review as reviewed: an OPF notification the portal could
not apply, or an entitlement flagged for review. Each mark is kept (audit.record_review: who,
when, the note); the flag it clears is the only thing that changes."""

from django.utils import timezone

from ..audit_chain import sealed_transaction
from ..models import Entitlement, NotificationDelivery
from .audit import record_review
from .mirror import clear_review_flag


def mark_notification_reviewed(delivery: NotificationDelivery, *, user, note: str = "") -> bool:
    """Clear the delivery's review flag and keep who did it; False if it was already clear."""
    with sealed_transaction():
        # The delivery log's trigger allows exactly this update: needs_review true -> false.
        cleared = NotificationDelivery.objects.filter(pk=delivery.pk, needs_review=True).update(
            needs_review=False
        )
        if cleared:
            record_review(user=user, delivery=delivery, note=note.strip())
    return bool(cleared)


def mark_entitlement_reviewed(entitlement: Entitlement, *, user, note: str = "") -> bool:
    """Clear the entitlement's review flag and keep who did it; False if it was already clear."""
    with sealed_transaction():
        cleared = clear_review_flag(entitlement_id=entitlement.pk, now=timezone.now())
        if cleared:
            record_review(user=user, entitlement=entitlement, note=note.strip())
    return cleared
