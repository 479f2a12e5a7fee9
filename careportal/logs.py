"""Log lines as readable text (default) or one JSON object per line (LOG_FORMAT=json).

JSON lines carry `time`, `level`, `logger`, `message` and, on lines about a change,
`correlation_id`, `user`, `entitlement` and, once known, `outcome`. Those come from the log
call's `extra=` or from the change context: the change service sets it for the duration of one
change (`change_log_context`), so every line logged meanwhile - by the OPF client and the token
provider too - carries them without passing them down. Context variables are per thread, so the
threads of a gthread worker never mix their changes.

Only the fields named here are written, never a record's other attributes: a secret passed in
`extra=` by mistake stays out of the JSON lines too. A small formatter of our own rather than
python-json-logger: these ~50 lines are all we need, and one dependency fewer to keep.
"""

import contextvars
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

CHANGE_FIELDS = ("correlation_id", "user", "entitlement", "outcome")
# Other fields the portal passes with `extra=` (the error page's id).
EXTRA_FIELDS = (*CHANGE_FIELDS, "error_id")

_change: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "change", default=None
)


@contextmanager
def change_log_context(**fields: object) -> Iterator[None]:
    """Every line logged in this block (this thread) is about this change."""
    token = _change.set({**(_change.get() or {}), **_clean(fields)})
    try:
        yield
    finally:
        _change.reset(token)


def add_to_change_log_context(**fields: object) -> None:
    """Add what became known (the outcome) to the current change's lines, if in one."""
    current = _change.get()
    if current is not None:
        _change.set({**current, **_clean(fields)})


def _clean(fields: dict[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in fields.items() if value not in (None, "")}


class ChangeContextFilter(logging.Filter):
    """Puts the current change's fields on each record (a log call's own `extra=` wins).

    A handler's filter runs in the thread that logs, where the context is the change's."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_change.get() or {}).items():
            if getattr(record, key, None) in (None, ""):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in EXTRA_FIELDS:
            value = getattr(record, key, None)
            if value not in (None, ""):
                entry[key] = str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines: one record is always one line.
        return json.dumps(entry)
