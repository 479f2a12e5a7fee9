"""Real worker processes (`manage.py db_worker`): one killed with SIGKILL mid-job and another
started finishes the job with every entitlement sent exactly once; two workers on PostgreSQL
never send the same entitlement and keep to OPF_MAX_REQUESTS_PER_SECOND together."""

import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection

from entitlements.bulk import control
from entitlements.bulk.models import ItemState, JobState
from entitlements.outcomes import Outcome
from tests.services.test_change_crashes import ROOT, _subprocess_env

from .conftest import plan, sent_ids

pytestmark = pytest.mark.django_db(transaction=True)
LEASE = 5


class Workers:
    """db_worker processes against the test database and the sandbox; all killed at the end."""

    def __init__(self, sandbox, tmp_path, **settings):
        self.env = _subprocess_env()
        self.env.update(
            OPF_BASE_URL=sandbox.url, OPF_TOKEN_URL=sandbox.token_url, OPF_READ_TIMEOUT="10",
            CACHE_URL="locmemcache://", BULK_LEASE_SECONDS=str(LEASE), BULK_CONCURRENCY="4",
            BULK_WORKERS_PER_JOB="2", **{k: str(v) for k, v in settings.items()},
        )  # fmt: skip
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = open(self.tmp_path / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.1",
             "--no-startup-delay", "--worker-id", f"test-worker-{len(self.processes)}"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("worker-*.log")))


@pytest.fixture
def workers(sandbox, tmp_path):
    made = []

    def make(**settings):
        made.append(Workers(sandbox, tmp_path, **settings))
        return made[-1]

    yield make
    for group in made:
        group.stop_all()


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def job_state(job) -> str:
    job.refresh_from_db()
    return job.state


@pytest.mark.tier_size(60)
def test_a_worker_killed_mid_job_and_restarted_sends_each_entitlement_exactly_once(
    tier, supervisor, sandbox, workers
):
    sandbox.configure(latency_ms=150)
    pool = workers(OPF_MAX_REQUESTS_PER_SECOND=20)
    job = plan(supervisor, first_batch=len(tier))  # one batch: no pause in the way
    control.start(job, user=supervisor)
    first = pool.start()
    wait_until(lambda: len(sent_ids(sandbox)) >= 15, 60, "the worker to send 15")
    first.send_signal(signal.SIGKILL)  # mid-call: some changes are in flight at OPF
    first.wait(timeout=10)
    sent_at_kill = len(sent_ids(sandbox))
    assert sent_at_kill < len(tier)

    pool.start()
    wait_until(lambda: job_state(job) == JobState.FINISHED, 90, "the job to finish")

    times_sent = Counter(sent_ids(sandbox))
    assert max(times_sent.values()) == 1, pool.logs()  # nothing sent twice
    items = {i.entitlement.opf_id: i for i in job.items.select_related("entitlement", "attempt")}
    states = Counter(i.state for i in items.values() if i.entitlement.opf_id in tier)
    # Nothing skipped: each is sent and done, or (left in flight by the kill) needs attention.
    assert set(states) <= {ItemState.DONE, ItemState.NEEDS_ATTENTION}, states
    assert states[ItemState.DONE] + states[ItemState.NEEDS_ATTENTION] == len(tier)
    for opf_id in tier:
        item = items[opf_id]
        if item.state == ItemState.DONE:
            assert times_sent[opf_id] == 1 and item.outcome == Outcome.COMPLETED
        else:  # its audit record was written before the call: never resent, a person settles
            assert item.attempt.outcome == Outcome.IN_FLIGHT and times_sent[opf_id] <= 1
    assert states[ItemState.NEEDS_ATTENTION] <= 4  # at most BULK_CONCURRENCY were in flight
    call_command("reconcile_changes", "--older-than", "0")
    unknown = job.items.filter(state=ItemState.NEEDS_ATTENTION, attempt__outcome="outcome_unknown")
    assert unknown.count() == states[ItemState.NEEDS_ATTENTION]


def _max_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.postgres_only
@pytest.mark.tier_size(80)
def test_two_workers_never_send_the_same_entitlement_and_share_the_budget(
    tier, supervisor, sandbox, workers
):
    if connection.vendor != "postgresql":
        pytest.skip("several workers need PostgreSQL (SQLite: one worker)")
    from django_tasks_db.models import DBTaskResult

    sandbox.configure(latency_ms=50)
    budget = 10
    pool = workers(OPF_MAX_REQUESTS_PER_SECOND=budget)
    job = plan(supervisor, first_batch=len(tier))
    control.start(job, user=supervisor)
    pool.start()
    pool.start()
    wait_until(lambda: job_state(job) == JobState.FINISHED, 60, "the job to finish")

    requests = sandbox.requests("change_product")
    assert sorted(r.entitlement_id for r in requests) == tier  # each exactly once
    assert _max_in_one_second([r.time for r in requests]) <= budget
    # Both workers took part, so the budget held across processes, not inside one.
    workers_used = {w for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)
                    for w in ids}  # fmt: skip
    assert workers_used == {"test-worker-0", "test-worker-1"}
    # And the budget was used: 80 at 10/s take about 8 s, not 80 / 160 per s.
    duration = requests[-1].time - requests[0].time
    assert 7.0 <= duration <= 12.0, duration
