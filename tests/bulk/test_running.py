"""A job runs through the single change flow: first batch, pause for review, the rest; pause,
resume, cancel; an entitlement changed since the plan is skipped. Real sandbox, real database,
the worker's own code in this process (test_workers.py runs real worker processes)."""

import pytest

from entitlements.bulk import control
from entitlements.bulk.models import EventKind, ItemState, JobState
from entitlements.models import ChangeAttempt, Entitlement, Product
from entitlements.outcomes import Outcome
from tests.factories import change

from .conftest import TARGET, plan, run_in_process, sent_ids

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_batch_then_pause_then_the_rest(tier, supervisor, sandbox, settings):
    settings.OPF_MAX_REQUESTS_PER_SECOND = 50
    job = plan(supervisor, first_batch=5)
    assert sandbox.requests("change_product") == []  # planning sends nothing
    control.start(job, user=supervisor)

    assert run_in_process(job) is False  # paused after the first batch
    job.refresh_from_db()
    assert job.state == JobState.PAUSED
    first = sent_ids(sandbox)
    assert first == tier[:5] or sorted(first) == tier[:5]
    assert job.events.filter(kind=EventKind.FIRST_BATCH_DONE).count() == 1

    control.resume(job, user=supervisor)
    assert run_in_process(job) is False
    job.refresh_from_db()
    assert job.state == JobState.FINISHED
    assert sorted(sent_ids(sandbox)) == tier  # each once, none of the blocked ones
    target = Product.objects.get(opf_id=TARGET)
    assert Entitlement.objects.filter(opf_id__in=tier, product=target).count() == len(tier)
    # Each change is the single change's audit record, naming the job and its supervisor.
    attempts = ChangeAttempt.objects.filter(bulk_job=job)
    assert attempts.count() == len(tier)
    assert set(attempts.values_list("outcome", flat=True)) == {Outcome.COMPLETED}
    assert set(attempts.values_list("actor_username", flat=True)) == {"supervisor"}
    assert job.items.filter(state=ItemState.DONE, outcome=Outcome.COMPLETED).count() == len(tier)
    kinds = list(job.events.values_list("kind", "actor_username"))
    assert kinds == [
        ("planned", "supervisor"), ("started", "supervisor"), ("first_batch_done", "portal"),
        ("resumed", "supervisor"), ("finished", "portal"),
    ]  # fmt: skip


def test_pause_stops_sending_resume_goes_on_cancel_sends_nothing_more(
    tier, supervisor, sandbox, settings
):
    settings.OPF_MAX_REQUESTS_PER_SECOND = 50
    job = plan(supervisor, first_batch=3)
    control.start(job, user=supervisor)
    run_in_process(job)
    control.resume(job, user=supervisor)
    control.pause(job, user=supervisor)
    assert run_in_process(job) is False  # a paused job's worker sends nothing
    assert len(sent_ids(sandbox)) == 3

    control.resume(job, user=supervisor)
    sandbox.configure(latency_ms=100)
    # A short slice: some are sent, then the job is cancelled.
    run_in_process(job, seconds=0.5)
    sent_before_cancel = len(sent_ids(sandbox))
    assert 3 < sent_before_cancel < len(tier)
    cancelled = control.cancel(job, user=supervisor)
    assert cancelled == len(tier) - sent_before_cancel
    assert run_in_process(job) is False
    assert len(sent_ids(sandbox)) == sent_before_cancel
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    with pytest.raises(control.ControlRefused):
        control.resume(job, user=supervisor)
    assert [k for (k,) in job.events.values_list("kind")].count("paused") == 1


def test_an_entitlement_changed_since_the_plan_is_skipped_not_overwritten(
    tier, supervisor, sandbox, settings
):
    settings.OPF_MAX_REQUESTS_PER_SECOND = 50
    job = plan(supervisor, first_batch=100)
    # Another agent moves one to Premium after the plan, before its turn.
    change(tier[2], "Netflix_EU_B_BUNDLE_PREMIUM", supervisor)
    moved = Entitlement.objects.get(opf_id=tier[2])
    sandbox.reset_requests()
    control.start(job, user=supervisor)
    run_in_process(job)

    assert tier[2] not in sent_ids(sandbox)
    assert len(sent_ids(sandbox)) == len(tier) - 1
    item = job.items.get(entitlement__opf_id=tier[2])
    assert (item.state, item.outcome) == (ItemState.SKIPPED, "changed_since_plan")
    moved.refresh_from_db()
    assert moved.product.opf_id == "Netflix_EU_B_BUNDLE_PREMIUM"


def test_a_supervisor_is_needed(tier, supervisor, agent):
    from entitlements.bulk.planning import PlanRefused

    with pytest.raises(PlanRefused, match="may not run bulk changes"):
        plan(agent)
    job = plan(supervisor)
    with pytest.raises(control.ControlRefused):
        control.start(job, user=agent)


def test_the_ones_not_sent_are_retried_and_the_others_handed_to_an_agent(
    tier, supervisor, sandbox, settings, client
):
    from django.urls import reverse

    settings.OPF_MAX_REQUESTS_PER_SECOND = 50
    job = plan(supervisor, first_batch=3)
    sandbox.inject("token", "refuse_token", count=100)  # OPF's Keycloak down: nothing sent
    control.start(job, user=supervisor)
    run_in_process(job)
    assert sent_ids(sandbox) == []
    not_sent = job.items.filter(state=ItemState.DONE, outcome=Outcome.NOT_SENT)
    assert not_sent.count() == 3

    client.force_login(supervisor)
    page = client.get(reverse("admin:entitlements_bulkjob_change", args=[job.pk])).content
    assert page.count(b"/admin/entitlements/entitlement/") >= 3  # each links to its entitlement
    assert b'id="retry"' in page

    sandbox.clear_faults()
    assert control.retry_not_sent(job, user=supervisor) == 3
    control.resume(job, user=supervisor)
    run_in_process(job)
    job.refresh_from_db()
    assert job.state == JobState.FINISHED
    assert sorted(sent_ids(sandbox)) == tier  # the three retried, then the rest, each once
    assert ChangeAttempt.objects.filter(bulk_job=job, outcome=Outcome.NOT_SENT).count() == 3
