"""What the change flow says and keeps (issue 11 items 5, 7): Ticket, reasons by direction,
the provider's confirmation, what to tell the customer, refusals inside the portal."""

import csv
import io

import pytest
from django.urls import reverse

from entitlements.models import ChangeAttempt
from entitlements.outcomes import Outcome
from tests.factories import change_attempt

from .conftest import change_product_url, confirm, messages_of, review

pytestmark = pytest.mark.django_db


def test_the_ticket_is_stored_searchable_and_exported(
    agent_client, client, world, sandbox, supervisor
):
    page = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", ticket="CALL-4711")
    assert 'id="ticket-summary">CALL-4711<' in page.content.decode()
    confirm(agent_client, "ENT-NFX-1", page)
    assert ChangeAttempt.objects.get().ticket == "CALL-4711"
    client.force_login(supervisor)
    listed = client.get("/admin/entitlements/changeattempt/", {"q": "CALL-47"}).content.decode()
    assert "CALL-4711" in listed and "ENT-NFX-1" in listed
    assert (
        "ENT-NFX-1"
        not in client.get("/admin/entitlements/changeattempt/", {"q": "CALL-9"})
        .content.decode()
        .split('id="result_list"')[-1]
    )
    export = b"".join(client.get(reverse("admin:entitlements_changeattempt_export"))).decode()
    [row] = csv.DictReader(io.StringIO(export))
    assert row["ticket"] == "CALL-4711"


def test_the_ticket_is_required_when_change_ticket_required_is_on(
    agent_client, world, sandbox, settings
):
    settings.CHANGE_TICKET_REQUIRED = True
    form = agent_client.get(change_product_url("ENT-NFX-1")).content.decode()
    assert '<label class="required" for="id_ticket">Ticket:</label>' in form
    page = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", ticket="  ")
    assert "Give the Ticket" in page.content.decode()
    assert 'name="submission_id"' not in page.content.decode()
    assert sandbox.requests("change_product") == []


def test_a_downgrade_is_never_given_customer_asked_to_upgrade(agent_client, world, sandbox):
    form = agent_client.get(change_product_url("ENT-NFX-2")).content.decode()
    assert 'value="customer_upgrade" data-direction="upgrade"' in form  # change-reasons.js hides it
    assert 'data-direction="downgrade"' in form
    page = review(agent_client, "ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", reason="customer_upgrade")
    assert "That reason does not fit a downgrade" in page.content.decode()
    ok = review(agent_client, "ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", reason="billing_correction")
    assert 'name="submission_id"' in ok.content.decode()  # a reason for any direction fits


def test_change_reasons_accept_a_direction_and_the_old_pairs(monkeypatch):
    import importlib

    import careportal.settings.care as care

    monkeypatch.setenv("CHANGE_REASONS", "up:Wants more:upgrade,fix:Fix it,down:Less:downgrade")
    reloaded = importlib.reload(care)
    assert reloaded.CHANGE_REASONS == [("up", "Wants more"), ("fix", "Fix it"), ("down", "Less")]
    assert reloaded.CHANGE_REASON_DIRECTIONS == {"up": "upgrade", "fix": "any", "down": "downgrade"}
    monkeypatch.setenv("CHANGE_REASONS", "up:Wants more:sideways")
    with pytest.raises(Exception, match="upgrade\\|downgrade\\|any"):
        importlib.reload(care)
    monkeypatch.delenv("CHANGE_REASONS")
    importlib.reload(care)


def test_the_review_warns_of_a_confirmation_only_for_providers_that_confirm(
    agent_client, world, sandbox
):
    first = review(agent_client, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM").content.decode()
    assert "may need to confirm" in first  # nothing known yet about this provider
    change_attempt("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", outcome=Outcome.DECLINED, http_status=202)
    change_attempt(
        "ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", outcome=Outcome.COMPLETED, http_status=200
    )
    disney = review(agent_client, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM").content.decode()
    assert "DisneyPlus_EU confirms changes itself" in disney
    netflix = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM").content.decode()
    assert "applies changes at once" in netflix and "confirms changes itself" not in netflix


def test_outcome_messages_say_what_to_tell_the_customer_and_never_contradict(
    agent_client, world, sandbox
):
    page = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    [message] = messages_of(agent_client.get(confirm(agent_client, "ENT-NFX-1", page)["Location"]))
    assert "Tell the customer: the new tier is active now." in message
    from entitlements import messages

    not_sent = messages.outcome_message(Outcome.NOT_SENT, http_status=403)
    assert "403" in not_sent and "unreachable" not in not_sent and "never reached" not in not_sent


def test_a_403_is_inside_the_portal_and_names_the_role(agent_client, world):
    response = agent_client.get("/admin/entitlements/changeattempt/")
    page = response.content.decode()
    assert response.status_code == 403
    assert 'id="site-name"' in page and "Care Portal" in page  # the portal's header
    assert "This page needs the Care supervisor role." in page
    assert 'id="back-home"' in page and 'href="/admin/"' in page


def test_a_404_is_inside_the_portal(agent_client, world):
    response = agent_client.get("/admin/entitlements/entitlement/999999/status/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="site-name"' in page and 'id="back-home"' in page


def test_the_500_page_renders_without_the_database(django_db_blocker):
    from django.test import RequestFactory

    from careportal.errors import server_error

    request = RequestFactory().get("/admin/")
    with django_db_blocker.block():  # any query would fail the test
        response = server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert 'id="site-name"' in page and 'id="error-id"' in page
    assert "<style" not in page and "style=" not in page  # the strict CSP's rule
