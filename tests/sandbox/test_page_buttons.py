"""The /_sandbox/ page's buttons over HTTP: each sets how OPF answers the next changeProduct.

The form is posted the way a browser posts it (form-encoded, following the 303), then a real
changeProduct shows the answer. The page keeps to a strict CSP: nothing inline.
"""

from __future__ import annotations

import re
import socket
import time

import pytest
import requests

from entitlements.opf_sandbox.server import Sandbox

from .helpers import BASIC, ENTITLEMENTS, PASSWORD_GRANT, PRODUCTS, STANDARD, change

NETFLIX_1 = "ent-netflix-1"


def click(session, sandbox, answer, reason=None):
    """Press one of the page's buttons; returns the page it lands on."""
    form = {"answer": answer, **({"reason": reason} if reason is not None else {})}
    landed = session.post(f"{sandbox.url}/_sandbox/next-change", data=form, timeout=5)
    assert landed.history and landed.history[0].status_code == 303
    assert landed.url == f"{sandbox.url}/_sandbox/"
    return landed


def test_the_page_offers_every_answer_as_a_plain_form(sandbox, session):
    page = session.get(f"{sandbox.url}/_sandbox/", timeout=5).text

    assert '<form method="post" action="/_sandbox/next-change">' in page
    values = re.findall(r'<button type="submit" name="answer" value="([a-z_]+)">', page)
    assert values == [
        "rejected",
        "not_found",
        "server_error",
        "timeout",
        "confirmed_later",
        "declined_later",
        "normal",
    ]
    for words in ("400 rejected", "404 not found", "500 server error", "Timeout"):
        assert words in page
    assert "202, confirmed later" in page and "202, declined later" in page
    assert '<label for="reason">' in page and 'id="reason" name="reason"' in page
    assert "The next change is answered normally." in page


def test_the_page_has_no_inline_script_or_style_and_a_strict_csp(sandbox, session):
    answer = session.get(f"{sandbox.url}/_sandbox/", timeout=5)
    page = answer.text

    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    assert "default-src 'none'" in csp and "form-action 'self'" in csp
    assert re.findall(r"<script[^>]*>", page) == [
        '<script src="/_sandbox/assets/sandbox.js" defer>'
    ]
    assert "<style" not in page and not re.search(r"\sstyle\s*=", page)
    assert not re.search(r"\son[a-z]+\s*=", page)  # no inline event handlers either
    for name, kind in (("sandbox.js", "text/javascript"), ("sandbox.css", "text/css")):
        asset = session.get(f"{sandbox.url}/_sandbox/assets/{name}", timeout=5)
        assert asset.status_code == 200 and asset.headers["Content-Type"].startswith(kind)
        assert len(asset.content) > 100
    assert session.get(f"{sandbox.url}/_sandbox/assets/server.py", timeout=5).status_code == 404


def test_400_with_the_reason_typed_on_the_page(sandbox, session, token):
    landed = click(session, sandbox, "rejected", reason="  Not in <this> region  ")

    assert "400 rejected: Not in &lt;this&gt; region" in landed.text
    answer = change(session, sandbox, token, NETFLIX_1, STANDARD)
    assert answer.status_code == 400
    assert answer.json()["message"] == "Not in <this> region"
    assert sandbox.entitlement(NETFLIX_1)["productId"] == BASIC
    assert change(session, sandbox, token, NETFLIX_1, STANDARD).status_code == 200  # once only


def test_400_without_a_reason_gives_a_default_one(sandbox, session, token):
    click(session, sandbox, "rejected", reason="")
    answer = change(session, sandbox, token, NETFLIX_1, STANDARD)
    assert answer.status_code == 400 and answer.json()["message"]


@pytest.mark.parametrize(("button", "status"), [("not_found", 404), ("server_error", 500)])
def test_404_and_500_buttons(sandbox, session, token, button, status):
    click(session, sandbox, button)
    assert change(session, sandbox, token, NETFLIX_1, STANDARD).status_code == status
    assert sandbox.entitlement(NETFLIX_1)["productId"] == BASIC


def test_timeout_button_sends_no_answer(sandbox, session, token):
    click(session, sandbox, "timeout")
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        change(session, sandbox, token, NETFLIX_1, STANDARD, timeout=(1, 0.5))
    assert time.monotonic() - started < 5
    assert [r.fault for r in sandbox.requests("change_product")] == ["hang"]


def test_buttons_queue_in_order_and_answer_normally_drops_them(sandbox, session, token):
    click(session, sandbox, "server_error")
    landed = click(session, sandbox, "not_found")
    assert re.search(r"<li>500 answer</li><li>404 answer</li>", landed.text)
    sandbox.inject("entitlements", "status", status=503)  # another kind: not the page's

    landed = click(session, sandbox, "normal")

    assert "The next change is answered normally." in landed.text
    assert [f["kind"] for f in sandbox.faults()] == ["entitlements"]
    assert change(session, sandbox, token, NETFLIX_1, STANDARD).status_code == 200


def test_an_unknown_button_is_400_and_queues_nothing(sandbox, session):
    answer = session.post(
        f"{sandbox.url}/_sandbox/next-change", data={"answer": "teapot"}, timeout=5
    )
    too_long = session.post(
        f"{sandbox.url}/_sandbox/next-change",
        data={"answer": "rejected", "reason": "x" * 301},
        timeout=5,
    )
    wrong_method = session.get(f"{sandbox.url}/_sandbox/next-change", timeout=5)
    assert (answer.status_code, too_long.status_code, wrong_method.status_code) == (400, 400, 405)
    assert sandbox.faults() == []


@pytest.fixture
def deciding_sandbox(closed_port):
    """A sandbox whose provider decides at once; its notifications go to a closed port (the
    decision is OPF's own state, whoever hears of it)."""
    with Sandbox(
        port=0,
        products=PRODUCTS,
        entitlements=ENTITLEMENTS,
        notify_url=f"http://127.0.0.1:{closed_port}/opf/notifications",
        notify_delay=0,
        notify_attempts=1,
    ) as sb:
        yield sb


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("button", "event", "product_after"),
    [
        ("confirmed_later", "CHANGE_CONFIRMED", STANDARD),
        ("declined_later", "CHANGE_DECLINED", BASIC),
    ],
)
def test_202_buttons_accept_then_the_provider_decides(
    deciding_sandbox, session, button, event, product_after
):
    sandbox = deciding_sandbox
    grant = session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5)
    token = grant.json()["access_token"]
    click(session, sandbox, button)

    answer = change(session, sandbox, token, NETFLIX_1, STANDARD)  # Netflix: normally a 200

    assert answer.status_code == 202 and answer.json()["pendingProductId"] == STANDARD
    [delivery] = sandbox.wait_for_deliveries(timeout=10)
    assert delivery["payload"]["eventType"] == event
    assert sandbox.entitlement(NETFLIX_1)["productId"] == product_after
    assert sandbox.entitlement(NETFLIX_1)["pendingProductId"] is None
