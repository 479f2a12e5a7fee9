"""How a job is doing: counts per outcome, the rate, the time left, the failures, the results.

Counts are one GROUP BY over the job's own items (index bulkitem_claim), never the whole table.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import Count
from django.utils import timezone

from ..outcomes import Outcome
from .models import BulkJob, BulkJobItem, ItemState
from .planning import REASONS

FAILURE_ROWS = 100  # on the job page; the CSV has them all
RESULT_COLUMNS = [
    "position", "entitlementId", "accountId", "plannedProduct", "targetProduct", "state",
    "outcome", "detail", "correlationId", "finishedAt",
]  # fmt: skip


def outcome_label(state: str, outcome: str) -> str:
    if outcome in Outcome._value2member_map_:
        return Outcome(outcome).label
    return REASONS.get(outcome, "") or ItemState(state).label


def counts(job: BulkJob) -> dict:
    """Items per state and per outcome, and the run's rate and time left."""
    by_state: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    rows = BulkJobItem.objects.filter(job=job).values_list("state", "outcome")
    for state, outcome, n in rows.annotate(n=Count("id")).order_by():
        by_state[state] = by_state.get(state, 0) + n
        if state not in (ItemState.PENDING, ItemState.CLAIMED):
            label = outcome_label(state, outcome)
            by_outcome[label] = by_outcome.get(label, 0) + n
    left = by_state.get(ItemState.PENDING, 0) + by_state.get(ItemState.CLAIMED, 0)
    rate = _rate(job, processed_total(by_state))
    return {
        "state": job.state,
        "state_label": job.get_state_display(),
        "by_state": by_state,
        "by_outcome": dict(sorted(by_outcome.items())),
        "left": left,
        "rate": round(rate, 1) if rate is not None else None,
        "seconds_left": round(left / rate) if rate and job.state.startswith("running") else None,
    }


def processed_total(by_state: dict[str, int]) -> int:
    final = (ItemState.DONE, ItemState.NEEDS_ATTENTION, ItemState.SKIPPED)
    return sum(by_state.get(s, 0) for s in final)


def _rate(job: BulkJob, processed: int) -> float | None:
    """Entitlements per second since the last start or resume."""
    if job.run_started_at is None:
        return None
    end = job.finished_at or timezone.now()
    seconds = (end - job.run_started_at).total_seconds()
    done = processed - job.processed_at_run_start
    return done / seconds if seconds > 0 and done > 0 else None


def failures(job: BulkJob):
    """Items a supervisor should look at: not sent (retry), failed or unknown (an agent's turn)."""
    looked_at = [ItemState.DONE, ItemState.NEEDS_ATTENTION, ItemState.SKIPPED]
    fine = [Outcome.COMPLETED, Outcome.AWAITING_CONFIRMATION]
    return (
        BulkJobItem.objects.filter(job=job, state__in=looked_at)
        .exclude(state=ItemState.DONE, outcome__in=fine)
        .select_related("entitlement", "attempt")
        .order_by("position")[:FAILURE_ROWS]
    )


def result_rows(job: BulkJob) -> Iterator[list[str]]:
    """The job's results, one row per item, streamed in keyset pages."""
    yield RESULT_COLUMNS
    items = (
        BulkJobItem.objects.filter(job=job)
        .select_related("entitlement", "planned_product", "attempt")
        .order_by("pk")
    )
    last = 0
    while page := list(items.filter(pk__gt=last)[:1000]):
        last = page[-1].pk
        for item in page:
            yield [
                item.position or "", item.entitlement.opf_id, item.entitlement.account_id,
                item.planned_product.opf_id, job.target_product.opf_id, item.state,
                item.outcome, item.detail, item.attempt.correlation_id if item.attempt else "",
                item.finished_at.isoformat() if item.finished_at else "",
            ]  # fmt: skip


class Echo:
    """A file-like object for csv.writer that hands each line back (streamed responses)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(job: BulkJob) -> Iterator[str]:
    writer = csv.writer(Echo())
    for row in result_rows(job):
        yield writer.writerow(row)
