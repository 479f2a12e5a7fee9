"""What OPF calls produced, as plain values the service layer stores and shows."""

from dataclasses import dataclass

from entitlements.outcomes import Outcome

# Bodies are stored in audit rows and logged; OPF (or a proxy in front of it) could answer with
# anything, so they are cut to a size a row and a log line can carry.
MAX_BODY_CHARS = 4000
# The exact bytes of an answer are kept too (its text above replaces what is not valid text),
# cut to this many.
MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True)
class HttpAttempt:
    """One changeProduct request actually sent (or tried)."""

    http_status: int | None
    duration_ms: float
    note: str  # e.g. "connect refused", "read timeout", "403 -> token refreshed"


@dataclass(frozen=True)
class ChangeProductResult:
    outcome: Outcome
    correlation_id: str
    http_status: int | None  # of the last attempt; None when no answer came
    response_body: str  # as text (bad UTF-8 replaced), bounded to MAX_BODY_CHARS, "" if none
    opf_message: str  # OPF's own error message for a 400, "" otherwise
    attempts: tuple[HttpAttempt, ...]
    duration_ms: float
    credentials_refused: bool = False
    # Plain words on why, for the audit record and supervisors: e.g. "OPF token endpoint
    # unreachable (connect refused)" or "read timeout after the request was sent". Never a secret.
    detail: str = ""
    # The answer's bytes exactly as OPF sent them (NUL, invalid UTF-8...), up to MAX_BODY_BYTES;
    # the token, if OPF echoed it, replaced as in response_body.
    response_bytes: bytes = b""


@dataclass(frozen=True)
class OpfEntitlement:
    """One third-party entitlement as OPF's read shows it."""

    entitlement_id: str
    account_id: str
    product_id: str
    status: str


@dataclass(frozen=True)
class SkippedRecord:
    """A record of a read page that could not be understood; reported, never guessed at."""

    position: int  # 0-based, within its page
    reason: str  # plain words, e.g. "no productId"
    entitlement_id: str | None = None  # when the record had a readable id


@dataclass(frozen=True)
class EntitlementPage:
    """One page of OPF's entitlements read."""

    page_index: int  # 0 for the first page, whatever OPF numbers it (entitlement_reads.py)
    page_size: int  # the limit asked for
    total: int | None  # OPF's totalRecords, when it says
    entitlements: tuple[OpfEntitlement, ...]
    skipped: tuple[SkippedRecord, ...] = ()

    @property
    def records(self) -> int:
        """How many records OPF sent on this page, understood or not."""
        return len(self.entitlements) + len(self.skipped)
