"""Validation of the values the client puts into a URL, a JSON body or a header.

The entitlement id becomes ONE percent-encoded path segment. `quote(..., safe="")` encodes `/`
and `%`, but leaves `.` alone, and urllib3 removes `.` and `..` segments while building the
request, so such an id would silently address another resource. Those, and values no real OPF
id looks like (empty, huge, control characters, unencodable), are refused before any request.
"""

import unicodedata
from urllib.parse import quote

from entitlements.opf.errors import InvalidIdentifier

MAX_ID_CHARS = 256
MAX_CORRELATION_ID_CHARS = 128


def _check_text(kind: str, value: object, max_chars: int) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(f"{kind} must be text, not {type(value).__name__}")
    if not value:
        raise InvalidIdentifier(f"{kind} is empty")
    if len(value) > max_chars:
        raise InvalidIdentifier(f"{kind} is longer than {max_chars} characters")
    if value != value.strip():
        # Almost always a copy-paste accident; sending it would address a different id.
        raise InvalidIdentifier(f"{kind} starts or ends with whitespace")
    # Cc: control characters (CR/LF would also break log lines); Cs: lone surrogates, which
    # cannot be encoded as UTF-8 at all.
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidIdentifier(f"{kind} contains control or unencodable characters")
    return value


def validate_identifier(value: object, kind: str = "identifier") -> str:
    """An OPF entitlement or product id that is safe to send; raises InvalidIdentifier."""
    text = _check_text(kind, value, MAX_ID_CHARS)
    if text in (".", ".."):
        raise InvalidIdentifier(f"{kind} cannot be '.' or '..'")
    return text


def validate_entitlement_id(entitlement_id: object) -> str:
    return validate_identifier(entitlement_id, "entitlement id")


def validate_product_id(product_id: object) -> str:
    return validate_identifier(product_id, "product id")


def validate_correlation_id(correlation_id: object) -> str:
    value = _check_text("correlation id", correlation_id, MAX_CORRELATION_ID_CHARS)
    # It travels as an HTTP header and in log lines: printable ASCII only.
    if not value.isascii() or not value.isprintable():
        raise InvalidIdentifier("correlation id must be printable ASCII")
    return value


def path_segment(value: str) -> str:
    """One percent-encoded path segment: `/`, `%`, `?`, `#`, spaces and non-ASCII all encoded."""
    return quote(value, safe="")
