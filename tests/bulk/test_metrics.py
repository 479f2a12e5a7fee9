"""Bulk job progress in /metrics: careportal_bulk_jobs{state} and careportal_bulk_job_items
{job,state} move as a job runs (real sandbox, the worker's code in this process)."""

import pytest

from entitlements.bulk import control
from tests.ops.test_metrics import metrics_token, scrape, value  # noqa: F401 (a fixture)

from .conftest import plan, run_in_process

pytestmark = pytest.mark.django_db(transaction=True)


def progress(client, job) -> dict[str, float]:
    samples = scrape(client)
    items = {
        dict(labels)["state"]: n
        for (name, labels), n in samples.items()
        if name == "careportal_bulk_job_items" and dict(labels)["job"] == str(job.pk)
    }
    jobs = {
        state: value(samples, "careportal_bulk_jobs", state=state)
        for state in ("running_first_batch", "running", "paused")
    }
    assert value(samples, "careportal_metrics_source_up", source="bulk_job_gauges") == 1
    return {"jobs": jobs, "items": items}


@pytest.mark.usefixtures("metrics_token")
def test_bulk_job_progress_moves_as_the_job_runs(client, tier, supervisor, sandbox, settings):
    settings.OPF_MAX_REQUESTS_PER_SECOND = 50
    job = plan(supervisor, first_batch=5)
    idle = {"running_first_batch": 0, "running": 0, "paused": 0}
    assert progress(client, job) == {"jobs": idle, "items": {}}  # planned: not active yet

    control.start(job, user=supervisor)
    started = progress(client, job)
    assert started["jobs"] == {**idle, "running_first_batch": 1}
    # The shared world's two Basic entitlements are blocked by their status.
    assert started["items"] == {
        "pending": len(tier), "claimed": 0, "done": 0, "needs_attention": 0,
        "skipped": 0, "blocked": 2, "cancelled": 0,
    }  # fmt: skip

    assert run_in_process(job) is False  # paused after the first batch
    paused = progress(client, job)
    assert paused["jobs"] == {**idle, "paused": 1}
    assert (paused["items"]["pending"], paused["items"]["done"]) == (len(tier) - 5, 5)

    control.resume(job, user=supervisor)
    assert progress(client, job)["jobs"] == {**idle, "running": 1}
    assert run_in_process(job) is False
    assert progress(client, job) == {"jobs": idle, "items": {}}  # finished: no longer active
