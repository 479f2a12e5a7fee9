"""The dashboard in a real browser, in the admin's light and dark themes: drawn, readable (its
colours stand out from the page), and with no inline style or script for the CSP to refuse."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def rgb(css: str) -> tuple[float, ...]:
    return tuple(float(n) for n in re.findall(r"[\d.]+", css)[:3])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""

    def luminance(colour):
        channels = [c / 255 for c in rgb(colour)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colours(page) -> dict[str, str]:
    """The computed colours of the page background, the axis text and each series drawn."""
    return page.evaluate(
        """() => {
        const found = {background: getComputedStyle(document.body).backgroundColor,
                       axis: getComputedStyle(document.querySelector('.dash-axis')).fill};
        for (const rect of document.querySelectorAll('#supervisor-dashboard rect')) {
            found[rect.getAttribute('class')] = getComputedStyle(rect).fill;
        }
        return found;
    }"""
    )


def test_the_dashboard_reads_in_light_and_dark(page, live_server, history, supervisor, request):
    request.getfixturevalue("sso_configured")
    log_in(page, live_server, supervisor)
    dashboard = page.locator("#supervisor-dashboard")
    expect(dashboard).to_be_visible()
    expect(page.locator("#dash-unknown .dash-number")).to_have_text("1")
    assert dashboard.locator("svg rect").count() >= 6
    assert dashboard.locator("[style]").count() == 0
    assert dashboard.locator("script").count() == 0

    seen = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.reload()
        seen[scheme] = found = colours(page)
        page.snap(f"dashboard-{scheme}")
        for name, colour in found.items():
            if name != "background":
                # Non-text marks need 3:1 against the page (WCAG 1.4.11).
                assert contrast(colour, found["background"]) >= 3, (scheme, name, colour)
    assert seen["light"]["background"] != seen["dark"]["background"]
    assert seen["light"]["dash-s-completed"] != seen["dark"]["dash-s-completed"]
