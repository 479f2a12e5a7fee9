"""The one rule for OPF identifiers and other short text, wherever they come from.

The portal meets OPF ids in three places: the exports it imports, the notifications OPF sends,
and the requests its client builds. All three check them here, so a value accepted in one place
is never refused, or worse, half-stored, in another. The rule refuses what no real OPF id looks
like and what a database cannot store or give back:

- empty values and values longer than the field's bound;
- control characters (NUL, which PostgreSQL refuses; CR/LF, which break log lines), invisible
  format characters (zero-width, bidi overrides: ids that look alike), line/paragraph
  separators, and lone surrogates (`"\\ud800"`, valid in a JSON escape but not UTF-8 at all);
- leading or trailing whitespace (almost always a copy-paste accident: another id);
- for ids, `.` and `..`: the id becomes ONE percent-encoded path segment, and `quote(...,
  safe="")` encodes `/` and `%` but leaves `.` alone, so urllib3 would remove such a segment
  while building the request and silently address another resource.

Plain Python (no Django): the OPF client uses it too.
"""

import unicodedata
from typing import Any
from urllib.parse import quote

from entitlements.opf.errors import InvalidIdentifier

MAX_ID_CHARS = 256
MAX_CORRELATION_ID_CHARS = 128

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def shown(value: Any) -> str:
    """`value` as it may appear in a message or a log line: repr (escapes), at most 60 chars."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def json_type(value: Any) -> str:
    """The kind of a decoded JSON value, in words."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def identifier_problem(value: Any, *, max_length: int, identifier: bool = True) -> str | None:
    """Why `value` cannot be stored (and, for an id, sent to OPF in a URL), or None.

    `identifier=False` for other text of the same kind (a product's name): the same rule
    without the path-segment part.
    """
    if not isinstance(value, str):
        return f"must be text, not {json_type(value)}"
    if value == "":
        return "is empty"
    if len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} are allowed"
    if not value.isprintable():  # fast path in C; printable text has none of them
        for char in value:
            if unicodedata.category(char) in _REFUSED_CATEGORIES:
                return (
                    f"{shown(value)} contains the control or invisible character U+{ord(char):04X}"
                )
    if value != value.strip():
        return f"{shown(value)} has leading or trailing whitespace"
    if identifier and value in {".", ".."}:
        return f"cannot be {value!r}"
    return None


def _checked(kind: str, value: object, max_length: int) -> str:
    problem = identifier_problem(value, max_length=max_length)
    if problem:
        raise InvalidIdentifier(f"{kind}: {problem}")
    return value


def validate_identifier(value: object, kind: str = "identifier") -> str:
    """An OPF entitlement or product id that is safe to send; raises InvalidIdentifier."""
    return _checked(kind, value, MAX_ID_CHARS)


def validate_entitlement_id(entitlement_id: object) -> str:
    return validate_identifier(entitlement_id, "entitlement id")


def validate_product_id(product_id: object) -> str:
    return validate_identifier(product_id, "product id")


def validate_correlation_id(correlation_id: object) -> str:
    value = _checked("correlation id", correlation_id, MAX_CORRELATION_ID_CHARS)
    # It travels as an HTTP header: printable ASCII only.
    if not value.isascii() or not value.isprintable():
        raise InvalidIdentifier("correlation id must be printable ASCII")
    return value


def path_segment(value: str) -> str:
    """One percent-encoded path segment: `/`, `%`, `?`, `#`, spaces and non-ASCII all encoded."""
    return quote(value, safe="")
