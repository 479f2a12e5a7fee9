"""The sandbox page in a real browser: its CSS and JS load under the strict CSP (nothing is
refused), the buttons work without any script, and the page's reload spares a reason being
typed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def type_into(page, field, text: str) -> None:
    """Focus and fill a field, and mark the document. A reload the page started just before
    the focus (it reloads every 3 s while nothing is focused) would drop the text: try again."""
    for _ in range(3):
        field.fill(text)
        page.evaluate("window.typedHere = true")
        page.wait_for_timeout(200)
        focused = page.evaluate("document.activeElement && document.activeElement.id")
        if focused == "reason" and page.evaluate("window.typedHere === true"):
            return
    raise AssertionError("could not type into the field without the page reloading")


def test_buttons_under_the_strict_csp_and_a_reload_that_spares_typing(sandbox, page):
    refused = []
    page.on("console", lambda message: refused.append(message.text))
    page.goto(f"{sandbox.url}/_sandbox/")

    # The stylesheet applied (a file, allowed by style-src 'self').
    assert "sans-serif" in page.evaluate("getComputedStyle(document.body).fontFamily")
    page.get_by_role("button", name="404 not found").click()
    expect(page.locator(".next-change ol")).to_contain_text("404 answer")

    reason = page.get_by_label("Reason OPF gives for a 400")
    type_into(page, reason, "Not sold in this region")
    page.wait_for_timeout(3500)  # longer than the page's 3 s reload
    assert page.evaluate("window.typedHere === true")  # the same document: no reload
    expect(reason).to_have_value("Not sold in this region")
    page.get_by_role("button", name="400 rejected, with this reason").click()

    expect(page.locator(".next-change ol li")).to_have_text(
        ["404 answer", "400 rejected: Not sold in this region"]
    )
    reason.focus()  # holds the reload while the screenshot is taken
    page.snap("sandbox-next-change-buttons")
    assert [f["fault"] for f in sandbox.faults()] == ["status", "status"]
    assert not [text for text in refused if re.search("Content Security Policy|Refused", text)]


def test_the_page_reloads_itself_when_nobody_types(sandbox, page):
    page.goto(f"{sandbox.url}/_sandbox/")
    expect(page.get_by_text("No requests yet.")).to_be_visible()
    sandbox.set_entitlement("ent-netflix-1", status="SUSPENDED")  # no request: state only
    sandbox.inject("change_product", "status", status=500)

    expect(page.locator(".next-change ol")).to_contain_text("500 answer", timeout=8000)
