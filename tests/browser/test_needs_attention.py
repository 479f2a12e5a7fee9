"""A supervisor clears the Needs attention page using only its row actions (issue 10).

Each step is saved as a screenshot under test-artifacts/<test name>/.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from entitlements.models import (
    ChangeAttempt,
    DeliveryResult,
    Entitlement,
    NotificationDelivery,
    Settlement,
)
from tests.factories import change
from tests.opf_state.conftest import PREMIUM, unknown_change

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def everything_waiting(sandbox, agent) -> dict:
    """One of each kind: an unknown outcome OPF applied, an overdue confirmation OPF still has
    pending, a notification kept for review, an entitlement flagged for review."""
    applied = unknown_change(sandbox, agent, "ENT-NFX-1", PREMIUM, applied=True)
    pending = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    now = timezone.now()
    kept = NotificationDelivery.objects.create(
        webhook_id="msg_browser_1", sent_at=now, event_type="PRODUCT_CHANGED_AT_PROVIDER",
        entitlement_opf_id="ENT-NOBODY", product_opf_id="Netflix_EU_B_BUNDLE_BASIC",
        occurred_at=now, result=DeliveryResult.UNKNOWN_ENTITLEMENT,
        detail="No entitlement with this id in the portal; kept for review.", needs_review=True,
        body="{}",
    )  # fmt: skip
    Entitlement.objects.filter(opf_id="ENT-NFX-2").update(needs_review=True)
    return {"applied": applied, "pending": pending, "kept": kept}


def row(page, row_id: str):
    return page.locator(f"#{row_id}")


def test_a_supervisor_clears_needs_attention_with_its_row_actions(
    page, portal, sandbox, agent, supervisor, settings
):
    settings.CONFIRMATION_DEADLINE = 0
    waiting = everything_waiting(sandbox, agent)
    sandbox.reset_requests()
    flagged = Entitlement.objects.get(opf_id="ENT-NFX-2")
    log_in(page, portal, supervisor)

    page.get_by_role("link", name="Needs attention (5)").click()
    expect(page.locator("h1")).to_have_text("Needs attention")
    page.snap("needs-attention")

    # Unknown outcome, OPF shows the new product: Check OPF now settles it.
    unknown_row = row(page, f"change-{waiting['applied'].pk}")
    unknown_row.get_by_role("button", name="Check OPF now").click()
    expect(page.locator(".messagelist .success")).to_contain_text("settled applied")
    expect(unknown_row).to_have_count(0)
    page.snap("unknown-settled-from-opf")

    # Overdue, OPF still pending: Check OPF now cannot settle it, so Settle on the row.
    overdue_row = row(page, f"change-{waiting['pending'].pk}")
    overdue_row.get_by_role("button", name="Check OPF now").click()
    expect(page.locator(".messagelist .warning")).to_contain_text("does not settle")
    expect(overdue_row).to_have_count(1)
    page.snap("overdue-left-open")
    overdue_row.get_by_role("link", name="Settle").click()
    page.get_by_label("the change not applied", exact=False).check()
    page.get_by_label("Note").fill("Provider never confirmed; still Standard in OPF")
    page.snap("settle-overdue")
    page.get_by_role("button", name="Settle change").click()
    expect(page.locator("h1")).to_have_text("Needs attention")
    expect(overdue_row).to_have_count(0)

    # The notification kept for review, and the flagged entitlement: Mark reviewed.
    row(page, f"notification-{waiting['kept'].pk}").get_by_role(
        "button", name="Mark reviewed"
    ).click()
    expect(page.locator(".messagelist .success")).to_contain_text("Marked reviewed.")
    row(page, f"flagged-{flagged.pk}").get_by_role("button", name="Mark reviewed").click()
    expect(page.locator("#nothing-needs-attention")).to_have_text("Nothing needs attention.")
    page.snap("cleared")

    settled = {c.correlation_id: c.settlement for c in ChangeAttempt.objects.exclude(settlement="")}
    assert settled == {
        waiting["applied"].correlation_id: Settlement.APPLIED,
        waiting["pending"].correlation_id: Settlement.NOT_APPLIED,
    }
    assert sandbox.requests("change_product") == []  # reads only, nothing resent
