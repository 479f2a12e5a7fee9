"""The background side: django-tasks task chains that run bulk jobs on `manage.py db_worker`.

A started job gets BULK_WORKERS_PER_JOB chains. Each task of a chain works for one slice
(BULK_LEASE_SECONDS) and has already enqueued its successor, due at the end of the slice, before
it starts: a worker killed mid-task leaves that successor behind, so the chain goes on on any
worker, and the killed worker's claims are settled once their lease has lapsed (running.py).
Chains of an older generation (the job was paused, resumed, cancelled since) stop by themselves.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from . import running
from .models import BulkJob


@task()
def run_bulk_job(job_id: int, generation: int) -> bool:
    """One slice of one chain of a job; True if the job was still running at its end."""
    if not running.is_current(job_id, generation):
        return False
    slice_seconds = settings.BULK_LEASE_SECONDS
    run_bulk_job.using(run_after=timezone.now() + timedelta(seconds=slice_seconds)).enqueue(
        job_id, generation
    )
    return running.Runner(job_id, generation, until=time.monotonic() + slice_seconds).run()


def enqueue_chains(job: BulkJob) -> None:
    """Start the job's task chains for its current generation (with the caller's transaction)."""
    job_id, generation = job.pk, job.generation

    def enqueue() -> None:
        for _ in range(settings.BULK_WORKERS_PER_JOB):
            run_bulk_job.enqueue(job_id, generation)

    transaction.on_commit(enqueue)
