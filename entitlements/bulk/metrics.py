"""Bulk job progress in /metrics: the items of every running or paused job, per state.

Registered with careportal.metrics.gauges from the app's ready(); read at each scrape, so it
stays cheap: the active jobs through the state index (bulkjob_state), then one GROUP BY over
their items alone (index bulkitem_claim: job, state, ...), never the finished jobs' items.
"""

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from .models import BulkJob, BulkJobItem, ItemState, JobState

ACTIVE_STATES = (JobState.RUNNING_FIRST_BATCH, JobState.RUNNING, JobState.PAUSED)


def bulk_job_gauges() -> Iterable[GaugeMetricFamily]:
    jobs = GaugeMetricFamily(
        "careportal_bulk_jobs",
        "Bulk jobs running (first batch or the rest) or paused",
        labels=["state"],
    )
    items = GaugeMetricFamily(
        "careportal_bulk_job_items",
        "Items of each running or paused bulk job, per item state",
        labels=["job", "state"],
    )
    active = dict(BulkJob.objects.filter(state__in=ACTIVE_STATES).values_list("pk", "state"))
    for state in ACTIVE_STATES:
        jobs.add_metric([state], sum(1 for s in active.values() if s == state))
    counted = (
        BulkJobItem.objects.filter(job_id__in=list(active))
        .values_list("job_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_job = {(job, state): n for job, state, n in counted}
    for job in sorted(active):
        for state in ItemState.values:  # every state, 0 too: a series that vanishes reads as gone
            items.add_metric([str(job), state], by_job.get((job, state), 0))
    yield jobs
    yield items
