"""OPF's notifications as they were delivered, each kept once with what it did."""

from django.db import models
from django.utils import timezone

from .changes import AuditQuerySet, ChangeAttempt
from .mirror import Entitlement


class DeliveryResult(models.TextChoices):
    """What the portal did with one authenticated, well-formed notification."""

    APPLIED = "applied", "applied"
    ALREADY_APPLIED = "already_applied", "already applied (nothing to do)"
    STALE = "stale", "older than what the mirror holds (ignored)"
    UNKNOWN_ENTITLEMENT = "unknown_entitlement", "unknown entitlement (kept for review)"
    UNMATCHED = "unmatched", "no matching change or product (kept for review)"


class NotificationDelivery(models.Model):
    """One notification OPF delivered, kept as received, with what the portal did with it.

    Inserted in the same transaction as its effect, so the unique `webhook_id` makes every
    delivery apply exactly once. Append-only: on PostgreSQL the database refuses deletes and
    any update except clearing `needs_review` (see migration 0005_notifications).
    """

    webhook_id = models.CharField("webhook id", max_length=200, unique=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The signed `webhook-timestamp`: when OPF sent this attempt of the delivery.
    sent_at = models.DateTimeField()
    event_type = models.CharField(max_length=40)
    entitlement_opf_id = models.CharField("entitlement id", max_length=200, db_index=True)
    product_opf_id = models.CharField("product id", max_length=200, blank=True)
    status = models.CharField(max_length=20, blank=True)
    occurred_at = models.DateTimeField()
    correlation_id = models.CharField("correlation id", max_length=64, blank=True)

    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The change it confirmed or declined, or the provider-side change it recorded.
    change = models.ForeignKey(
        ChangeAttempt,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    result = models.CharField(max_length=25, choices=DeliveryResult.choices)
    detail = models.TextField(blank=True, help_text="What the portal did, in plain words.")
    needs_review = models.BooleanField(default=False, db_index=True)

    body = models.TextField("raw body")  # bounded by OPF_NOTIFICATION_MAX_BYTES
    headers = models.JSONField(default=dict, blank=True)
    remote_addr = models.CharField(max_length=45, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "OPF notification"
        indexes = [
            models.Index(fields=["entitlement", "-received_at"], name="delivery_entitlement_time"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.entitlement_opf_id} ({self.webhook_id})"

    def save(self, *args, **kwargs):
        # Written once; afterwards only a supervisor's "reviewed" may change (PostgreSQL also
        # enforces it with a trigger).
        if not self._state.adding and set(kwargs.get("update_fields") or ()) != {"needs_review"}:
            raise PermissionError(f"Notification delivery {self.webhook_id} is kept as received.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Notification deliveries are never deleted.")
