"""The portal's mirror of OPF (products and entitlements) and the audit of every change attempt."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .outcomes import BLOCKING, FINISHED, Outcome
from .upkeep import RECONCILIATION, Settlement  # and registers ReviewMark, SyncCheckpoint


class Product(models.Model):
    """An OPF third-party product: one tier of one provider's service."""

    opf_id = models.CharField(
        "OPF product id", max_length=200, unique=True, help_text="<providerId>_<providerResourceId>"
    )
    provider_id = models.CharField("provider", max_length=100)
    provider_resource_id = models.CharField("provider resource id", max_length=100)
    name = models.CharField(max_length=200)
    # Rank inside the provider: a higher tier is an upgrade.
    tier = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["provider_id", "tier", "opf_id"]
        indexes = [models.Index(fields=["provider_id", "tier"], name="product_provider_tier")]

    def __str__(self) -> str:
        return f"{self.name} ({self.opf_id})"


class EntitlementStatus(models.TextChoices):
    # The statuses OPF names for third-party entitlements.
    SUBSCRIBED = "SUBSCRIBED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    SUSPENDED = "SUSPENDED"
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    ACTIVE_ENDING = "ACTIVE-ENDING"
    CANCELLED = "CANCELLED"
    REVOKED = "REVOKED"


class Entitlement(models.Model):
    """A customer's third-party entitlement as OPF knows it."""

    opf_id = models.CharField("entitlement id", max_length=200, unique=True)
    account_id = models.CharField("account id", max_length=100, db_index=True)
    # Tiers of one service share the provider, and a change never leaves it: stored here so
    # the list can filter by provider without a join.
    provider_id = models.CharField("provider", max_length=100, db_index=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=EntitlementStatus.choices, db_index=True)
    pending_product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The product a change is waiting for the provider to confirm.",
    )
    pending_since = models.DateTimeField(null=True, blank=True)
    needs_review = models.BooleanField(
        default=False, help_text="OPF did not know this entitlement, or a change is unresolved."
    )
    # Bumped on every change to the mirror: a form opened on an older version is stale.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When OPF says the product / the status last changed: the occurredAt of the newest
    # notification applied, or for the product the time OPF answered a change the portal
    # completed. A notification older than that is ignored (stale), whenever it arrives.
    product_reported_at = models.DateTimeField(null=True, blank=True, editable=False)
    status_reported_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When a read of OPF last showed it (refresh, sync, reconciliation), different or not.
    confirmed_by_opf_at = models.DateTimeField("last confirmed by OPF", null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("change_entitlement_product", "Can change the product of an entitlement")]
        indexes = [
            models.Index(
                fields=["pending_since"],
                name="entitlement_pending",
                condition=Q(pending_product__isnull=False),
            ),
            models.Index(  # the few flagged for review, listed on "Needs attention"
                fields=["id"], name="entitlement_review", condition=Q(needs_review=True)
            ),
        ]

    def __str__(self) -> str:
        return self.opf_id


def new_correlation_id() -> str:
    return str(uuid.uuid4())


class ChangeOrigin(models.TextChoices):
    PORTAL = "portal", "care portal"
    PROVIDER = "provider", "made at the provider"
    # A difference between the mirror and what a read of OPF showed, applied to the mirror.
    REFRESH = "refresh", "refreshed from OPF"


class AuditQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("Audit records are never deleted.")

    def open(self):
        """Changes that block another on their entitlement (the partial unique index's rows)."""
        return self.filter(outcome__in=sorted(BLOCKING), settlement="")


class ChangeAttempt(models.Model):
    """The audit record of one change of an entitlement's product.

    Written before OPF is called (outcome "in flight") and completed once after. It is
    append-only: the app has no edit or delete path, and the database refuses to delete any
    record or to update a finished one (see migration 0002).
    """

    correlation_id = models.CharField(
        "correlation id", max_length=64, unique=True, default=new_correlation_id, editable=False
    )
    created_at = models.DateTimeField("when", auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    origin = models.CharField(
        max_length=10, choices=ChangeOrigin.choices, default=ChangeOrigin.PORTAL
    )

    # Who: kept as text too, so the record stays readable whatever happens to the user row.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_username = models.CharField("agent", max_length=150, blank=True)
    actor_subject = models.CharField("SSO subject", max_length=255, blank=True)
    actor_name = models.CharField("agent name", max_length=255, blank=True)

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="changes")
    entitlement_opf_id = models.CharField("entitlement id", max_length=200)
    account_id = models.CharField("account id", max_length=100)
    provider_id = models.CharField("provider", max_length=100)
    from_product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    to_product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")

    reason_code = models.CharField("reason", max_length=50, blank=True)
    comment = models.TextField(blank=True)

    outcome = models.CharField(
        max_length=25,
        choices=[(o.value, o.label) for o in Outcome],
        default=Outcome.IN_FLIGHT.value,
    )
    http_status = models.PositiveSmallIntegerField("OPF status", null=True, blank=True)
    # OPF's answer as text (bounded by the client; bad UTF-8, NUL and lone surrogates shown as
    # U+FFFD, since a PostgreSQL text column refuses NUL) and its exact bytes, whatever they are.
    response_body = models.TextField("OPF response", blank=True)
    response_bytes = models.BinaryField("OPF response (exact bytes)", blank=True, default=b"")
    opf_message = models.TextField("OPF message", blank=True)
    # What happened, in plain words, when OPF gave no message (e.g. "token endpoint unreachable").
    detail = models.TextField(blank=True)
    # Each HTTP request made for this change (status, duration, note): a token refresh
    # and resend shows as two.
    http_attempts = models.JSONField(default=list, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # The bulk change (issue 12) this attempt was part of; None for an agent's own change.
    bulk_job = models.ForeignKey(
        "entitlements.BulkJob",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # served by change_bulk_job_entitlement
    )

    # The settlement (issue 10), written once by audit.settle_change; the outcome above stays.
    settlement = models.CharField(max_length=12, choices=Settlement.choices, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_by = models.CharField(max_length=150, blank=True)  # a username or RECONCILIATION
    settlement_opf_state = models.CharField("what OPF showed", max_length=450, blank=True)
    settlement_note = models.TextField(blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "change attempt"
        permissions = [
            ("export_changeattempt", "Can export the audit log"),
            ("reconcile_changeattempt", "Can reconcile changes of unknown outcome"),
        ]
        constraints = [
            # At most one change in flight, awaiting confirmation or of unknown outcome per
            # entitlement, whatever the number of agents or processes.
            models.UniqueConstraint(
                fields=["entitlement"],
                condition=Q(outcome__in=sorted(o.value for o in BLOCKING), settlement=""),
                name="one_open_change_per_entitlement",
            ),
        ]
        indexes = [
            models.Index(fields=["entitlement", "-created_at"], name="change_entitlement_time"),
            models.Index(fields=["account_id", "-created_at"], name="change_account_time"),
            models.Index(fields=["entitlement_opf_id"], name="change_entitlement_opf_id"),
            models.Index(fields=["outcome", "-created_at"], name="change_outcome_time"),
            models.Index(fields=["actor_username", "-created_at"], name="change_actor_time"),
            models.Index(fields=["provider_id", "-created_at"], name="change_provider_time"),
            models.Index(
                fields=["bulk_job", "entitlement"],
                name="change_bulk_job_entitlement",
                condition=Q(bulk_job__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entitlement_opf_id}: {self.from_product_id} -> {self.to_product_id}"

    def save(self, *args, **kwargs):
        # The ORM side of the append-only rule (PostgreSQL also enforces it with a trigger).
        if getattr(self, "_loaded_outcome", None) in FINISHED or getattr(
            self, "_loaded_settlement", ""
        ):
            raise PermissionError(f"Audit record {self.correlation_id} is finished.")
        super().save(*args, **kwargs)
        self._loaded_outcome, self._loaded_settlement = self.outcome, self.settlement

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit records are never deleted.")

    def take_stored_values(self, fields: dict) -> None:
        """Hold `fields` as a queryset update just stored them for this record.

        The append-only rule of save() then sees the stored outcome, as after a save().
        """
        for name, value in fields.items():
            setattr(self, name, value)
        self._loaded_outcome, self._loaded_settlement = self.outcome, self.settlement

    @property
    def made_at_provider(self) -> bool:
        """Reported by OPF as made by the customer at the provider, not through the portal."""
        return self.origin == ChangeOrigin.PROVIDER

    @property
    def credentials_refused(self) -> bool:
        """OPF refused the portal's credentials (the client's `credentials_refused` result).

        The client ends such a change as "rejected" with the 401/403 it got even after a fresh
        token; OPF rejects a change itself with 400, so the stored status tells the two apart.
        """
        return self.outcome == Outcome.REJECTED and self.http_status in (401, 403)

    @staticmethod
    def entitlement_snapshot(entitlement: Entitlement) -> dict:
        """The entitlement fields a change record keeps as they were at the time."""
        return {
            "entitlement": entitlement,
            "entitlement_opf_id": entitlement.opf_id,
            "account_id": entitlement.account_id,
            "provider_id": entitlement.provider_id,
        }

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_outcome = instance.__dict__.get("outcome")
        instance._loaded_settlement = instance.__dict__.get("settlement", "")
        return instance


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


class Seal(models.Model):
    """One link of the audit's hash chain (entitlements/audit_chain.py, docs/audit.md).

    Each audit fact (a change record created or finished, a notification delivery kept, ...) is
    sealed in the transaction that writes it: `content` is its canonical serialisation and
    `hash` = SHA-256(prev_hash + content), so editing, deleting, inserting or reordering any
    sealed fact breaks the chain from there on. Append-only: on PostgreSQL triggers refuse
    every UPDATE and DELETE (migration 0008_audit_seals).
    """

    sequence = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=40)
    subject_table = models.CharField(max_length=63)
    subject_pk = models.BigIntegerField()
    sealed_at = models.DateTimeField(db_index=True)
    content = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["subject_table", "subject_pk", "sequence"], name="seal_subject"),
        ]

    def __str__(self) -> str:
        return f"seal {self.sequence} {self.kind} {self.subject_table}:{self.subject_pk}"

    def save(self, *args, **kwargs):
        raise PermissionError("Seals are written only by entitlements.audit_chain.seal().")

    def delete(self, *args, **kwargs):
        raise PermissionError("Seals are never deleted.")


class ChainHead(models.Model):
    """The chain's newest link, one row: the lock every sealing transaction takes in turn."""

    sequence = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain head {self.sequence} {self.hash}"


class StatMeasure(models.TextChoices):
    """What one row of the dashboard's aggregate counts (see entitlements/change_stats.py)."""

    OUTCOME = "outcome", "portal changes by outcome"
    PROVIDER_CHANGE = "provider_change", "changes made at the provider"
    REASON = "reason", "portal changes by reason"
    AGENT = "agent", "portal changes by agent"
    OPF_CALL = "opf_call", "changeProduct calls"
    OPF_ERROR = "opf_error", "changeProduct calls without a usable answer"
    OPF_LATENCY = "opf_latency", "changeProduct calls by latency bucket"


class DailyChangeStat(models.Model):
    """The supervisors' dashboard aggregate: one counter per day, measure and key.

    Not part of the audit: kept in the transaction that finishes a change record, so it always
    agrees with ChangeAttempt, and rebuilt from it by `manage.py rebuild_dashboard_stats`.
    `day` is the change's created_at date in the portal's time zone; `key` is an outcome, a
    reason code, a username or a latency bucket's upper bound in ms ("" for plain counts).
    """

    day = models.DateField()
    measure = models.CharField(max_length=20, choices=StatMeasure.choices)
    key = models.CharField(max_length=150, blank=True)
    # Not a Positive field: a move between outcomes must never fail the audit's transaction.
    count = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "daily change figure"
        constraints = [
            models.UniqueConstraint(fields=["day", "measure", "key"], name="daily_change_stat_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.measure} {self.key}: {self.count}"


# Bulk tier migration (issue 12): its models live with its code; imported here to be registered.
from .bulk.models import BulkJob, BulkJobEvent, BulkJobItem, RequestSlot  # noqa: E402

__all__ = [
    "BulkJob",
    "BulkJobEvent",
    "BulkJobItem",
    "ChainHead",
    "ChangeAttempt",
    "ChangeOrigin",
    "DailyChangeStat",
    "DeliveryResult",
    "Entitlement",
    "EntitlementStatus",
    "NotificationDelivery",
    "Product",
    "RequestSlot",
    "Seal",
    "Settlement",
    "StatMeasure",
    "RECONCILIATION",
]
