"""The supervisors' pages: plan (CSV or source product) and its dry run, the job page with its
buttons, the progress JSON its script polls, the results CSV. Agents get none of it."""

import csv
import io

import pytest
from django.urls import reverse

from entitlements.bulk.models import BulkJob, JobState
from entitlements.models import Product

from .conftest import REASON, SOURCE, TARGET, run_in_process

PLAN_URL = "/admin/entitlements/bulkjob/add/"


def _plan_data(**overrides):
    data = {
        "source_product": Product.objects.get(opf_id=SOURCE).pk,
        "target_product": Product.objects.get(opf_id=TARGET).pk,
        "reason": REASON,
        "comment": "Basic retired in the EU",
        "first_batch": "3",
    }
    return {**data, **overrides}


@pytest.mark.django_db
@pytest.mark.tier_size(5)
def test_agents_cannot_plan_or_see_bulk_changes(tier, client, agent):
    client.force_login(agent)
    assert client.get(PLAN_URL).status_code == 403
    assert client.post(PLAN_URL, _plan_data()).status_code == 403
    assert client.get("/admin/entitlements/bulkjob/").status_code == 403
    assert not BulkJob.objects.exists()


@pytest.mark.django_db
@pytest.mark.tier_size(5)
def test_plan_from_a_csv_shows_the_dry_run_and_sends_nothing(tier, client, supervisor, sandbox):
    client.force_login(supervisor)
    upload = io.BytesIO(("entitlementId\n" + "\n".join([*tier, "ENT-DSN-1"])).encode())
    upload.name = "retire-basic.csv"
    response = client.post(PLAN_URL, _plan_data(source_product="", ids_file=upload), follow=True)
    body = response.content.decode()
    job = BulkJob.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "admin:entitlements_bulkjob_change", args=[job.pk]
    )
    assert 'id="plan-qualifying">5<' in body and 'id="plan-blocked">1<' in body
    assert "1 because it belongs to another provider" in body and "ENT-DSN-1" in body
    assert 'id="start"' in body
    assert sandbox.requests("change_product") == []
    # No inline script (a strict CSP is coming): the page's script is a static file.
    assert "<script>" not in body and "bulk-job.js" in body


@pytest.mark.django_db
def test_plan_form_needs_a_source_or_a_csv(client, supervisor, world):
    client.force_login(supervisor)
    response = client.post(PLAN_URL, _plan_data(source_product=""))
    assert "Choose a source product or upload a CSV" in response.content.decode()
    assert not BulkJob.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.tier_size(6)
def test_job_page_buttons_progress_json_and_results_csv(tier, client, supervisor, sandbox):
    client.force_login(supervisor)
    client.post(PLAN_URL, _plan_data())
    job = BulkJob.objects.get()
    control_url = reverse("admin:entitlements_bulkjob_control", args=[job.pk])
    client.post(control_url, {"action": "start"})
    job.refresh_from_db()
    assert job.state == JobState.RUNNING_FIRST_BATCH
    run_in_process(job)

    progress = client.get(reverse("admin:entitlements_bulkjob_progress", args=[job.pk])).json()
    assert progress["state"] == JobState.PAUSED
    assert progress["by_outcome"] == {
        "completed": 3, "its status does not allow a change": 2,
    }  # fmt: skip
    assert progress["left"] == 3
    page = client.get(reverse("admin:entitlements_bulkjob_change", args=[job.pk])).content
    assert b'id="resume"' in page and b"paused after the first batch" in page

    client.post(control_url, {"action": "resume"})
    run_in_process(job)
    response = client.get(reverse("admin:entitlements_bulkjob_results", args=[job.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 8  # 6 sent, 2 blocked
    assert {r["outcome"] for r in rows if r["state"] == "done"} == {"completed"}
    assert all(r["correlationId"] for r in rows if r["state"] == "done")
    events = [e.kind for e in job.events.all()]
    assert events == ["planned", "started", "first_batch_done", "resumed", "finished"]
