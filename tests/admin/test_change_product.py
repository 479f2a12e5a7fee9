"""The change-product pages against the OPF sandbox (rows O1-O7, O9, O14, O15,
X2, X3): one request to OPF per confirmed change, none for anything refused."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from entitlements.models import ChangeAttempt, Entitlement
from entitlements.outcomes import Outcome
from tests.factories import change_attempt

from .conftest import (
    change_form_data,
    change_product_url,
    confirm,
    confirm_data,
    entitlement_url,
    messages_of,
    review,
)

pytestmark = pytest.mark.django_db


def posts(sandbox):
    return sandbox.requests("change_product")


def change(client, opf_id, product_opf_id, **overrides):
    """Fill in the form, confirm, follow the redirect: the entitlement page."""
    confirmation = review(client, opf_id, product_opf_id, **overrides)
    assert confirmation.status_code == 200, confirmation.content
    response = confirm(client, opf_id, confirmation)
    assert response.status_code == 302 and response["Location"] == entitlement_url(opf_id)
    return client.get(response["Location"])


# --- the form -------------------------------------------------------------------------------


def test_the_form_offers_only_other_active_tiers_of_the_same_provider(agent_client, world):
    page = agent_client.get(change_product_url("ENT-NFX-1")).content.decode()
    assert "Netflix Basic (downgrade)" in page
    assert "Netflix Premium (upgrade)" in page
    assert "Netflix Standard (" not in page  # the current one
    assert "Netflix Legacy" not in page  # inactive
    assert "Disney+" not in page  # another provider
    for label in ("New product", "Reason", "Comment", "Customer asked to upgrade"):
        assert label in page


def test_reason_codes_come_from_settings(agent_client, world, settings):
    settings.CHANGE_REASONS = [("goodwill", "Goodwill gesture")]
    page = agent_client.get(change_product_url("ENT-NFX-1")).content.decode()
    assert '<option value="goodwill">Goodwill gesture</option>' in page
    assert "customer_upgrade" not in page


def test_the_reason_is_required(agent_client, world, sandbox):
    response = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", reason="")
    assert response.status_code == 200
    assert "Choose a reason for the change." in response.content.decode()
    assert 'id="confirm-change-form"' not in response.content.decode()
    response = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", reason="bribe")
    assert 'id="confirm-change-form"' not in response.content.decode()
    assert posts(sandbox) == []


def test_the_confirmation_shows_old_and_new_tier_and_warns_nothing_is_sent_yet(
    agent_client, world, sandbox
):
    response = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", comment="by phone")
    page = response.content.decode()
    assert "<strong>Netflix Standard</strong> → <strong>Netflix Premium</strong>" in page
    assert "(upgrade)" in page
    assert "The provider may need to confirm this change" in page
    assert 'value="Confirm change"' in page
    assert "by phone" in page and "Customer asked to upgrade" in page
    assert posts(sandbox) == [] and ChangeAttempt.objects.count() == 0


def test_go_back_to_the_form_keeps_what_was_typed(agent_client, world, sandbox):
    confirmation = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", comment="x y")
    data = {**confirm_data(confirmation), "step": "edit"}
    data.pop("submission_id")
    page = agent_client.post(change_product_url("ENT-NFX-1"), data).content.decode()
    assert 'id="change-product-form"' in page and "x y</textarea>" in page
    assert posts(sandbox) == []


# --- O14, O15: refused before anything is sent ---------------------------------------------


@pytest.mark.parametrize(
    ("product", "why"),
    [
        ("DisneyPlus_EU_PREMIUM", "belongs to another provider"),
        ("Netflix_EU_B_BUNDLE_STANDARD", "already the current product"),
        ("Netflix_EU_B_BUNDLE_LEGACY", "no longer offered"),
    ],
)
@pytest.mark.parametrize("step", ["review", "confirm"])
def test_o14_a_product_posted_by_hand_is_refused_with_why_and_nothing_sent(
    agent_client, world, sandbox, product, why, step
):
    data = change_form_data("ENT-NFX-1", product, step=step)
    if step == "confirm":
        # a real submission id, for another product: the form is checked again on confirm
        good = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
        data["submission_id"] = confirm_data(good)["submission_id"]
    response = agent_client.post(change_product_url("ENT-NFX-1"), data)
    assert response.status_code == 200
    assert why in response.content.decode()
    assert posts(sandbox) == [] and ChangeAttempt.objects.count() == 0


@pytest.mark.parametrize("raw", ["999999", "abc", "../1", "", "1" * 40, "²"])
def test_o14_an_unknown_product_id_is_a_form_error(agent_client, world, sandbox, raw):
    response = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", new_product=raw)
    assert response.status_code == 200
    page = response.content.decode()
    assert "not in the catalogue" in page or "Choose the new product" in page
    assert posts(sandbox) == []


@pytest.mark.parametrize("opf_id", ["ENT-CANCELLED", "ENT-REVOKED"])
def test_o15_cancelled_or_revoked_entitlements_show_why_instead_of_the_button(
    agent_client, world, sandbox, opf_id
):
    page = agent_client.get(entitlement_url(opf_id)).content.decode()
    assert 'id="change-product"' not in page
    assert "cannot change product" in page
    response = agent_client.get(change_product_url(opf_id))
    assert response.status_code == 302 and response["Location"] == entitlement_url(opf_id)
    response = review(agent_client, opf_id, "Netflix_EU_B_BUNDLE_PREMIUM")
    assert response.status_code == 302
    assert "cannot change product" in " ".join(messages_of(agent_client.get(response["Location"])))
    assert posts(sandbox) == []


def test_o15_a_change_awaiting_confirmation_blocks_another(agent_client, world, sandbox):
    change(agent_client, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM")
    page = agent_client.get(entitlement_url("ENT-DSN-1")).content.decode()
    assert 'id="change-product"' not in page
    # No red refusal beside the agent's own accepted change: what it waits for instead.
    assert 'id="change-refusal"' not in page
    assert "Waiting for DisneyPlus_EU to confirm or decline" in page
    response = review(agent_client, "ENT-DSN-1", "DisneyPlus_EU_BASIC")
    assert response.status_code == 302
    assert len(posts(sandbox)) == 1


# --- outcomes: a message per outcome, in words an agent can act on -----------------------


def test_o1_completed(agent_client, world, sandbox, agent):
    page = change(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", comment="by phone")
    [message] = messages_of(page)
    assert message.startswith("Change completed")
    assert 'class="success"' in page.content.decode()
    assert '<strong id="current-product">Netflix Premium</strong>' in page.content.decode()
    assert len(posts(sandbox)) == 1
    attempt = ChangeAttempt.objects.get()
    assert (attempt.user, attempt.reason_code, attempt.comment) == (
        agent,
        "customer_upgrade",
        "by phone",
    )
    assert attempt.correlation_id in page.content.decode()  # in the history


def test_o2_waiting_for_provider_confirmation(agent_client, world, sandbox):
    page = change(agent_client, "ENT-DSN-1", "DisneyPlus_EU_PREMIUM")
    [message] = messages_of(page)
    assert message.startswith("Change accepted, waiting for provider confirmation")
    html = page.content.decode()
    assert 'class="warning"' in html
    # the change in flight, on the page itself: to what, since when, by whom, correlation id
    attempt = ChangeAttempt.objects.get()
    block = html.split('id="open-change"', 1)[1].split("</div>", 1)[0]
    assert "Change waiting for provider confirmation" in block
    assert "Disney+ Premium" in block and "agent" in block and attempt.correlation_id in block
    assert '<strong id="current-product">Disney+ Standard</strong>' in html  # not done yet
    assert len(posts(sandbox)) == 1


def test_o3_rejected_shows_opfs_reason_escaped(agent_client, world, sandbox):
    sandbox.inject(
        "change_product", "status", status=400,
        body='{"code": "BAD", "message": "Offer <b>closed</b> for this account"}',
    )  # fmt: skip
    page = change(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    [message] = messages_of(page)
    assert message.startswith("Change rejected by OPF") and "Offer <b>closed</b>" in message
    html = page.content.decode()
    assert "Offer &lt;b&gt;closed&lt;/b&gt; for this account" in html
    assert "<b>closed</b>" not in html
    assert 'class="error"' in html and len(posts(sandbox)) == 1


def test_o4_not_found_in_opf(agent_client, world, sandbox):
    sandbox.inject("change_product", "status", status=404, body="{}")
    [message] = messages_of(change(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM"))
    assert "entitlement not found in OPF" in message
    assert len(posts(sandbox)) == 1


def test_o5_opf_unreachable_nothing_changed_try_again(agent_client, world, sandbox):
    sandbox.inject("token", "refuse_token", status=503, count=10)
    page = change(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    [message] = messages_of(page)
    assert "OPF unreachable, nothing changed, try again" in message
    assert "nothing was changed" in message
    assert posts(sandbox) == []
    html = page.content.decode()
    assert 'id="change-product"' in html  # the agent may simply try again
    attempt = ChangeAttempt.objects.get()
    assert attempt.detail and escape(attempt.detail) in html  # why, in the history


@pytest.mark.parametrize("status", [500, 503])
def test_o7_outcome_unknown_do_not_resubmit(agent_client, world, sandbox, status):
    sandbox.inject("change_product", "status", status=status)
    page = change(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    [message] = messages_of(page)
    assert "outcome unknown, do not resubmit, a supervisor will reconcile" in message
    assert "it will be reconciled" in message
    html = page.content.decode()
    assert 'id="change-product"' not in html and "supervisor must reconcile" in html
    assert len(posts(sandbox)) == 1


def test_o9_credentials_refused(agent_client, world, sandbox):
    sandbox.inject("change_product", "reject_auth", count=5)
    [message] = messages_of(change(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM"))
    assert message.startswith("OPF refused the portal's credentials")


# --- X2: double click, refresh --------------------------------------------------------------


def test_x2_the_same_confirmation_posted_twice_sends_once_and_lands_on_the_result(
    agent_client, world, sandbox
):
    confirmation = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    first = confirm(agent_client, "ENT-NFX-1", confirmation)
    second = confirm(agent_client, "ENT-NFX-1", confirmation)  # refresh / double click
    assert first.status_code == second.status_code == 302
    assert second["Location"] == entitlement_url("ENT-NFX-1")
    page = agent_client.get(second["Location"])
    assert [m.split(":")[0] for m in messages_of(page)] == ["Change completed", "Change completed"]
    assert len(posts(sandbox)) == 1 and ChangeAttempt.objects.count() == 1


def test_x2_a_rejected_change_is_not_sent_again_by_a_second_post(agent_client, world, sandbox):
    # A rejection leaves the entitlement as it was (same version, no open change): only the
    # used submission id stops the second POST.
    sandbox.inject("change_product", "status", status=400, body='{"message": "no"}', count=5)
    confirmation = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    confirm(agent_client, "ENT-NFX-1", confirmation)
    response = confirm(agent_client, "ENT-NFX-1", confirmation)
    last_message = messages_of(agent_client.get(response["Location"]))[-1]
    assert last_message.startswith("Change rejected by OPF")
    assert len(posts(sandbox)) == 1 and ChangeAttempt.objects.count() == 1


def test_x2_a_confirmation_without_a_valid_submission_id_sends_nothing(
    agent_client, world, sandbox
):
    for submission_id in ("", "forged", "x" * 500):
        data = change_form_data(
            "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", step="confirm", submission_id=submission_id
        )
        response = agent_client.post(change_product_url("ENT-NFX-1"), data)
        assert response.status_code == 302
    assert "already used or has expired" in messages_of(agent_client.get(response["Location"]))[0]
    assert posts(sandbox) == []


def test_x2_a_submission_id_is_bound_to_its_entitlement(agent_client, world, sandbox):
    other = review(agent_client, "ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC")
    data = change_form_data(
        "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", step="confirm",
        submission_id=confirm_data(other)["submission_id"],
    )  # fmt: skip
    response = agent_client.post(change_product_url("ENT-NFX-1"), data)
    assert response.status_code == 302 and posts(sandbox) == []


def test_x2_a_submission_id_is_bound_to_the_session(client, agent, supervisor, world, sandbox):
    client.force_login(agent)
    confirmation = review(client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    client.force_login(supervisor)
    confirm(client, "ENT-NFX-1", confirmation)
    assert posts(sandbox) == []


# --- X3: stale forms ------------------------------------------------------------------------


def test_x3_a_form_opened_before_the_entitlement_changed_is_refused(agent_client, world, sandbox):
    stale = change_form_data("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    Entitlement.objects.filter(opf_id="ENT-NFX-1").update(version=2)  # e.g. a notification
    response = agent_client.post(change_product_url("ENT-NFX-1"), stale)
    assert response.status_code == 302 and response["Location"] == entitlement_url("ENT-NFX-1")
    [message] = messages_of(agent_client.get(response["Location"]))
    assert message == "This entitlement changed since you opened the form, please review it."
    assert posts(sandbox) == []


def test_x3_a_confirmation_left_open_while_another_agent_changed_it(
    agent_client, supervisor, world, sandbox
):
    from django.test import Client

    confirmation = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    other = Client()
    other.force_login(supervisor)
    change(other, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_BASIC")  # goes through first
    response = confirm(agent_client, "ENT-NFX-1", confirmation)
    assert response.status_code == 302
    [message] = messages_of(agent_client.get(response["Location"]))
    assert message == "This entitlement changed since you opened the form, please review it."
    assert len(posts(sandbox)) == 1 and ChangeAttempt.objects.count() == 1


def test_x3_stale_at_confirm_in_the_same_session(agent_client, world, sandbox):
    confirmation = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    Entitlement.objects.filter(opf_id="ENT-NFX-1").update(version=5)
    response = confirm(agent_client, "ENT-NFX-1", confirmation)
    assert response.status_code == 302
    assert (
        "changed since you opened the form"
        in messages_of(agent_client.get(response["Location"]))[0]
    )
    assert posts(sandbox) == [] and ChangeAttempt.objects.count() == 0


def test_the_page_of_an_unknown_entitlement_is_404(agent_client, world):
    url = reverse("admin:entitlements_entitlement_change_product", args=[987654])
    assert agent_client.get(url).status_code == 404
    url = reverse("admin:entitlements_entitlement_change_product", args=["not-a-number"])
    assert agent_client.get(url).status_code == 404


def test_an_attempt_left_in_flight_is_shown_as_being_sent(agent_client, world, agent):
    change_attempt("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", Outcome.IN_FLIGHT, user=agent)
    page = agent_client.get(entitlement_url("ENT-NFX-1")).content.decode()
    assert "Change being sent to OPF" in page and 'id="change-product"' not in page
