"""GET /_sandbox/: a page for the demo that shows the exact requests the sandbox received.

Secrets are masked here (and only here: tests read them unmasked from /_sandbox/requests),
because this page is what ends up on a shared screen or in a screenshot.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .recording import RecordedRequest
from .wire import Response

SHOWN = 50
_SECRET_FORM_FIELDS = frozenset({"password", "client_secret", "refresh_token"})


def render(
    *,
    requests: Sequence[RecordedRequest],
    deliveries: Sequence[Mapping[str, Any]],
    entitlements: Sequence[Mapping[str, Any]],
) -> Response:
    """The page, from plain values: what was received, what was sent, what OPF holds."""
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
<meta http-equiv="refresh" content="3">
<style>body{{font-family:sans-serif;margin:1em 2em}} pre{{background:#f4f4f4;padding:.5em;
white-space:pre-wrap;word-break:break-all}} td,th{{padding:2px 8px;text-align:left}}</style>
</head><body>
<h1>OPF sandbox</h1>
<h2>Last {SHOWN} requests received, newest first</h2>
{rows}
<h2>Notifications sent to the portal, newest first</h2>
{_deliveries_html(deliveries)}
<h2>Entitlements</h2>
<table><tr><th>entitlement</th><th>account</th><th>product</th><th>status</th>
<th>pending product</th></tr>{entitlements}</table>
</body></html>"""
    return Response(200, html.encode("utf-8"), "text/html; charset=utf-8")


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
