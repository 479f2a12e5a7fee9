"""What supervisors do to a job (the job page and `manage.py bulk_job`): start, pause, resume,
cancel, retry the ones not sent. Each checks the permission and is recorded with who did it."""

from __future__ import annotations

from django.utils import timezone

from ..audit_chain import sealed_transaction
from ..outcomes import Outcome
from .models import RUNNING_STATES, BulkJob, BulkJobItem, EventKind, ItemState, JobState
from .planning import PERMISSION
from .states import transition
from .tasks import enqueue_chains

ACTIONS = ("start", "pause", "resume", "cancel", "retry")


class ControlRefused(Exception):
    """The action does not apply to the job now; the message says why."""


def _check(user) -> None:
    if not user.has_perm(PERMISSION):
        raise ControlRefused(f"{user.get_username()} may not run bulk changes.")


def start(job: BulkJob, *, user) -> None:
    """Run the first batch (the job pauses after it for review)."""
    _check(user)
    with sealed_transaction():  # the seals last: the chain head is locked only then
        if not transition(
            job,
            from_states=[JobState.PLANNED],
            to_state=JobState.RUNNING_FIRST_BATCH,
            kind=EventKind.STARTED,
            user=user,
            detail=f"First batch: {min(job.first_batch, job.qualifying_count)}.",
            new_run=True,
        ):
            raise ControlRefused(f"Only a planned job can start; this one is {job.state}.")
        enqueue_chains(job)


def pause(job: BulkJob, *, user) -> None:
    """Stop sending; the changes already sent finish, nothing new is claimed."""
    _check(user)
    if not transition(
        job, from_states=RUNNING_STATES, to_state=JobState.PAUSED, kind=EventKind.PAUSED, user=user
    ):
        raise ControlRefused(f"Only a running job can pause; this one is {job.state}.")


def resume(job: BulkJob, *, user) -> None:
    """Run the rest (after the first batch, or after a pause)."""
    _check(user)
    with sealed_transaction():  # the seals last: the chain head is locked only then
        if not transition(
            job,
            from_states=[JobState.PAUSED],
            to_state=JobState.RUNNING,
            kind=EventKind.RESUMED,
            user=user,
            new_run=True,
        ):
            raise ControlRefused(f"Only a paused job can resume; this one is {job.state}.")
        enqueue_chains(job)


def cancel(job: BulkJob, *, user) -> int:
    """Send nothing more: the items not yet sent are cancelled. Returns how many."""
    _check(user)
    with sealed_transaction():  # the seals last: the chain head is locked only then
        if not transition(
            job,
            from_states=[JobState.PLANNED, JobState.PAUSED, *RUNNING_STATES],
            to_state=JobState.CANCELLED,
            kind=EventKind.CANCELLED,
            user=user,
        ):
            raise ControlRefused(f"This job is {job.state}; there is nothing to cancel.")
        # Claimed items are being sent right now: their change finishes and is recorded.
        return BulkJobItem.objects.filter(job=job, state=ItemState.PENDING).update(
            state=ItemState.CANCELLED, finished_at=timezone.now()
        )


def retry_not_sent(job: BulkJob, *, user) -> int:
    """Queue again the items whose change never reached OPF (outcome "not sent")."""
    _check(user)
    if job.state in (JobState.PLANNED, JobState.CANCELLED):
        raise ControlRefused(f"This job is {job.state}; nothing is retried.")
    with sealed_transaction():  # the seals last: the chain head is locked only then
        again = BulkJobItem.objects.filter(
            job=job, state=ItemState.DONE, outcome=Outcome.NOT_SENT
        ).update(state=ItemState.PENDING, claimed_by="", claimed_at=None, finished_at=None)
        if not again:
            raise ControlRefused("No entitlement of this job is waiting for a retry.")
        if job.state == JobState.FINISHED and transition(
            job,
            from_states=[JobState.FINISHED],
            to_state=JobState.RUNNING,
            kind=EventKind.RETRIED,
            user=user,
            detail=f"{again} not sent, queued again.",
            new_run=True,
        ):
            enqueue_chains(job)
    return again


def apply(action: str, job: BulkJob, *, user):
    """Run one of ACTIONS by name (the job page's buttons, the command's argument)."""
    return {"start": start, "pause": pause, "resume": resume, "cancel": cancel,
            "retry": retry_not_sent}[action](job, user=user)  # fmt: skip
