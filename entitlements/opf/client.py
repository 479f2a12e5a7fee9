"""The one place that builds OPF changeProduct requests.

`OpfClient.change_product` never raises for anything OPF (or the network) does: every answer,
timeout and refusal comes back as a `ChangeProductResult`. Only `InvalidIdentifier` is raised,
before any request, for values that must not reach a URL.
"""

import http.client
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
import urllib3

from entitlements.opf.answers import (
    CREDENTIALS_REFUSED,
    opf_message,
    outcome_for_status,
    status_note,
)
from entitlements.opf.config import OpfConfig
from entitlements.opf.errors import TokenUnavailable
from entitlements.opf.identifiers import (
    path_segment,
    validate_correlation_id,
    validate_entitlement_id,
    validate_identifier,
    validate_product_id,
)
from entitlements.opf.results import (
    MAX_BODY_BYTES,
    MAX_BODY_CHARS,
    ChangeProductResult,
    HttpAttempt,
)
from entitlements.opf.tokens import TokenCache, TokenProvider
from entitlements.opf.transport import (
    BearerAuth,
    Failure,
    build_session,
    classify_failure,
    decode_body,
    read_bounded,
)
from entitlements.outcomes import Outcome

logger = logging.getLogger(__name__)

# The service layer checks ids before recording an attempt, with the same rule the client applies.
__all__ = ["OpfClient", "validate_identifier"]

CHANGE_PRODUCT_PATH = "/tpes/v1/operator/entitlements/{entitlement}/actions/changeProduct"
# Pauses before quick retries of a request that never reached OPF; the last one repeats.
CONNECT_BACKOFF = (0.1, 0.3)
# Network-level errors: anything else escaping from requests is a bug and should be seen as one.
_NETWORK_ERRORS = (
    requests.RequestException,
    OSError,
    http.client.HTTPException,
    urllib3.exceptions.HTTPError,
)


@dataclass(frozen=True)
class _Reply:
    status: int | None  # None when no status line arrived
    body: str
    duration_ms: float
    failure: Failure | None  # set when the exchange broke (before or after the status line)
    raw: bytes = b""  # the body's bytes as they came, bounded to MAX_BODY_BYTES


class OpfClient:
    """Calls OPF's TPES changeProduct for one OPF deployment.

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
        change = _Change(
            tokens=self._tokens,
            send=lambda token: self._post(url, product_id, correlation_id, token),
            connect_retries=self._config.connect_retries,
            correlation_id=correlation_id,
        )
        _log(
            logging.INFO,
            correlation_id,
            "OPF changeProduct entitlement_id=%r product_id=%r",
            entitlement_id,
            product_id,
        )
        return change.run()

    def _post(self, url: str, product_id: str, correlation_id: str, token: str) -> _Reply:
        headers = {
            "x-correlation-id": correlation_id,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        if self._config.tenant_id:
            headers["nv-tenant-id"] = self._config.tenant_id
        started = time.monotonic()

        def elapsed() -> float:
            return (time.monotonic() - started) * 1000

        try:
            response = self._session.post(
                url,
                json={"productId": product_id},
                headers=headers,
                auth=BearerAuth(token),
                timeout=self._config.timeout,
                allow_redirects=False,
                stream=True,
            )
        except _NETWORK_ERRORS as exc:
            return _Reply(None, "", elapsed(), _failure(exc))
        try:
            raw = read_bounded(response, deadline=started + sum(self._config.timeout))
        except _NETWORK_ERRORS as exc:
            # The status line came, the body did not: OPF may or may not have finished its work.
            return _Reply(response.status_code, "", elapsed(), _failure(exc, after_status=True))
        body = decode_body(raw, response)
        # A body echoing our token must not carry it into audit rows or logs.
        if token in body:
            body = body.replace(token, "[token]")
            raw = raw.replace(token.encode(), b"[token]")
            if token in decode_body(raw, response):
                # Echoed in a charset that is not ASCII-compatible: keep only the text.
                raw = body.encode("utf-8", "replace")
        return _Reply(
            response.status_code, body[:MAX_BODY_CHARS], elapsed(), None, raw[:MAX_BODY_BYTES]
        )


def _failure(exc: BaseException, *, after_status: bool = False) -> Failure:
    if isinstance(exc, requests.RequestException):
        failure = classify_failure(exc)
    else:
        failure = Failure(reached=True, note=type(exc).__name__)
    if after_status:
        # Whatever the exception, the server had already answered: it certainly got the request.
        note = (
            failure.note if "reply" in failure.note else f"{failure.note} while reading the reply"
        )
        return Failure(reached=True, note=note)
    return failure


def _log(level: int, correlation_id: str, message: str, *args: object) -> None:
    # The correlation id goes in the text (for plain log files) and as a field (for JSON logs).
    logger.log(
        level,
        message + " correlation_id=%s",
        *args,
        correlation_id,
        extra={"correlation_id": correlation_id},
    )


class _Change:
    """One change_product call: the token, the (re)sends and the result."""

    def __init__(
        self,
        *,
        tokens: TokenProvider,
        send: Callable[[str], _Reply],
        connect_retries: int,
        correlation_id: str,
    ) -> None:
        self._tokens = tokens
        self._send = send
        self._connect_retries = connect_retries
        self._correlation_id = correlation_id
        self._attempts: list[HttpAttempt] = []
        self._started = time.monotonic()

    def run(self) -> ChangeProductResult:
        tokens = self._tokens
        try:
            token = tokens.get_token(self._correlation_id)
        except TokenUnavailable as exc:
            return self._finish(Outcome.NOT_SENT, detail=f"{exc}; nothing was sent to OPF")
        resent_with_new_token = False
        connect_failures = 0
        while True:
            reply = self._send(token)
            attempt = len(self._attempts) + 1
            if reply.failure is not None:
                self._record(reply, reply.failure.note)
                if reply.failure.reached:
                    return self._finish(
                        Outcome.OUTCOME_UNKNOWN,
                        reply,
                        detail=f"{reply.failure.note} after the request was sent; "
                        "it must not be resent, it will be reconciled",
                    )
                if connect_failures < self._connect_retries:
                    delay = CONNECT_BACKOFF[min(connect_failures, len(CONNECT_BACKOFF) - 1)]
                    connect_failures += 1
                    _log(
                        logging.WARNING,
                        self._correlation_id,
                        "OPF changeProduct attempt %d not sent (%s); retrying in %.1f s",
                        attempt,
                        reply.failure.note,
                        delay,
                    )
                    time.sleep(delay)
                    continue
                return self._finish(
                    Outcome.NOT_SENT,
                    detail=f"OPF unreachable ({reply.failure.note}); nothing was sent to OPF",
                )
            assert reply.status is not None
            if reply.status in CREDENTIALS_REFUSED:
                if resent_with_new_token:
                    self._record(reply, f"{reply.status} credentials refused again")
                    _log(
                        logging.ERROR,
                        self._correlation_id,
                        "OPF refused the portal's credentials: HTTP %d with a fresh token",
                        reply.status,
                    )
                    return self._finish(
                        Outcome.REJECTED,
                        reply,
                        credentials_refused=True,
                        detail="OPF refused the portal's credentials",
                    )
                resent_with_new_token = True
                tokens.invalidate(token)
                try:
                    token = tokens.get_token(self._correlation_id)
                except TokenUnavailable as exc:
                    self._record(reply, f"{reply.status} -> token refresh failed")
                    return self._finish(
                        Outcome.NOT_SENT,
                        reply,
                        detail=f"OPF refused the token and {exc}; nothing was changed",
                    )
                self._record(reply, f"{reply.status} -> token refreshed")
                _log(
                    logging.INFO,
                    self._correlation_id,
                    "OPF changeProduct attempt %d answered HTTP %d; resending once with a new "
                    "token",
                    attempt,
                    reply.status,
                )
                continue
            note = status_note(reply.status)
            self._record(reply, note)
            outcome = outcome_for_status(reply.status)
            detail = ""
            if outcome is Outcome.OUTCOME_UNKNOWN:
                detail = f"OPF answered {note}; it must not be resent, it will be reconciled"
            return self._finish(
                outcome,
                reply,
                message=opf_message(reply.body) if outcome is Outcome.REJECTED else "",
                detail=detail,
            )

    def _record(self, reply: _Reply, note: str) -> None:
        self._attempts.append(HttpAttempt(reply.status, round(reply.duration_ms, 1), note))

    def _finish(
        self,
        outcome: Outcome,
        reply: _Reply | None = None,
        *,
        message: str = "",
        detail: str = "",
        credentials_refused: bool = False,
    ) -> ChangeProductResult:
        result = ChangeProductResult(
            outcome=outcome,
            correlation_id=self._correlation_id,
            http_status=reply.status if reply else None,
            response_body=reply.body if reply else "",
            response_bytes=reply.raw if reply else b"",
            opf_message=message,
            attempts=tuple(self._attempts),
            duration_ms=round((time.monotonic() - self._started) * 1000, 1),
            credentials_refused=credentials_refused,
            detail=detail,
        )
        quiet = outcome in (Outcome.COMPLETED, Outcome.AWAITING_CONFIRMATION)
        level = {
            Outcome.COMPLETED: logging.INFO,
            Outcome.AWAITING_CONFIRMATION: logging.INFO,
            Outcome.REJECTED: logging.WARNING,
            Outcome.NOT_FOUND: logging.WARNING,
            Outcome.NOT_SENT: logging.WARNING,
        }.get(outcome, logging.ERROR)
        if credentials_refused:
            level = logging.ERROR
        # %r keeps a body's newlines and control characters from forging log lines.
        _log(
            level,
            self._correlation_id,
            "OPF changeProduct outcome=%s http_status=%s attempts=%d duration_ms=%.0f%s",
            outcome.value,
            result.http_status,
            len(result.attempts),
            result.duration_ms,
            "" if quiet else f" detail={detail!r} body={result.response_body!r}",
        )
        return result
