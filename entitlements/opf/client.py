"""The one place that builds OPF requests: changeProduct and the entitlements read.

`OpfClient.change_product` never raises for anything OPF (or the network) does: every answer,
timeout and refusal comes back as a `ChangeProductResult`. `OpfClient.read_entitlements` returns
one page or raises a `ReadFailed` (OPF unreachable, credentials refused, unexpected answer); it
never sends a changeProduct. Only `InvalidIdentifier` (and ValueError for a bad page) is raised
before any request, for values that must not reach a URL. Both calls go through exchange.py.
"""

import logging
from http import HTTPStatus

import requests

from entitlements.opf import entitlement_reads
from entitlements.opf.answers import opf_message, outcome_for_status, status_note
from entitlements.opf.config import OpfConfig
from entitlements.opf.errors import (
    CredentialsRefused,
    OpfUnreachable,
    ReadFailed,
    UnexpectedAnswer,
)
from entitlements.opf.exchange import Caller, End, Exchange, Request, log
from entitlements.opf.identifiers import (
    path_segment,
    validate_correlation_id,
    validate_entitlement_id,
    validate_identifier,
    validate_product_id,
)
from entitlements.opf.metrics import CHANGE_PRODUCT_CALLS, CHANGE_PRODUCT_SECONDS
from entitlements.opf.results import (
    MAX_BODY_BYTES,
    MAX_BODY_CHARS,
    ChangeProductResult,
    EntitlementPage,
)
from entitlements.opf.tokens import TokenCache, TokenProvider
from entitlements.opf.transport import build_session
from entitlements.outcomes import Outcome

# The service layer checks ids before recording an attempt, with the same rule the client applies.
__all__ = ["OpfClient", "validate_identifier"]

CHANGE_PRODUCT_PATH = "/tpes/v1/operator/entitlements/{entitlement}/actions/changeProduct"
# A page is read whole before it is parsed; a bigger one means asking for a smaller page size.
MAX_PAGE_BYTES = 8 * 1024 * 1024
# How a change that got no documented answer ends, in plain words for the audit record.
_CHANGE_ENDS = {
    End.NO_TOKEN: (Outcome.NOT_SENT, "{}; nothing was sent to OPF"),
    End.UNREACHABLE: (Outcome.NOT_SENT, "OPF unreachable ({}); nothing was sent to OPF"),
    End.BROKEN: (
        Outcome.OUTCOME_UNKNOWN,
        "{} after the request was sent; it must not be resent, it will be reconciled",
    ),
    End.REFRESH_FAILED: (Outcome.NOT_SENT, "OPF refused the token and {}; nothing was changed"),
    End.CREDENTIALS_REFUSED: (Outcome.REJECTED, "OPF refused the portal's credentials"),
}
# And how a read that got no page ends.
_READ_ENDS = {
    End.NO_TOKEN: (OpfUnreachable, "{}; nothing was read from OPF"),
    End.UNREACHABLE: (OpfUnreachable, "OPF unreachable ({}); nothing was read"),
    End.BROKEN: (OpfUnreachable, "OPF gave no whole answer ({})"),
    End.REFRESH_FAILED: (OpfUnreachable, "OPF refused the token and {}; nothing was read"),
    End.CREDENTIALS_REFUSED: (CredentialsRefused, "OPF refused the portal's credentials"),
}


class OpfClient:
    """Calls OPF's TPES changeProduct, and reads its entitlements, for one OPF deployment.

    Create one per process (or per deployment) and reuse it: it keeps a pool of keep-alive
    connections, and its token is shared with other clients through `cache`.
    """

    def __init__(
        self,
        config: OpfConfig,
        cache: TokenCache,
        session: requests.Session | None = None,
    ) -> None:
        self._config = config
        self._session = session if session is not None else build_session()
        self._tokens = TokenProvider(config, self._session, cache)
        self._caller = Caller(config, self._session, self._tokens)
        self._base_url = config.base_url.rstrip("/")

    @property
    def tokens(self) -> TokenProvider:
        return self._tokens

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "OpfClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def change_product_url(self, entitlement_id: str) -> str:
        segment = path_segment(validate_entitlement_id(entitlement_id))
        return self._base_url + CHANGE_PRODUCT_PATH.format(entitlement=segment)

    def change_product(
        self, *, entitlement_id: str, product_id: str, correlation_id: str
    ) -> ChangeProductResult:
        """Ask OPF to point `entitlement_id` at `product_id`; never resends once OPF may have it."""
        url = self.change_product_url(entitlement_id)
        validate_product_id(product_id)
        validate_correlation_id(correlation_id)
        log(
            logging.INFO,
            correlation_id,
            "OPF changeProduct entitlement_id=%r product_id=%r",
            entitlement_id,
            product_id,
        )
        request = Request("changeProduct", "POST", url, json={"productId": product_id})
        return _change_result(self._caller.call(request, correlation_id, status_note))

    def read_entitlements(
        self,
        *,
        account_id: str | None = None,
        page_index: int = 0,
        page_size: int = entitlement_reads.DEFAULT_PAGE_SIZE,
        correlation_id: str,
    ) -> EntitlementPage:
        """One page of OPF's third-party entitlements (of one account, or all), from 0.

        Raises ReadFailed when no page came; entitlement_reads.account_pages / all_pages read
        every page.
        """
        if account_id is not None:
            validate_identifier(account_id, "account id")
        validate_correlation_id(correlation_id)
        params = entitlement_reads.query(
            account_id=account_id, page_index=page_index, page_size=page_size
        )
        url = self._base_url + self._config.entitlements_path
        log(
            logging.INFO,
            correlation_id,
            "OPF entitlements read account_id=%r page_index=%d page_size=%d",
            account_id,
            page_index,
            page_size,
        )
        request = Request("entitlements read", "GET", url, params=params, max_bytes=MAX_PAGE_BYTES)
        exchange = self._caller.call(request, correlation_id, _read_note)
        try:
            page = _read_page(exchange, correlation_id, page_index, page_size)
        except ReadFailed as exc:
            level = logging.ERROR if exc.credentials_refused else logging.WARNING
            log(level, correlation_id, "OPF entitlements read failed: %s", exc)
            raise
        log(
            logging.WARNING if page.skipped else logging.INFO,
            correlation_id,
            "OPF entitlements read: %d entitlements, %d skipped (%s), total=%s, duration_ms=%.0f",
            len(page.entitlements),
            len(page.skipped),
            "; ".join(f"#{s.position} {s.reason}" for s in page.skipped[:5]) or "-",
            page.total,
            exchange.elapsed_ms(),
        )
        return page


def _read_note(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} unexpected answer"


def _read_page(
    exchange: Exchange, correlation_id: str, page_index: int, page_size: int
) -> EntitlementPage:
    reply = exchange.reply
    status = reply.status if reply else None
    if exchange.end is not End.ANSWERED:
        error, words = _READ_ENDS[exchange.end]
        raise error(
            words.format(exchange.reason), correlation_id=correlation_id, http_status=status
        )
    assert reply is not None
    if reply.status != 200:
        said = opf_message(reply.body[:MAX_BODY_CHARS])[:200]
        raise UnexpectedAnswer(
            f"OPF answered HTTP {reply.status} to the entitlements read"
            + (f": {said!r}" if said else ""),
            correlation_id=correlation_id,
            http_status=status,
        )
    if reply.oversized:
        raise UnexpectedAnswer(
            f"OPF's page is larger than {MAX_PAGE_BYTES // (1024 * 1024)} MiB; "
            "read with a smaller page size",
            correlation_id=correlation_id,
            http_status=status,
        )
    try:
        return entitlement_reads.parse_page(reply.body, page_index=page_index, page_size=page_size)
    except entitlement_reads.PageUnreadable as exc:
        raise UnexpectedAnswer(
            f"OPF's answer to the entitlements read is not a page: {exc}",
            correlation_id=correlation_id,
            http_status=status,
        ) from None


def _change_result(exchange: Exchange) -> ChangeProductResult:
    reply = exchange.reply
    answered = exchange.end is End.ANSWERED
    if answered:
        assert reply is not None and reply.status is not None
        outcome = outcome_for_status(reply.status)
        detail = ""
        if outcome is Outcome.OUTCOME_UNKNOWN:
            detail = (
                f"OPF answered {status_note(reply.status)}; it must not be resent, "
                "it will be reconciled"
            )
    else:
        outcome, words = _CHANGE_ENDS[exchange.end]
        detail = words.format(exchange.reason)
    body = reply.body[:MAX_BODY_CHARS] if reply else ""
    result = ChangeProductResult(
        outcome=outcome,
        correlation_id=exchange.correlation_id,
        http_status=reply.status if reply else None,
        response_body=body,
        response_bytes=reply.raw[:MAX_BODY_BYTES] if reply else b"",
        # OPF's own words on a 400 (not on credentials refused: that is the portal's trouble).
        opf_message=opf_message(body) if outcome is Outcome.REJECTED and answered else "",
        attempts=exchange.attempts,
        duration_ms=exchange.elapsed_ms(),
        credentials_refused=exchange.end is End.CREDENTIALS_REFUSED,
        detail=detail,
    )
    CHANGE_PRODUCT_CALLS.labels(outcome.value).inc()
    CHANGE_PRODUCT_SECONDS.observe(result.duration_ms / 1000)
    _log_change(result)
    return result


def _log_change(result: ChangeProductResult) -> None:
    outcome = result.outcome
    quiet = outcome in (Outcome.COMPLETED, Outcome.AWAITING_CONFIRMATION)
    level = {
        Outcome.COMPLETED: logging.INFO,
        Outcome.AWAITING_CONFIRMATION: logging.INFO,
        Outcome.REJECTED: logging.WARNING,
        Outcome.NOT_FOUND: logging.WARNING,
        Outcome.NOT_SENT: logging.WARNING,
    }.get(outcome, logging.ERROR)
    if result.credentials_refused:
        level = logging.ERROR
    # %r keeps a body's newlines and control characters from forging log lines.
    log(
        level,
        result.correlation_id,
        "OPF changeProduct outcome=%s http_status=%s attempts=%d duration_ms=%.0f%s",
        outcome.value,
        result.http_status,
        len(result.attempts),
        result.duration_ms,
        "" if quiet else f" detail={result.detail!r} body={result.response_body!r}",
    )
