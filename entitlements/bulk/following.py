"""`--wait`: follow a job's progress on a terminal with a progress bar, until it stops running."""

from __future__ import annotations

import time

from . import progress
from .models import RUNNING_STATES, BulkJob

BAR = 30
POLL_SECONDS = 1.0


def status_line(job: BulkJob, counts: dict) -> str:
    total = job.qualifying_count or 1
    done = total - min(counts["left"], total)
    filled = round(BAR * done / total)
    rate = f"{counts['rate']}/s" if counts["rate"] else "-/s"
    left = f"{counts['seconds_left']} s left" if counts["seconds_left"] is not None else ""
    bar = "#" * filled + "-" * (BAR - filled)
    return f"[{bar}] {done}/{job.qualifying_count} {counts['state_label']} {rate} {left}".rstrip()


def follow(job: BulkJob, out, *, poll: float = POLL_SECONDS, limit: float | None = None) -> str:
    """Print the bar until the job is no longer running (or `limit` seconds); its final state."""
    started = time.monotonic()
    while True:
        job.refresh_from_db()
        counts = progress.counts(job)
        out.write("\r" + status_line(job, counts), ending="")
        out.flush()
        if job.state not in RUNNING_STATES or (limit and time.monotonic() - started > limit):
            break
        time.sleep(poll)
    out.write("")
    if job.state == "paused":
        out.write(f"Paused. Review, then: manage.py bulk_job {job.pk} resume --user USERNAME")
    return job.state
