"""GET /metrics: the token rules, the numbers moving after real changes and notifications (the
OPF sandbox over HTTP), and the counts of several processes added up by the one answering."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from entitlements.models import ChangeAttempt, Entitlement, Product
from entitlements.outcomes import Outcome
from tests.factories import change
from tests.notifications.conftest import SECRET, notification, signed_headers

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "metrics-test-token-0123456789"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- who may read it ------------------------------------------------------------------------


def test_metrics_is_404_while_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.django_db
def test_metrics_needs_the_bearer_token(client, metrics_token):
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    assert wrong.status_code == 403 and TOKEN.encode() not in wrong.content
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN[:-1]}").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    # no session is made for a scrape
    assert not client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").cookies


# --- the numbers move -----------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_move_after_a_change_and_its_confirmation(
    client, metrics_token, sandbox, world, agent, settings, django_capture_on_commit_callbacks
):
    settings.OPF_NOTIFICATION_SECRETS = [SECRET]
    before = scrape(client)
    assert value(before, "careportal_changes_awaiting_confirmation") == 0

    # The test's transaction never commits: run what would happen on commit.
    with django_capture_on_commit_callbacks(execute=True):
        attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)  # the sandbox answers 202
    assert attempt.outcome == Outcome.AWAITING_CONFIRMATION
    during = scrape(client)
    assert value(during, "careportal_changes_awaiting_confirmation") == 1
    assert value(during, "careportal_changes_open") == 1
    assert value(during, "careportal_changes_overdue") == 0
    calls = "careportal_opf_change_product_calls_total"
    assert (
        value(during, calls, outcome="awaiting_confirmation")
        == value(before, calls, outcome="awaiting_confirmation") + 1
    )
    sent, labels = "careportal_opf_requests_total", {"operation": "changeProduct", "status": "202"}
    assert value(during, sent, **labels) == value(before, sent, **labels) + 1
    tokens = "careportal_opf_token_requests_total"
    assert (
        value(during, tokens, grant="password", result="obtained")
        == value(before, tokens, grant="password", result="obtained") + 1
    )
    histogram = "careportal_opf_change_product_duration_seconds_count"
    assert value(during, histogram) == value(before, histogram) + 1

    body = notification(
        "CHANGE_CONFIRMED",
        "ENT-DSN-1",
        productId="DisneyPlus_EU_PREMIUM",
        correlationId=attempt.correlation_id,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/opf/notifications",
            body,
            content_type="application/json",
            headers={k: v for k, v in signed_headers(body).items() if k != "Content-Type"},
        )
    assert response.status_code == 200 and response.json()["result"] == "applied"
    refused = client.post("/opf/notifications", body, content_type="application/json")
    assert refused.status_code == 401

    after = scrape(client)
    notes = "careportal_opf_notifications_total"
    assert value(after, notes, result="applied") == value(during, notes, result="applied") + 1
    assert (
        value(after, notes, result="unauthenticated")
        == value(during, notes, result="unauthenticated") + 1
    )
    assert value(after, "careportal_changes_awaiting_confirmation") == 0
    assert value(after, "careportal_changes_open") == 0
    finished = "careportal_changes_finished_total"
    for outcome in ("awaiting_confirmation", "confirmed"):  # OPF's 202, then the notification
        assert (
            value(after, finished, outcome=outcome) == value(before, finished, outcome=outcome) + 1
        )
    assert value(after, "careportal_metrics_source_up", source="change_gauges") == 1


@pytest.mark.django_db
def test_token_refusals_and_unknown_outcomes_are_counted(
    client, metrics_token, sandbox, world, agent
):
    before = scrape(client)
    sandbox.inject("token", "refuse_token", status=401)
    refused = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    assert refused.outcome == Outcome.NOT_SENT
    sandbox.inject("change_product", "hang", seconds=5, apply=True)
    unknown = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    assert unknown.outcome == Outcome.OUTCOME_UNKNOWN
    after = scrape(client)
    tokens = "careportal_opf_token_requests_total"
    assert (
        value(after, tokens, grant="password", result="refused")
        == value(before, tokens, grant="password", result="refused") + 1
    )
    calls = "careportal_opf_change_product_calls_total"
    for outcome in ("not_sent", "outcome_unknown"):
        assert value(after, calls, outcome=outcome) == value(before, calls, outcome=outcome) + 1
    assert value(after, "careportal_changes_outcome_unknown") == 1


@pytest.mark.django_db
def test_overdue_changes_are_counted(client, metrics_token, sandbox, world, agent, settings):
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    assert value(scrape(client), "careportal_changes_overdue") == 0
    assert attempt.outcome == Outcome.AWAITING_CONFIRMATION
    settings.CONFIRMATION_DEADLINE = 1  # seconds (audit times cannot be moved back)
    time.sleep(1.1)
    samples = scrape(client)
    assert value(samples, "careportal_changes_overdue") == 1
    assert value(samples, "careportal_changes_awaiting_confirmation") == 1


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_gauges_read_no_finishedchange(world, agent):
    """With many finished changes and a few open ones, PostgreSQL counts through an index."""
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's (SQLite is the demo database)")
    from entitlements.dashboard import open_counts

    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    basic, premium = (
        Product.objects.get(opf_id=f"Netflix_EU_B_BUNDLE_{tier}") for tier in ("BASIC", "PREMIUM")
    )
    finished = [
        ChangeAttempt(
            **ChangeAttempt.entitlement_snapshot(entitlement),
            correlation_id=f"bulk-{i}",
            user=agent,
            actor_username="agent",
            from_product=basic,
            to_product=premium,
            reason_code="customer_upgrade",
            outcome=Outcome.COMPLETED,
        )
        for i in range(20000)
    ]
    ChangeAttempt.objects.bulk_create(finished, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE entitlements_changeattempt")
    sql = _open_counts_sql()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    assert "Index" in plan, plan
    assert open_counts()["in_flight"] == 0


def _open_counts_sql():
    """The SQL of the gauges (the dashboard's open_counts), as Django sends it."""
    from django.test.utils import CaptureQueriesContext

    from entitlements.dashboard import open_counts

    with CaptureQueriesContext(connection) as captured:
        open_counts()
    assert len(captured.captured_queries) == 1
    return captured.captured_queries[0]["sql"]


# --- several processes, one answer ----------------------------------------------------------

WRITER = """
import os, sys
os.environ["DEBUG"] = "true"
os.environ["DJANGO_SETTINGS_MODULE"] = "careportal.settings"
import django
django.setup()
from django.core.cache import caches
from entitlements.opf import OpfClient, OpfConfig
from entitlements.models import new_correlation_id
config = OpfConfig(base_url=sys.argv[1], token_url=sys.argv[2], token_grant="password",
                   client_id="opf-operator", client_secret="careportal-sandbox-secret",
                   username="careportal", password="careportal-sandbox-password")
with OpfClient(config, cache=caches["default"]) as client:
    result = client.change_product(entitlement_id=sys.argv[3], product_id=sys.argv[4],
                                   correlation_id=new_correlation_id())
print(result.outcome.value, os.getpid())
"""


@pytest.mark.django_db
def test_multiprocess_counts_of_two_processes_are_added_up(
    client, metrics_token, sandbox, tmp_path, monkeypatch
):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "CACHE_URL": "locmemcache://"}
    changes = [
        ("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM"),
        ("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC"),
    ]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, sandbox.url, sandbox.token_url, *change],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for change in changes
    ]
    outputs = [writer.communicate(timeout=60) for writer in writers]
    for writer, (_out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
    pids = {out.split()[1] for out, _ in outputs}
    assert [out.split()[0] for out, _ in outputs] == ["completed", "completed"]
    assert len(pids) == 2
    assert len(list(directory.glob("counter_*.db"))) == 2  # one file per writing process

    # This process answers (it sent nothing itself): the counts are the writers'.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    samples = scrape(client)
    assert value(samples, "careportal_opf_change_product_calls_total", outcome="completed") == 2
    sent = "careportal_opf_requests_total"
    assert value(samples, sent, operation="changeProduct", status="200") == 2
    assert value(samples, "careportal_opf_change_product_duration_seconds_count") == 2
    assert len(sandbox.requests("change_product")) == 2
    # the database gauges come along in multiprocess mode too
    assert value(samples, "careportal_metrics_source_up", source="change_gauges") == 1
