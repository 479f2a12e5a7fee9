"""A waiting change updates itself (issue 11 item 6): the entitlement page shows the provider's
confirmation or decline when it arrives, without a reload, at 1366×768 and 400×800."""

import pytest
from playwright.sync_api import expect

from entitlements.models import ChangeAttempt, Entitlement
from entitlements.outcomes import Outcome
from tests.browser.axe import WIDTHS, assert_accessible, assert_no_sideways_scroll

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("decision", ["confirm", "decline"])
def test_the_entitlement_page_shows_the_providers_answer_without_a_reload(
    page, live_server, notifying_sandbox, world, agent, decision, width
):
    sandbox = notifying_sandbox
    sandbox.inject("change_product", "accept_later", decision=decision)
    w, h = WIDTHS[width]
    page.set_viewport_size({"width": w, "height": h})
    entitlement = Entitlement.objects.get(opf_id="ENT-DSN-1")
    log_in(page, live_server, agent)
    page.goto(f"{live_server.url}/admin/entitlements/entitlement/{entitlement.pk}/change/")
    page.get_by_role("link", name="Change product").click()
    page.get_by_label("Disney+ Premium (upgrade)").check()
    page.get_by_label("Reason").select_option(label="Customer asked to upgrade")
    page.get_by_role("button", name="Review change").click()
    page.get_by_role("button", name="Confirm change").click()
    expect(page.locator("#open-change-note")).to_contain_text("updates by itself")
    expect(page.locator("#change-refusal")).to_have_count(0)
    page.snap(f"waiting-{decision}-{width}")
    assert_accessible(page)
    assert_no_sideways_scroll(page)
    # The agent's first page lists it among their own waiting changes.
    index = page.context.new_page()
    index.goto(f"{live_server.url}/admin/")
    expect(index.locator("#my-waiting")).to_contain_text("ENT-DSN-1")
    index.close()

    page.evaluate("window.__notReloaded = true")  # gone if the page reloads
    assert sandbox.release_notifications() == 1
    sandbox.wait_for_deliveries()
    answer = page.locator("#open-change-answer")
    expect(answer).to_be_visible(timeout=8000)  # within a few seconds
    assert page.evaluate("window.__notReloaded === true")
    if decision == "confirm":
        expect(answer).to_have_text(
            "The provider confirmed: the entitlement is now on Disney+ Premium."
        )
        expect(page.locator("#current-product")).to_have_text("Disney+ Premium")
        outcome = Outcome.CONFIRMED
    else:
        expect(answer).to_contain_text("The provider declined")
        expect(page.locator("#current-product")).to_have_text("Disney+ Standard")
        outcome = Outcome.DECLINED
    page.snap(f"answered-{decision}-{width}")
    assert ChangeAttempt.objects.get().outcome == outcome
