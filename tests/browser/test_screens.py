"""The screens care staff use all day (issue 11), at 1366×768 and 400×800, in a real browser:
the account page, finding from the index, the change flow, the audit log, the 403 page; each
page checked with axe-core (no serious or critical violation) and screenshot under
test-artifacts/<test name>/."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from entitlements.models import ChangeAttempt, Entitlement
from entitlements.outcomes import Outcome
from tests.factories import change_attempt

from .axe import WIDTHS, assert_accessible, assert_no_sideways_scroll
from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=sorted(WIDTHS))
def screen(request, page):
    width, height = WIDTHS[request.param]
    page.set_viewport_size({"width": width, "height": height})
    return request.param  # (the page fixture fails the test on any CSP violation)


def check(page, name: str) -> None:
    """Every page: a screenshot, accessible, never wider than the window."""
    page.snap(name)
    assert_accessible(page)
    assert_no_sideways_scroll(page)


def test_find_from_the_index_the_account_page_and_a_change(page, portal, sandbox, agent, screen):
    change_attempt("ENT-DSN-1", "DisneyPlus_EU_BASIC", outcome=Outcome.REJECTED, http_status=400,
                   opf_message="Offer closed")  # fmt: skip
    log_in(page, portal, agent)
    search = page.get_by_label("Find an entitlement or account")
    expect(search).to_be_focused()  # autofocus: the agent types at once
    check(page, f"index-{screen}")
    page.keyboard.type("ACC-1001")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Account ACC-1001")
    rows = page.locator("#account-entitlements .account-entitlement")
    expect(rows).to_have_count(2)
    expect(page.locator("#account-history")).to_contain_text("Offer closed")
    check(page, f"account-{screen}")

    page.locator("#entitlement-ent-nfx-1").get_by_role("link", name="Change product").click()
    expect(page.locator("h1")).to_have_text("Change product")
    page.get_by_label("Netflix Basic (downgrade)").check()
    reason = page.get_by_label("Reason")
    expect(reason.locator("option[value=customer_upgrade]")).to_be_disabled()  # not for a downgrade
    reason.select_option(label="Customer asked to downgrade")
    page.get_by_label("Ticket").fill("CALL-1234")
    check(page, f"change-form-{screen}")
    page.get_by_role("button", name="Review change").click()
    expect(page.locator("h1")).to_have_text("Confirm change")
    expect(page.locator("#ticket-summary")).to_have_text("CALL-1234")
    expect(page.locator("#provider-warning")).to_contain_text("may need to confirm")
    check(page, f"review-{screen}")
    page.get_by_role("button", name="Confirm change").click()
    expect(page.locator(".messagelist")).to_contain_text("Tell the customer")
    expect(page.locator("#current-product")).to_have_text("Netflix Basic")
    check(page, f"entitlement-after-change-{screen}")
    assert ChangeAttempt.objects.get(ticket="CALL-1234").outcome == Outcome.COMPLETED

    page.get_by_role("link", name="ACC-1001", exact=True).first.click()
    expect(page.locator("#account-history")).to_contain_text("CALL-1234")


def test_the_entitlement_list_finds_and_flags(page, portal, sandbox, agent, screen):
    Entitlement.objects.filter(opf_id="ENT-CANCELLED").update(needs_review=True)
    log_in(page, portal, agent)
    page.goto(f"{portal.url}/admin/entitlements/entitlement/")
    expect(page.locator(".badge-warning")).to_have_count(1)
    check(page, f"entitlement-list-{screen}")
    page.locator("#searchbar").fill("ENT-NFX-2")
    page.locator("#searchbar").press("Enter")
    expect(page.locator("#entitlement-summary")).to_contain_text("ENT-NFX-2")  # straight to it
    check(page, f"entitlement-{screen}")


def test_the_audit_log_shows_outcome_status_and_correlation_id(
    page, portal, sandbox, agent, supervisor, screen
):
    long_comment = "The customer called twice about the price and wants it sorted today " * 3
    for opf_id, outcome, status in (("ENT-NFX-1", Outcome.COMPLETED, 200),
                                    ("ENT-NFX-2", Outcome.REJECTED, 400),
                                    ("ENT-DSN-1", Outcome.OUTCOME_UNKNOWN, None)):  # fmt: skip
        product = "DisneyPlus_EU_PREMIUM" if opf_id == "ENT-DSN-1" else "Netflix_EU_B_BUNDLE_BASIC"
        change_attempt(opf_id, product, user=agent, outcome=outcome, http_status=status,
                       comment=long_comment, ticket="T-9")  # fmt: skip
    log_in(page, portal, supervisor)
    page.goto(f"{portal.url}/admin/entitlements/changeattempt/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    badge = page.locator("#result_list .outcome-badge").first
    expect(badge).to_be_visible()
    page.snap(f"audit-log-before-checks-{screen}")
    window = page.viewport_size["width"]
    for column in (".field-outcome_badge", ".field-http_status", ".field-correlation_id"):
        box = page.locator(f"#result_list {column}").first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= window + 1, (column, box)
    expect(page.locator("#result_list")).not_to_contain_text(long_comment.strip())  # truncated
    check(page, f"audit-log-{screen}")
    page.locator("#result_list tbody tr").first.locator("th a, td a").first.click()
    expect(page.locator("#content")).to_contain_text(long_comment.strip())  # whole on the record
    expect(page.locator("#content")).to_contain_text("→")
    check(page, f"audit-record-{screen}")
    page.goto(f"{portal.url}{reverse('admin:entitlements_changeattempt_attention')}")
    expect(page.locator("#unknown")).to_contain_text("ENT-DSN-1")
    check(page, f"attention-{screen}")


def test_a_refused_page_is_inside_the_portal(page, portal, agent, screen):
    log_in(page, portal, agent)
    response = page.goto(f"{portal.url}/admin/entitlements/changeattempt/")
    assert response.status == 403
    expect(page.locator("#site-name")).to_contain_text("Care Portal")
    expect(page.locator("#role-needed")).to_have_text("This page needs the Care supervisor role.")
    check(page, f"403-{screen}")
    page.get_by_role("link", name="Back to the first page").click()
    expect(page.get_by_label("Find an entitlement or account")).to_be_focused()
