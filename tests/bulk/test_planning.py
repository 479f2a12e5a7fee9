"""The dry run: how many qualify, how many are blocked and why, a sample; nothing is sent. The
same plan from the admin's form (source product or CSV) and from bulk_change_product."""

import pytest
from django.core.management import CommandError, call_command

from entitlements.bulk.models import BulkJob, ItemState, JobState
from entitlements.bulk.planning import PlanRefused, read_ids
from entitlements.outcomes import Outcome
from tests.factories import change_attempt

from .conftest import REASON, SOURCE, TARGET, plan

pytestmark = pytest.mark.django_db


@pytest.mark.tier_size(12)
def test_dry_run_counts_and_reasons_by_source_product(tier, supervisor, sandbox):
    change_attempt(tier[0], TARGET, outcome=Outcome.AWAITING_CONFIRMATION)  # a change open
    change_attempt(tier[1], TARGET, outcome=Outcome.OUTCOME_UNKNOWN)  # a change open too
    job = plan(supervisor)
    assert job.state == JobState.PLANNED
    assert (job.qualifying_count, job.blocked_count) == (10, 4)
    # The world's two Basic ones are cancelled and revoked.
    assert job.plan["blocked"] == {"open_change": 2, "status": 2}
    assert sorted(job.plan["blocked_sample"]["status"]) == ["ENT-CANCELLED", "ENT-REVOKED"]
    assert job.plan["sample"] == tier[2:12]
    assert job.items.filter(state=ItemState.PENDING).count() == 10
    assert sandbox.requests("change_product") == []


@pytest.mark.tier_size(3)
def test_dry_run_of_a_csv_names_other_providers_unknown_ids_and_the_target_already(
    tier, supervisor, sandbox
):
    ids = [*tier, "ENT-DSN-1", "ENT-NFX-1", "ENT-NOT-THERE", "ENT-CANCELLED"]
    job = plan(supervisor, ids=ids, source=None, target="Netflix_EU_B_BUNDLE_STANDARD")
    assert job.qualifying_count == 3
    assert job.plan["blocked"] == {
        "other_provider": 1, "already_target": 1, "not_found": 1, "status": 1,
    }  # fmt: skip
    assert job.plan["blocked_sample"]["other_provider"] == ["ENT-DSN-1"]
    assert job.plan["blocked_sample"]["not_found"] == ["ENT-NOT-THERE"]


def test_csv_of_ids_one_a_line_or_a_column():
    assert read_ids(b"ENT-1\nENT-2\n\nENT-1\n") == ["ENT-1", "ENT-2"]
    assert read_ids("accountId,entitlementId\nA1,ENT-9\nA2,ENT-8\n") == ["ENT-9", "ENT-8"]
    with pytest.raises(PlanRefused, match="entitlementId"):
        read_ids("a,b\n1,2\n")
    with pytest.raises(PlanRefused, match="no entitlement id"):
        read_ids("\n\n")


def test_a_target_of_another_provider_is_refused(tier, supervisor):
    with pytest.raises(PlanRefused, match="same provider"):
        plan(supervisor, target="DisneyPlus_EU_PREMIUM")
    assert not BulkJob.objects.exists()


def _command(*args):
    from io import StringIO

    out = StringIO()
    call_command("bulk_change_product", "--from", SOURCE, "--to", TARGET, "--reason", REASON,
                 *args, stdout=out)  # fmt: skip
    return out.getvalue()


@pytest.mark.tier_size(4)
def test_command_dry_run_prints_the_plan_and_stores_nothing(tier, supervisor, sandbox):
    out = _command("--user", "supervisor", "--dry-run")
    assert "qualify: 4" in out and "blocked: 2" in out
    assert "2 because its status does not allow a change" in out
    assert not BulkJob.objects.exists()
    assert sandbox.requests("change_product") == []


@pytest.mark.tier_size(4)
def test_command_refuses_a_user_without_the_permission(tier, agent, sandbox):
    with pytest.raises(CommandError, match="may not run bulk changes"):
        _command("--user", "agent")
    assert not BulkJob.objects.exists()


@pytest.mark.tier_size(4)
def test_command_plans_starts_and_prints_the_job_id(
    tier, supervisor, sandbox, tmp_path, django_capture_on_commit_callbacks
):
    ids = tmp_path / "ids.csv"
    ids.write_text("entitlementId\n" + "\n".join(tier[:3]) + "\n")
    with django_capture_on_commit_callbacks(execute=True):
        out = _command("--user", "supervisor", "--ids", str(ids), "--first", "2")
    job = BulkJob.objects.get()
    assert f"job id: {job.pk}" in out
    assert job.state == JobState.RUNNING_FIRST_BATCH
    assert (job.first_batch, job.qualifying_count) == (2, 3)
    assert job.ids_file_name == "ids.csv"
    # Queued for the workers (django-tasks' database backend): one task per chain.
    from django_tasks_db.models import DBTaskResult

    queued = [r.args_kwargs["args"] for r in DBTaskResult.objects.all()]
    assert queued == [[job.pk, job.generation]] * 2


@pytest.mark.tier_size(4)
def test_bulk_job_command_pauses_resumes_cancels_and_shows_status(tier, supervisor, sandbox):
    from io import StringIO

    from entitlements.bulk import control

    job = plan(supervisor, first_batch=2)
    control.start(job, user=supervisor)

    def bulk_job(*args):
        out = StringIO()
        call_command("bulk_job", str(job.pk), *args, stdout=out)
        return out.getvalue()

    with pytest.raises(CommandError, match="--user"):
        bulk_job("pause")
    bulk_job("pause", "--user", "supervisor")
    job.refresh_from_db()
    assert job.state == JobState.PAUSED
    status = bulk_job("status")
    assert status.startswith("[" + "-" * 30 + "] 0/4 Paused")
    # --wait on a job that is not running prints the bar once and says how to go on.
    assert f"bulk_job {job.pk} resume" in bulk_job("status", "--wait")
    bulk_job("resume", "--user", "supervisor")
    job.refresh_from_db()
    assert job.state == JobState.RUNNING
    assert "cancel: 4 entitlements" in bulk_job("cancel", "--user", "supervisor")
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert list(job.events.values_list("kind", "actor_username")) == [
        ("planned", "supervisor"), ("started", "supervisor"), ("paused", "supervisor"),
        ("resumed", "supervisor"), ("cancelled", "supervisor"),
    ]  # fmt: skip
    with pytest.raises(CommandError, match="nothing to cancel"):
        bulk_job("cancel", "--user", "supervisor")
