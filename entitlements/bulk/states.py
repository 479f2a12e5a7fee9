"""A job's state changes, each one conditional (a no-op if another process got there first)
and recorded as a BulkJobEvent with who made it, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F
from django.utils import timezone

from ..audit_chain import seal, sealed_transaction
from .models import BulkJob, BulkJobEvent, BulkJobItem, EventKind, ItemState, JobState


def record_event(job: BulkJob, kind: EventKind, *, user=None, detail: str = "") -> BulkJobEvent:
    """One event of the job's audit trail, sealed in the audit chain (docs/audit.md): call it
    inside a sealed_transaction()."""
    event = BulkJobEvent.objects.create(
        job=job,
        kind=kind,
        user=user,
        actor_username=user.get_username() if user is not None else "portal",
        detail=detail,
    )
    seal(kind="bulk.event", subject=event)
    return event


def processed_count(job_id: int) -> int:
    """Items that reached a final state since the plan (sent, skipped, needs attention)."""
    return (
        BulkJobItem.objects.filter(job_id=job_id)
        .exclude(state__in=(ItemState.PENDING, ItemState.CLAIMED, ItemState.BLOCKED))
        .exclude(state=ItemState.CANCELLED)
        .count()
    )


def transition(
    job: BulkJob,
    *,
    from_states: Iterable[str],
    to_state: JobState,
    kind: EventKind,
    user=None,
    detail: str = "",
    generation: int | None = None,
    new_run: bool = False,
) -> bool:
    """Move the job from one of `from_states` to `to_state` and record the event.

    Every transition bumps the generation, so task chains of the state before stop. With
    `generation` the move happens only if no other transition came first. `new_run` restarts
    the rate's clock (start, resume, retry). Returns False when nothing changed.
    """
    now = timezone.now()
    changes = {"state": to_state, "generation": F("generation") + 1}
    if to_state in (JobState.FINISHED, JobState.CANCELLED):
        changes["finished_at"] = now
    if new_run:
        changes.update(run_started_at=now, processed_at_run_start=processed_count(job.pk))
    with sealed_transaction():
        current = BulkJob.objects.filter(pk=job.pk, state__in=list(from_states))
        if generation is not None:
            current = current.filter(generation=generation)
        if not current.update(**changes):
            return False
        job.refresh_from_db()
        record_event(job, kind, user=user, detail=detail)
    return True
