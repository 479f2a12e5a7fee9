"""The browser tests' accessibility check: axe-core from its npm package, injected by Playwright.

bin/test installs the pinned package into var/node (gitignored); no CDN is ever asked. The file
is run through the DevTools protocol (page.evaluate), not page.add_script_tag: the portal's
strict CSP rightly refuses the inline <script> add_script_tag would insert.
"""

from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "var/node/node_modules/axe-core/axe.min.js"
WIDTHS = {"laptop": (1366, 768), "narrow": (400, 800)}


def serious_violations(page) -> list[dict]:
    """axe's serious and critical violations on the page as it stands (WCAG 2 A/AA rules)."""
    assert AXE.exists(), f"axe-core missing at {AXE}: bin/test installs it (npm)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']},"
        " resultTypes: ['violations'], preload: false})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page) -> None:
    violations = serious_violations(page)
    assert violations == [], violations


def assert_no_sideways_scroll(page) -> None:
    """The page as a whole never scrolls sideways (a wide table may scroll inside its box)."""
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] + 1, f"page is {widths[0]} px wide in a {widths[1]} px window"
