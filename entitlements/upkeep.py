"""Records of the portal's upkeep beside the mirror and the audit: supervisors' reviews of what
was kept for review, where `sync_from_opf` got to, and the words of a change's settlement."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Settlement(models.TextChoices):
    """What a supervisor or reconciliation found in OPF about a change OPF never answered
    clearly; kept beside the change's own outcome, which stays as OPF (or the provider) said."""

    APPLIED = "applied", "settled applied"
    NOT_APPLIED = "not_applied", "settled not applied"


# Who settles when no person does: `reconcile_changes`, from OPF's state.
RECONCILIATION = "reconciliation"


class KeptQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("Reviews are never deleted.")


class ReviewMark(models.Model):
    """A supervisor marked something kept for review as reviewed: who and when.

    Append-only, written only by services/audit.py; on PostgreSQL the database refuses any
    update or delete (migration 0010). One of `delivery` / `entitlement` is set.
    """

    created_at = models.DateTimeField("when", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_username = models.CharField("supervisor", max_length=150)
    delivery = models.ForeignKey(
        "entitlements.NotificationDelivery", on_delete=models.PROTECT, null=True, blank=True,
        related_name="reviews",
    )  # fmt: skip
    entitlement = models.ForeignKey(
        "entitlements.Entitlement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviews",
    )
    note = models.TextField(blank=True)

    objects = KeptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "review"
        constraints = [
            models.CheckConstraint(
                condition=Q(delivery__isnull=False, entitlement__isnull=True)
                | Q(delivery__isnull=True, entitlement__isnull=False),
                name="review_of_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return f"reviewed by {self.actor_username} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Reviews are kept as written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Reviews are never deleted.")


class SyncCheckpoint(models.Model):
    """`sync_from_opf` of the whole mirror: where it got to, and who is running it.

    One row. The lock is a lease (`locked_until`), taken and renewed by a conditional UPDATE,
    so two runs (cron, a person) never overlap on any database, and a run that died frees it
    when the lease ends. `next_page_index` is the first page not yet done (0 = from the start).
    """

    name = models.CharField(max_length=40, unique=True)
    holder = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    page_size = models.PositiveIntegerField(default=0)
    next_page_index = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # created / updated / unchanged / unknown_product / skipped so far in this run.
    counts = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name
