"""The audit log for supervisors: list, filters, search, detail, CSV export,
and the overdue / outcome-unknown list."""

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from entitlements.outcomes import Outcome
from tests.factories import change_attempt

pytestmark = pytest.mark.django_db

AUDIT = "/admin/entitlements/changeattempt/"
EXPORT = "/admin/entitlements/changeattempt/export/"


def record(opf_id, to, outcome, username="agent", days_ago=0, **fields):
    """An audit record as the service writes it, made `days_ago` days back."""
    when = timezone.now() - timedelta(days=days_ago)
    with mock.patch("django.utils.timezone.now", return_value=when):
        return change_attempt(opf_id, to, outcome, actor_username=username, **fields)


@pytest.fixture
def log(world):
    """A small audit log: who did what, when, with which outcome."""
    return {
        "completed": record("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", Outcome.COMPLETED,
                            http_status=200, comment="asked by phone",
                            response_body='{"productId": "Netflix_EU_B_BUNDLE_PREMIUM"}'),
        "rejected": record("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", Outcome.REJECTED,
                           username="bob", days_ago=3, http_status=400,
                           opf_message="Offer closed", reason_code="customer_downgrade"),
        "awaiting": record("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", Outcome.AWAITING_CONFIRMATION,
                           days_ago=10, http_status=202),
        "old": record("ENT-NFX-1", "Netflix_EU_B_BUNDLE_BASIC", Outcome.NOT_SENT,
                      username="bob", days_ago=40),
    }  # fmt: skip


def listed(client, query=""):
    response = client.get(AUDIT + query)
    assert response.status_code == 200, response.content
    return [a.pk for a in response.context["cl"].result_list]


def pks(log, *names):
    return [log[n].pk for n in names]


def test_it_is_called_audit_log_and_lists_every_column(supervisor_client, log):
    page = supervisor_client.get(AUDIT).content.decode()
    assert "<h1>Audit log</h1>" in page and "&rsaquo; Audit log" in page
    for header in ("When", "Agent", "Account", "Entitlement", "From → to", "Reason", "Ticket",
                   "Comment", "Outcome", "OPF status", "Correlation id"):  # fmt: skip
        assert f"<span>{header}</span>" in page, header
    row = next(r for r in page.split("<tr") if log["rejected"].correlation_id in r)
    for cell in ("bob", "ACC-1002", ">ENT-NFX-2</a>", "Netflix Premium → Netflix Basic",
                 "Customer asked to downgrade", "rejected", "400"):  # fmt: skip
        assert cell in row, cell


def test_newest_first(supervisor_client, log):
    assert listed(supervisor_client) == pks(log, "completed", "rejected", "awaiting", "old")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?outcome__exact=rejected", ["rejected"]),
        ("?provider=DisneyPlus_EU", ["awaiting"]),
        ("?actor_username=bob", ["rejected", "old"]),
        ("?actor_username=bo", []),  # the agent filter is exact
        ("?created=today", ["completed"]),
        ("?created=7d", ["completed", "rejected"]),
        ("?created=30d", ["completed", "rejected", "awaiting"]),
        ("?created_to=" + (timezone.now() - timedelta(days=5)).date().isoformat(),
         ["awaiting", "old"]),
        ("?created_from=" + (timezone.now() - timedelta(days=11)).date().isoformat()
         + "&created_to=" + (timezone.now() - timedelta(days=2)).date().isoformat(),
         ["rejected", "awaiting"]),
        ("?created_from=not-a-date", ["completed", "rejected", "awaiting", "old"]),
        ("?actor_username=bob&created=30d", ["rejected"]),
    ],
)  # fmt: skip
def test_filters_by_outcome_provider_agent_and_date(supervisor_client, log, query, expected):
    assert listed(supervisor_client, query) == pks(log, *expected)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ENT-NFX-1", ["completed", "old"]),
        ("ENT-NFX", ["completed", "rejected", "old"]),
        ("ACC-1001", ["completed", "awaiting", "old"]),
        ("NFX-1", []),
    ],
)
def test_search_by_entitlement_or_account(supervisor_client, log, term, expected):
    assert listed(supervisor_client, f"?q={term}") == pks(log, *expected)


def test_search_by_correlation_id_whole_or_beginning(supervisor_client, log):
    correlation_id = log["rejected"].correlation_id
    assert listed(supervisor_client, f"?q={correlation_id}") == pks(log, "rejected")
    assert listed(supervisor_client, f"?q={correlation_id[:8]}") == pks(log, "rejected")


def test_the_agent_filter_is_typed_and_keeps_the_rest_of_the_query(supervisor_client, log):
    page = supervisor_client.get(AUDIT + "?outcome__exact=rejected&q=ENT").content.decode()
    form = page.split('id="filter-actor_username"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="outcome__exact" value="rejected">' in form
    assert '<input type="hidden" name="q" value="ENT">' in form
    assert 'name="actor_username"' in form


def test_the_detail_page_shows_opfs_response(supervisor_client, log):
    url = reverse("admin:entitlements_changeattempt_change", args=[log["completed"].pk])
    page = supervisor_client.get(url).content.decode()
    assert "<pre>{&quot;productId&quot;: &quot;Netflix_EU_B_BUNDLE_PREMIUM&quot;}</pre>" in page
    assert log["completed"].correlation_id in page and "asked by phone" in page
    assert "Audit record" in page


# --- CSV export -----------------------------------------------------------------------------


def export(client, query=""):
    response = client.get(EXPORT + query)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)  # never the whole file in memory
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_export_holds_every_column_of_the_filtered_list(supervisor_client, log):
    rows = export(supervisor_client, "?actor_username=bob")
    assert [r["correlation id"] for r in rows] == [
        log["rejected"].correlation_id,
        log["old"].correlation_id,
    ]
    row = rows[0]
    assert row["agent"] == "bob" and row["account id"] == "ACC-1002"
    assert row["entitlement id"] == "ENT-NFX-2" and row["provider"] == "Netflix_EU_B"
    assert row["from product"] == "Netflix_EU_B_BUNDLE_PREMIUM"
    assert row["to product"] == "Netflix_EU_B_BUNDLE_BASIC"
    assert row["reason"] == "customer_downgrade" and row["outcome"] == "rejected"
    assert row["OPF status"] == "400" and row["OPF message"] == "Offer closed"
    assert row["when (UTC)"].endswith("+00:00")


def test_the_export_applies_search_and_every_filter(supervisor_client, log):
    assert len(export(supervisor_client)) == 4
    assert len(export(supervisor_client, "?q=ACC-1001&created=30d")) == 2
    assert export(supervisor_client, "?outcome__exact=declined") == []


def test_the_export_link_carries_the_current_filters(supervisor_client, log):
    page = supervisor_client.get(AUDIT + "?actor_username=bob&created=7d").content.decode()
    assert f'href="{EXPORT}?actor_username=bob&amp;created=7d"' in page
    assert ">CSV export</a>" in page


def test_the_export_is_safe_to_open_in_a_spreadsheet(supervisor_client, world):
    record("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", Outcome.REJECTED,
           comment='=HYPERLINK("http://evil")', opf_message="+1-2", username="@agent")  # fmt: skip
    [row] = export(supervisor_client)
    assert row["comment"] == '\'=HYPERLINK("http://evil")'
    assert row["OPF message"] == "'+1-2" and row["agent"] == "'@agent"


def test_bad_filters_in_the_export_are_a_400_not_a_500(supervisor_client, log):
    assert supervisor_client.get(EXPORT + "?nonexistent__field=1").status_code == 400


# --- overdue and outcome unknown ----------------------------------------------------------


def test_the_attention_list_shows_overdue_and_unknown_changes(supervisor_client, log, settings):
    settings.CONFIRMATION_DEADLINE = timedelta(days=1)
    unknown = record("ENT-NFX-2", "Netflix_EU_B_BUNDLE_STANDARD", Outcome.OUTCOME_UNKNOWN,
                     days_ago=1, opf_message="read timeout")  # fmt: skip
    page = supervisor_client.get(reverse("admin:entitlements_changeattempt_attention"))
    html = page.content.decode()
    overdue_part, unknown_part = html.split('id="unknown"', 1)
    assert log["awaiting"].correlation_id in overdue_part
    assert unknown.correlation_id in unknown_part and "read timeout" in unknown_part
    assert log["completed"].correlation_id not in html


def test_a_recent_awaited_change_is_not_overdue(supervisor_client, world, settings):
    settings.CONFIRMATION_DEADLINE = timedelta(days=1)
    fresh = record("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", Outcome.AWAITING_CONFIRMATION)
    html = supervisor_client.get(reverse("admin:entitlements_changeattempt_attention"))
    assert fresh.correlation_id not in html.content.decode()
    assert "No overdue confirmations." in html.content.decode()
