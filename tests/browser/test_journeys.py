"""What care agents and supervisors do all day, in a real browser (the admin's acceptance journeys).

Each step is saved as a screenshot under test-artifacts/<test name>/.
"""

import csv
import io

import pytest
from playwright.sync_api import expect

from entitlements.models import ChangeAttempt, Entitlement, Product
from entitlements.outcomes import Outcome

from .conftest import log_in, log_out

# The live server runs in another thread: it needs committed data.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def posts(sandbox):
    return sandbox.requests("change_product")


def open_entitlement(page, account_id: str, entitlement_id: str) -> None:
    """From the admin index: the entitlement list, a search by account, the entitlement."""
    page.locator("#content a[href='/admin/entitlements/entitlement/']").first.click()
    expect(page.locator("h1")).to_have_text("Find an entitlement")
    page.locator("#searchbar").fill(account_id)
    page.get_by_role("button", name="Search").click()
    # One account matches: the search goes straight to the account page (issue 11).
    expect(page.locator("#account-entitlements")).to_contain_text(entitlement_id)
    page.snap(f"search-{account_id}")
    page.locator("#account-entitlements").get_by_role(
        "link", name=entitlement_id, exact=True
    ).click()
    expect(page.locator("#entitlement-summary")).to_contain_text(entitlement_id)


def change_product(page, new_product_label: str, reason: str, comment: str = "") -> None:
    """On the entitlement page: Change product, fill the form, review, Confirm change."""
    page.get_by_role("link", name="Change product").click()
    expect(page.locator("h1")).to_have_text("Change product")
    page.get_by_label(new_product_label).check()
    page.get_by_label("Reason").select_option(label=reason)
    if comment:
        page.get_by_label("Comment").fill(comment)
    page.snap("change-product-form")
    page.get_by_role("button", name="Review change").click()
    expect(page.locator("h1")).to_have_text("Confirm change")
    expect(page.locator("#provider-warning")).to_contain_text("Tell the customer")
    page.snap("confirmation")


def test_agent_changes_netflix_standard_to_premium_and_sees_completed(page, portal, sandbox, agent):
    log_in(page, portal, agent)
    expect(page.locator("#site-name")).to_have_text("Care Portal")
    page.snap("logged-in")
    open_entitlement(page, "ACC-1001", "ENT-NFX-1")
    expect(page.locator("#current-product")).to_have_text("Netflix Standard")
    page.snap("entitlement-page")

    change_product(page, "Netflix Premium (upgrade)", "Customer asked to upgrade", "Asked by phone")
    expect(page.locator("#change-summary")).to_contain_text(
        "Netflix Standard → Netflix Premium (upgrade)"
    )
    page.get_by_role("button", name="Confirm change").click()

    expect(page.locator(".messagelist .success")).to_contain_text("completed")
    expect(page.locator("#current-product")).to_have_text("Netflix Premium")
    expect(page.locator("#change-history")).to_contain_text("Asked by phone")
    page.snap("completed")
    assert len(posts(sandbox)) == 1
    assert sandbox.entitlement("ENT-NFX-1")["productId"] == "Netflix_EU_B_BUNDLE_PREMIUM"


def test_a_provider_that_confirms_later_shows_waiting_for_provider_confirmation(
    page, portal, sandbox, agent
):
    log_in(page, portal, agent)
    open_entitlement(page, "ACC-1001", "ENT-DSN-1")
    change_product(page, "Disney+ Premium (upgrade)", "Customer asked to upgrade")
    page.get_by_role("button", name="Confirm change").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "waiting for provider confirmation", ignore_case=True
    )
    waiting = page.locator("#open-change")
    expect(waiting).to_contain_text("waiting for provider confirmation", ignore_case=True)
    expect(waiting).to_contain_text("Disney+ Premium")
    expect(waiting).to_contain_text("agent")
    expect(waiting).to_contain_text(ChangeAttempt.objects.get().correlation_id)
    expect(page.locator("#current-product")).to_have_text("Disney+ Standard")
    expect(page.locator("#change-refusal")).to_have_count(0)  # no red box: what it waits for
    expect(page.locator("#open-change-note")).to_contain_text("this page updates by itself")
    page.snap("waiting-for-provider-confirmation")

    page.reload()  # and it stays so: the page, not only the message, says it
    expect(page.locator("#open-change")).to_contain_text(
        "waiting for provider confirmation", ignore_case=True
    )
    page.snap("after-reload")
    assert len(posts(sandbox)) == 1


def test_a_rejected_change_shows_opfs_reason(page, portal, sandbox, agent):
    sandbox.inject(
        "change_product", "status", status=400,
        body='{"code": "OFFER_CLOSED", "message": "Premium is not sold in this <region>"}',
    )  # fmt: skip
    log_in(page, portal, agent)
    open_entitlement(page, "ACC-1001", "ENT-NFX-1")
    change_product(page, "Netflix Premium (upgrade)", "Customer asked to upgrade")
    page.get_by_role("button", name="Confirm change").click()

    error = page.locator(".messagelist .error")
    expect(error).to_contain_text("rejected by OPF")
    expect(error).to_contain_text("Premium is not sold in this <region>")  # shown as text
    expect(page.locator("#current-product")).to_have_text("Netflix Standard")
    page.snap("rejected")
    assert len(posts(sandbox)) == 1


def test_a_double_click_on_confirm_change_sends_once(page, portal, sandbox, agent):
    sandbox.configure(latency_ms=400)  # a slow OPF: the second click comes while in flight
    log_in(page, portal, agent)
    open_entitlement(page, "ACC-1002", "ENT-NFX-2")
    change_product(page, "Netflix Basic (downgrade)", "Customer asked to downgrade")
    page.get_by_role("button", name="Confirm change").dblclick()
    expect(page.locator(".messagelist")).to_contain_text("completed")
    page.snap("completed-once")
    page.reload()  # a refresh of the result page sends nothing either
    expect(page.locator("#current-product")).to_have_text("Netflix Basic")
    assert len(posts(sandbox)) == 1
    assert ChangeAttempt.objects.count() == 1


def test_supervisor_filters_the_audit_log_to_the_agent_and_downloads_the_csv(
    page, portal, sandbox, agent, supervisor
):
    # The agent's day: an upgrade that completes and one OPF rejects, in the browser.
    log_in(page, portal, agent)
    open_entitlement(page, "ACC-1001", "ENT-NFX-1")
    change_product(page, "Netflix Premium (upgrade)", "Customer asked to upgrade")
    page.get_by_role("button", name="Confirm change").click()
    expect(page.locator(".messagelist")).to_contain_text("completed")
    sandbox.inject("change_product", "status", status=400, body='{"message": "Not for you"}')
    page.goto(f"{portal.url}/admin/")
    open_entitlement(page, "ACC-1002", "ENT-NFX-2")
    change_product(page, "Netflix Basic (downgrade)", "Customer asked to downgrade")
    page.get_by_role("button", name="Confirm change").click()
    expect(page.locator(".messagelist")).to_contain_text("Not for you")
    log_out(page)
    # ... and a change by someone else, which the filter leaves out.
    _change_by_supervisor()

    log_in(page, portal, supervisor)
    page.locator("#content").get_by_role("link", name="Audit log").click()
    expect(page.locator("h1")).to_have_text("Audit log")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    page.snap("audit-log")
    page.get_by_label("Username").fill("agent")
    page.locator("#filter-actor_username").get_by_role("button", name="Filter").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).not_to_contain_text("supervisor")
    page.snap("audit-log-filtered-to-agent")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV export").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-log-")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    expected = ChangeAttempt.objects.filter(actor_username="agent").order_by("-created_at")
    assert [r["correlation id"] for r in rows] == [a.correlation_id for a in expected]
    assert [r["outcome"] for r in rows] == ["rejected", "completed"]
    assert {r["agent"] for r in rows} == {"agent"}
    assert rows[0]["OPF message"] == "Not for you"

    page.get_by_role("link", name=rows[0]["when (UTC)"][:4], exact=False).first.click()
    expect(page.locator("body")).to_contain_text("Not for you")
    page.snap("audit-record")


def _change_by_supervisor() -> None:
    from django.contrib.auth import get_user_model

    from entitlements.services import change_product

    change_product(
        entitlement=Entitlement.objects.get(opf_id="ENT-DSN-1"),
        new_product=Product.objects.get(opf_id="DisneyPlus_EU_BASIC"),
        user=get_user_model().objects.get(username="supervisor"),
        reason_code="customer_downgrade",
    )
    assert ChangeAttempt.objects.filter(outcome=Outcome.AWAITING_CONFIRMATION).count() == 1


def test_an_agent_cannot_reach_the_audit_log(page, portal, agent):
    log_in(page, portal, agent)
    expect(page.locator("#content-main")).not_to_contain_text("Audit log")
    response = page.goto(f"{portal.url}/admin/entitlements/changeattempt/")
    assert response.status == 403
    page.snap("agent-403")
