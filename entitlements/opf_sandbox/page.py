"""GET /_sandbox/: a page for the demo that shows the exact requests the sandbox received, with
buttons that set how OPF answers the next change (next_change.py).

Secrets are masked here (and only here: tests read them unmasked from /_sandbox/requests),
because this page is what ends up on a shared screen or in a screenshot. No inline script or
style: the page's CSS and JS are files under /_sandbox/assets/, served under a strict CSP.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from . import next_change
from .recording import RecordedRequest
from .wire import Response, error_response

SHOWN = 50
_SECRET_FORM_FIELDS = frozenset({"password", "client_secret", "refresh_token"})
_ASSETS_DIR = Path(__file__).parent / "assets"
_ASSETS = {"sandbox.css": "text/css; charset=utf-8", "sandbox.js": "text/javascript; charset=utf-8"}
# Nothing inline, nothing from elsewhere; forms post only back to the sandbox.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def render(
    *,
    requests: Sequence[RecordedRequest],
    deliveries: Sequence[Mapping[str, Any]],
    entitlements: Sequence[Mapping[str, Any]],
    next_changes: Sequence[Mapping[str, Any]],
) -> Response:
    """The page, from plain values: what was received, what was sent, what OPF holds, and the
    answers queued for the next changes."""
    recent = requests[-SHOWN:][::-1]
    rows = "\n".join(_request_html(r) for r in recent) or "<p>No requests yet.</p>"
    entitlements = "".join(
        f"<tr><td>{escape(e['entitlementId'])}</td><td>{escape(e['accountId'])}</td>"
        f"<td>{escape(e['productId'])}</td><td>{escape(e['status'])}</td>"
        f"<td>{escape(e['pendingProductId'] or '')}</td></tr>"
        for e in entitlements
    )
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OPF sandbox</title>
<link rel="stylesheet" href="/_sandbox/assets/sandbox.css">
<script src="/_sandbox/assets/sandbox.js" defer></script>
</head><body>
<h1>OPF sandbox</h1>
{_next_change_html(next_changes)}
<h2>Last {SHOWN} requests received, newest first</h2>
{rows}
<h2>Notifications sent to the portal, newest first</h2>
{_deliveries_html(deliveries)}
<h2>Entitlements</h2>
<table><tr><th>entitlement</th><th>account</th><th>product</th><th>status</th>
<th>pending product</th></tr>{entitlements}</table>
</body></html>"""
    return Response(
        200, html.encode("utf-8"), "text/html; charset=utf-8", {"Content-Security-Policy": CSP}
    )


def asset(name: str) -> Response:
    """The page's CSS or JS; only the files named in _ASSETS, so no path reaches the disk."""
    content_type = _ASSETS.get(name)
    if content_type is None:
        return error_response(404, "NOT_FOUND", f"No asset {name}")
    return Response(200, (_ASSETS_DIR / name).read_bytes(), content_type)


def _next_change_html(queued: Sequence[Mapping[str, Any]]) -> str:
    buttons = "\n".join(
        f'<button type="submit" name="answer" value="{answer}">{escape(words)}</button>'
        for answer, (words, _, _) in next_change.ANSWERS.items()
        if answer != "rejected"
    )
    waiting = "".join(f"<li>{escape(next_change.describe(f))}</li>" for f in queued)
    status = (
        f"<p>Queued, in order, for the next changes:</p><ol>{waiting}</ol>"
        if waiting
        else "<p>The next change is answered normally.</p>"
    )
    return f"""<section class="next-change" aria-labelledby="next-change-title">
<h2 id="next-change-title">The next change's answer</h2>
<p>Pick how OPF answers the next changeProduct, then make a change in the portal.
"202 ... later" needs the portal's notification URL (<code>bin/demo</code> sets it).</p>
<form method="post" action="/_sandbox/next-change">
<label for="reason">Reason OPF gives for a 400</label>
<input type="text" id="reason" name="reason" maxlength="{next_change.MAX_REASON_CHARS}"
 value="{escape(next_change.DEFAULT_REASON)}">
<button type="submit" name="answer" value="rejected">400 rejected, with this reason</button>
<div>{buttons}
<button type="submit" name="answer" value="{next_change.NORMAL}">Answer normally</button></div>
</form>
{status}
</section>"""


def _request_html(record: RecordedRequest) -> str:
    headers = "\n".join(
        f"{name}: {_masked_header(name, value)}" for name, value in record.headers.items()
    )
    body = _masked_form(record.body) if record.kind == "token" else record.body
    fault = f" (fault: {escape(record.fault)})" if record.fault else ""
    received = time.strftime("%H:%M:%S", time.localtime(record.time))
    return (
        f"<h3>#{record.serial} {received} {escape(record.method)} {escape(record.path)} "
        f"&rarr; {record.status if record.status is not None else 'no answer'}{fault}</h3>"
        f"<pre>{escape(headers)}\n\n{escape(body)}</pre>"
    )


def _masked_header(name: str, value: str) -> str:
    if name == "authorization":
        scheme = value.split(" ", 1)[0]
        return f"{scheme} ***"
    return value


def _masked_form(body: str) -> str:
    pairs = parse_qsl(body, keep_blank_values=True)
    return urlencode([(k, "***" if k in _SECRET_FORM_FIELDS else v) for k, v in pairs], safe="*")


def _deliveries_html(deliveries: Sequence[Mapping[str, Any]]) -> str:
    deliveries = deliveries[-SHOWN:][::-1]
    if not deliveries:
        return "<p>None yet.</p>"
    rows = []
    for d in deliveries:
        payload = d["payload"]
        answers = ", ".join(str(a["status"] or "no answer") for a in d["attempts"]) or "-"
        rows.append(
            f"<tr><td>{escape(d['webhook_id'])}</td><td>{escape(d['state'])}</td>"
            f"<td>{escape(str(payload.get('eventType', '')))}</td>"
            f"<td>{escape(str(payload.get('entitlementId', '')))}</td>"
            f"<td>{escape(str(payload.get('productId', '')))}</td>"
            f"<td>{escape(answers)}</td></tr>"
        )
    return (
        "<table><tr><th>webhook-id</th><th>state</th><th>event</th><th>entitlement</th>"
        "<th>product</th><th>portal answered</th></tr>" + "".join(rows) + "</table>"
    )
