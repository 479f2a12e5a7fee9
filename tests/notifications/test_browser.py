"""OPF's notifications in a real browser (rows O2, N1): an agent's change answered 202 shows
"waiting for provider confirmation"; after the sandbox's signed notification the entitlement
page shows the new tier and the audit log shows the confirmation with its time.

Drives the admin's entitlement page and change-product flow on a live server, with
the OPF sandbox delivering its notification to the portal over real HTTP.
"""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from entitlements.models import ChangeAttempt, Entitlement
from entitlements.outcomes import Outcome

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_providers_confirmation_shows_the_new_tier_and_is_audited(
    page, live_server, notifying_sandbox, world, agent, supervisor
):
    sandbox = notifying_sandbox
    entitlement = Entitlement.objects.get(opf_id="ENT-DSN-1")
    entitlement_page = f"{live_server.url}/admin/entitlements/entitlement/{entitlement.pk}/change/"

    log_in(page, live_server, agent)
    page.goto(entitlement_page)
    expect(page.locator("#current-product")).to_have_text("Disney+ Standard")
    page.get_by_role("link", name="Change product").click()
    page.get_by_label("Disney+ Premium (upgrade)").check()
    page.get_by_label("Reason").select_option(label="Customer asked to upgrade")
    page.get_by_role("button", name="Review change").click()
    page.get_by_role("button", name="Confirm change").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "waiting for provider confirmation", ignore_case=True
    )
    expect(page.locator("#open-change")).to_contain_text(
        "waiting for provider confirmation", ignore_case=True
    )
    expect(page.locator("#current-product")).to_have_text("Disney+ Standard")
    page.snap("waiting-for-provider-confirmation")
    attempt = ChangeAttempt.objects.get()
    assert attempt.outcome == Outcome.AWAITING_CONFIRMATION

    # The provider confirms: OPF's signed notification reaches the portal.
    assert sandbox.release_notifications() == 1
    [sent] = sandbox.wait_for_deliveries()
    assert sent["status"] == 200
    confirmed_at = (
        datetime.fromisoformat(sent["payload"]["occurredAt"])
        .astimezone(UTC)
        .strftime("%Y-%m-%d %H:%M:%S UTC")
    )

    page.goto(entitlement_page)
    expect(page.locator("#current-product")).to_have_text("Disney+ Premium")
    expect(page.locator("#open-change")).to_have_count(0)
    latest = page.locator("#change-history tr.attempt").first
    expect(latest).to_contain_text("confirmed")
    expect(latest).to_contain_text(f"Confirmed by the provider at {confirmed_at}")
    page.snap("confirmed-new-tier")

    # The supervisor's audit log: the record, its outcome and when the provider confirmed.
    page.context.clear_cookies()
    log_in(page, live_server, supervisor)
    page.goto(f"{live_server.url}/admin/entitlements/changeattempt/?q={attempt.correlation_id}")
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("confirmed")
    page.snap("audit-log")
    row.locator("a").first.click()
    record = page.locator("#content")
    expect(record).to_contain_text(attempt.correlation_id)
    expect(record).to_contain_text(f"Confirmed by the provider at {confirmed_at}")
    expect(page.locator(".field-finished_at")).not_to_be_empty()
    page.snap("audit-record")
