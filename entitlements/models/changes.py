"""The audit of every change of an entitlement's product: one ChangeAttempt per attempt,
written only through entitlements/services/audit.py."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..outcomes import BLOCKING, FINISHED, Outcome
from ..upkeep import Settlement
from .mirror import Entitlement, Product


def new_correlation_id() -> str:
    return str(uuid.uuid4())


class ChangeOrigin(models.TextChoices):
    PORTAL = "portal", "care portal"
    PROVIDER = "provider", "made by the customer at the provider"
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
    # The care interaction the change was made in (a call, chat or ticket id); searchable by
    # prefix, so indexed (db_index adds PostgreSQL's pattern index too).
    ticket = models.CharField(max_length=100, blank=True, db_index=True)

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
        # In words: callers that list many select_related("from_product", "to_product").
        return f"{self.entitlement_opf_id}: {self.from_product.name} → {self.to_product.name}"

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
