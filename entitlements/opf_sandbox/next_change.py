"""The /_sandbox/ page's buttons: how OPF answers the next changeProduct, without curl.

Each button queues one fault for the next change (faults.py), so a newcomer sees each outcome
in the portal: a 400 with OPF's reason, a 404, a 500, no answer at all, a 202 that the provider
confirms or declines later. Clicked twice, two changes get an answer in the order clicked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KIND = "change_product"
DEFAULT_REASON = "The provider does not offer this tier in the customer's country."
MAX_REASON_CHARS = 300
# Seconds a "timeout" answer holds the request: longer than any sensible portal read timeout
# (OPF_READ_TIMEOUT, 10 s by default), so the portal gives up first.
HANG_SECONDS = 60.0

# answer -> (the button's words, the fault, its parameters); "rejected" adds the reason.
ANSWERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "rejected": ("400 rejected, with this reason", "status", {"status": 400}),
    "not_found": (
        "404 not found",
        "status",
        {
            "status": 404,
            "body": {"code": "ENTITLEMENT_NOT_FOUND", "message": "Entitlement does not exist."},
        },
    ),
    "server_error": ("500 server error", "status", {"status": 500}),
    "timeout": ("Timeout (no answer)", "hang", {"seconds": HANG_SECONDS}),
    "confirmed_later": ("202, confirmed later", "accept_later", {"decision": "confirm"}),
    "declined_later": ("202, declined later", "accept_later", {"decision": "decline"}),
}
NORMAL = "normal"  # drops the answers still queued


def fault_for(answer: str, reason: str = "") -> tuple[str, dict[str, Any]]:
    """(fault, params) for a button; ValueError for an unknown one or a bad reason."""
    if answer not in ANSWERS:
        raise ValueError(f"answer must be one of {[*ANSWERS, NORMAL]}")
    _, fault, params = ANSWERS[answer]
    if answer == "rejected":
        reason = " ".join(reason.split()) or DEFAULT_REASON
        if len(reason) > MAX_REASON_CHARS:
            raise ValueError(f"the reason is longer than {MAX_REASON_CHARS} characters")
        params = {**params, "body": {"code": "BAD_REQUEST", "message": reason}}
    return fault, dict(params)


def describe(fault: Mapping[str, Any]) -> str:
    """A queued change_product fault in the page's words."""
    name, status = fault.get("fault"), fault.get("status")
    if name == "accept_later":
        return (
            "202, confirmed later" if fault.get("decision") == "confirm" else "202, declined later"
        )
    if name == "hang":
        return "Timeout (no answer)"
    if name == "status" and status == 400 and isinstance(fault.get("body"), dict):
        return f"400 rejected: {fault['body'].get('message', '')}"
    if name == "status":
        return f"{status} answer"
    return str(name)
