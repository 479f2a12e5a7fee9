"""Bulk jobs, their items (one per entitlement) and events, and the shared request budget.

Imported by entitlements/models.py so Django registers them; references to the core models are
by name, so this module imports nothing of the portal's own.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class JobState(models.TextChoices):
    PLANNED = "planned"
    RUNNING_FIRST_BATCH = "running_first_batch", "running the first batch"
    PAUSED = "paused"
    RUNNING = "running"
    CANCELLED = "cancelled"
    FINISHED = "finished"


RUNNING_STATES = (JobState.RUNNING_FIRST_BATCH, JobState.RUNNING)


class BulkJob(models.Model):
    """Move every planned entitlement to `target_product`, first a batch, then the rest."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The supervisor who planned it: the "who" of every change it makes.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_by_username = models.CharField("planned by", max_length=150)
    # None when the entitlements came from a CSV of ids alone.
    source_product = models.ForeignKey(
        "entitlements.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target_product = models.ForeignKey(
        "entitlements.Product", on_delete=models.PROTECT, related_name="+"
    )
    ids_file_name = models.CharField("CSV of ids", max_length=255, blank=True)
    reason_code = models.CharField("reason", max_length=50)
    comment = models.TextField(blank=True)

    state = models.CharField(max_length=25, choices=JobState.choices, default=JobState.PLANNED)
    first_batch = models.PositiveIntegerField(
        default=10, help_text="How many entitlements run before the job pauses for review."
    )
    # Bumped by every start, resume and pause: task chains of an older generation stop.
    generation = models.PositiveIntegerField(default=0)
    # The dry run: counts, reasons and samples (planning.PlanSummary.as_dict()).
    plan = models.JSONField(default=dict)
    qualifying_count = models.PositiveIntegerField("qualify", default=0)
    blocked_count = models.PositiveIntegerField("blocked", default=0)
    # Since the last start or resume, for the rate and the time left.
    run_started_at = models.DateTimeField(null=True, blank=True)
    processed_at_run_start = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "bulk change"
        permissions = [("run_bulk_changes", "Can run bulk changes")]
        indexes = [models.Index(fields=["state"], name="bulkjob_state")]

    def __str__(self) -> str:
        return f"Bulk change {self.pk}"


class ItemState(models.TextChoices):
    PENDING = "pending"
    CLAIMED = "claimed", "being sent"
    DONE = "done", "sent"  # `outcome` holds the change's outcome
    NEEDS_ATTENTION = "needs_attention", "needs attention"  # outcome unknown: never retried
    SKIPPED = "skipped"  # refused when its turn came (changed since the plan, change open...)
    BLOCKED = "blocked"  # at plan time; never sent
    CANCELLED = "cancelled"  # the job was cancelled before its turn


OPEN_ITEM_STATES = (ItemState.PENDING, ItemState.CLAIMED)


class BulkJobItem(models.Model):
    """One entitlement of a job, as it was when planned, and what became of it."""

    job = models.ForeignKey(BulkJob, on_delete=models.PROTECT, related_name="items")
    # 1, 2, 3... over the qualifying entitlements (the first batch is 1..first_batch);
    # None for those blocked at plan time.
    position = models.PositiveIntegerField(null=True, blank=True)
    entitlement = models.ForeignKey(
        "entitlements.Entitlement", on_delete=models.PROTECT, related_name="+"
    )
    planned_product = models.ForeignKey(
        "entitlements.Product", on_delete=models.PROTECT, related_name="+"
    )
    planned_version = models.PositiveIntegerField()
    state = models.CharField(max_length=20, choices=ItemState.choices, default=ItemState.PENDING)
    # An Outcome value when sent, else a planning/skip reason code (planning.REASONS).
    outcome = models.CharField(max_length=30, blank=True)
    detail = models.TextField(blank=True)
    attempt = models.ForeignKey(
        "entitlements.ChangeAttempt",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The worker run (running.Runner.token) that holds the item, until when without heartbeat.
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "position", "id"]
        verbose_name = "bulk change item"
        constraints = [
            models.UniqueConstraint(fields=["job", "entitlement"], name="bulkitem_one_per_job")
        ]
        indexes = [
            # The workers' claim (job, pending, lowest position) and the per-state counts.
            models.Index(fields=["job", "state", "position"], name="bulkitem_claim"),
            # Abandoned claims (a killed worker's) are found by their lease.
            models.Index(
                fields=["job", "lease_until"],
                name="bulkitem_claimed",
                condition=Q(state="claimed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} item {self.position or '-'}"


class EventKind(models.TextChoices):
    PLANNED = "planned"
    STARTED = "started"
    PAUSED = "paused"
    FIRST_BATCH_DONE = "first_batch_done", "paused after the first batch, for review"
    RESUMED = "resumed"
    RETRIED = "retried", "retry of the ones not sent"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class EventQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("Bulk job events are never deleted.")


class BulkJobEvent(models.Model):
    """The job's audit trail: planned, started, paused, resumed, cancelled, finished; by whom.

    Append-only like the change audit (no edit or delete path).
    """

    job = models.ForeignKey(BulkJob, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    # None when the portal did it (the automatic pause after the first batch, the end).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_username = models.CharField("by", max_length=150, blank=True)
    detail = models.TextField(blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["job", "at", "id"]
        verbose_name = "bulk change event"
        indexes = [models.Index(fields=["job", "at"], name="bulkevent_job_time")]

    def __str__(self) -> str:
        return f"{self.job}: {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Bulk job events are written once.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Bulk job events are never deleted.")


class RequestSlot(models.Model):
    """One of OPF_MAX_REQUESTS_PER_SECOND slots of the shared changeProduct budget (throttle.py)."""

    slot = models.PositiveIntegerField(primary_key=True)
    # Unix times: when the slot may send again; who holds it for a request, until when at most.
    free_at = models.FloatField(default=0.0)
    holder = models.CharField(max_length=64, blank=True)
    held_until = models.FloatField(default=0.0)

    class Meta:
        verbose_name = "OPF request slot"

    def __str__(self) -> str:
        return f"slot {self.slot}"
