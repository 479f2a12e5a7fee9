"""The one place that turns OPF's answers to changeProduct into outcomes."""

import json
from typing import Any

from entitlements.outcomes import Outcome

# Only these answers are documented for changeProduct. Everything else may mean OPF did
# something, so it is "outcome unknown" and left for a supervisor to reconcile: 5xx (a proxy or OPF
# may have failed after applying it), 3xx (never followed: resending a POST elsewhere is a second
# change), 204 and other surprises.
_DOCUMENTED: dict[int, Outcome] = {
    200: Outcome.COMPLETED,
    202: Outcome.AWAITING_CONFIRMATION,
    400: Outcome.REJECTED,
    404: Outcome.NOT_FOUND,
}
# OPF answers 403 (some pages say 401) for an invalid or expired token: nothing was changed.
CREDENTIALS_REFUSED = frozenset({401, 403})
MAX_MESSAGE_CHARS = 1000
# Where OPF (and the gateways in front of it) put a human message in a JSON error.
_MESSAGE_FIELDS = ("message", "description", "error_description", "errorMessage", "error", "detail")


def outcome_for_status(status: int) -> Outcome:
    return _DOCUMENTED.get(status, Outcome.OUTCOME_UNKNOWN)


def status_note(status: int) -> str:
    if status in _DOCUMENTED:
        return f"{status} {_DOCUMENTED[status].label}"
    if 300 <= status < 400:
        return f"{status} redirect not followed"
    if status >= 500:
        return f"{status} server error"
    return f"{status} unexpected answer"


def opf_message(body: str) -> str:
    """OPF's own words from a 400 body: a JSON message field, else the text itself."""
    text = body.strip()
    if not text:
        return ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return text[:MAX_MESSAGE_CHARS]
    message = _message_in(data, depth=0)
    return (message or text)[:MAX_MESSAGE_CHARS]


def _message_in(data: Any, depth: int) -> str:
    # Error shapes vary: {"message": ...}, {"error": {"message": ...}}, [{"description": ...}].
    if depth > 3:
        return ""
    if isinstance(data, str):
        return data.strip()
    if isinstance(data, list):
        return next((m for m in (_message_in(d, depth + 1) for d in data[:5]) if m), "")
    if isinstance(data, dict):
        for name in _MESSAGE_FIELDS:
            if name in data:
                message = _message_in(data[name], depth + 1)
                if message:
                    return message
    return ""
