"""One OPF operator call over the client's pooled session, with the rules every call keeps.

changeProduct and the entitlements read both go through `Caller.call`, so both send the same
x-correlation-id and nv-tenant-id, use the shared Keycloak token and the configured timeouts,
resend once with a fresh token after 401/403, retry quickly only when the request certainly
never reached OPF, and never keep the token in a body that is stored or logged. What an answer
means is the caller's business: `Exchange.end` says how the call ended, nothing more.
"""

import enum
import http.client
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from entitlements.opf.answers import CREDENTIALS_REFUSED
from entitlements.opf.config import OpfConfig
from entitlements.opf.errors import TokenUnavailable
from entitlements.opf.metrics import OPF_REQUESTS, status_label
from entitlements.opf.results import HttpAttempt
from entitlements.opf.tokens import TokenProvider
from entitlements.opf.transport import (
    MAX_READ_BYTES,
    BearerAuth,
    Failure,
    classify_failure,
    decode_body,
    read_bounded,
)

logger = logging.getLogger(__name__)

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
class Request:
    """One OPF operator request, before the token and the common headers are added."""

    name: str  # for log lines: "changeProduct", "entitlements read"
    method: str
    url: str
    json: Mapping[str, Any] | None = None
    params: Mapping[str, str] | None = None
    max_bytes: int = MAX_READ_BYTES  # of the answer's body read; a longer one is cut


@dataclass(frozen=True)
class Reply:
    status: int | None  # None when no status line arrived
    body: str  # the token, if OPF echoed it, replaced by "[token]"
    duration_ms: float
    failure: Failure | None  # set when the exchange broke (before or after the status line)
    oversized: bool = False  # the body reached Request.max_bytes and was cut there
    # The body's bytes as they came (NUL, invalid UTF-8...), the token replaced as in `body`.
    raw: bytes = b""


class End(enum.Enum):
    """How a call ended."""

    ANSWERED = "answered"  # an HTTP status other than 401/403: the caller reads it
    NO_TOKEN = "no token"  # Keycloak gave no token; nothing was sent
    UNREACHABLE = "unreachable"  # never reached OPF, quick retries spent
    BROKEN = "broken"  # reached OPF, no whole answer (read timeout, reset, truncated)
    REFRESH_FAILED = "refresh failed"  # 401/403, then Keycloak gave no new token
    CREDENTIALS_REFUSED = "credentials refused"  # 401/403 again with a fresh token


@dataclass(frozen=True)
class Exchange:
    end: End
    reply: Reply | None  # the last one; None when nothing was answered
    attempts: tuple[HttpAttempt, ...]
    reason: str  # plain words for every end but ANSWERED: the token trouble, the failure note
    correlation_id: str
    started: float  # time.monotonic() when the call began

    def elapsed_ms(self) -> float:
        return round((time.monotonic() - self.started) * 1000, 1)


def log(level: int, correlation_id: str, message: str, *args: object) -> None:
    # The correlation id goes in the text (for plain log files) and as a field (for JSON logs).
    logger.log(
        level,
        message + " correlation_id=%s",
        *args,
        correlation_id,
        extra={"correlation_id": correlation_id},
    )


class Caller:
    """Sends OPF operator requests for one client: its config, session and token provider."""

    def __init__(self, config: OpfConfig, session: requests.Session, tokens: TokenProvider) -> None:
        self._config = config
        self._session = session
        self.tokens = tokens
        self.connect_retries = config.connect_retries

    def call(self, request: Request, correlation_id: str, note: Callable[[int], str]) -> Exchange:
        """Send `request` under the rules above; `note` words the attempt that got an answer."""
        call = _Call(self, request, correlation_id)
        return call.run(note)

    def send(self, request: Request, correlation_id: str, token: str) -> Reply:
        """One HTTP exchange: never raises for what the network or OPF does."""
        headers = {"x-correlation-id": correlation_id, "Accept": "application/json"}
        if request.json is not None:
            headers["Content-Type"] = "application/json"
        if self._config.tenant_id:
            headers["nv-tenant-id"] = self._config.tenant_id
        started = time.monotonic()

        def elapsed() -> float:
            return (time.monotonic() - started) * 1000

        try:
            response = self._session.request(
                request.method,
                request.url,
                json=request.json,
                params=request.params,
                headers=headers,
                auth=BearerAuth(token),
                timeout=self._config.timeout,
                allow_redirects=False,
                stream=True,
            )
        except _NETWORK_ERRORS as exc:
            return Reply(None, "", elapsed(), _failure(exc))
        try:
            deadline = started + sum(self._config.timeout)
            raw = read_bounded(response, deadline=deadline, max_bytes=request.max_bytes)
        except _NETWORK_ERRORS as exc:
            # The status line came, the body did not: OPF may or may not have finished its work.
            return Reply(response.status_code, "", elapsed(), _failure(exc, after_status=True))
        body = decode_body(raw, response)
        oversized = len(raw) >= request.max_bytes
        # A body echoing our token must not carry it into audit rows or logs.
        if token in body:
            body = body.replace(token, "[token]")
            raw = raw.replace(token.encode(), b"[token]")
            if token in decode_body(raw, response):
                # Echoed in a charset that is not ASCII-compatible: keep only the text.
                raw = body.encode("utf-8", "replace")
        return Reply(response.status_code, body, elapsed(), None, oversized, raw)


class _Call:
    """One call: the token, the (re)sends, and how it ended."""

    def __init__(self, caller: Caller, request: Request, correlation_id: str) -> None:
        self._caller = caller
        self._request = request
        self._correlation_id = correlation_id
        self._attempts: list[HttpAttempt] = []
        self._started = time.monotonic()

    def run(self, note: Callable[[int], str]) -> Exchange:
        tokens = self._caller.tokens
        try:
            token = tokens.get_token(self._correlation_id)
        except TokenUnavailable as exc:
            return self._end(End.NO_TOKEN, None, str(exc))
        resent_with_new_token = False
        connect_failures = 0
        while True:
            reply = self._caller.send(self._request, self._correlation_id, token)
            if reply.failure is not None:
                self._record(reply, reply.failure.note)
                if reply.failure.reached:
                    return self._end(End.BROKEN, reply, reply.failure.note)
                if connect_failures >= self._caller.connect_retries:
                    return self._end(End.UNREACHABLE, None, reply.failure.note)
                self._pause_before_retry(connect_failures, reply.failure.note)
                connect_failures += 1
                continue
            assert reply.status is not None
            if reply.status not in CREDENTIALS_REFUSED:
                self._record(reply, note(reply.status))
                return self._end(End.ANSWERED, reply, "")
            if resent_with_new_token:
                self._record(reply, f"{reply.status} credentials refused again")
                log(
                    logging.ERROR,
                    self._correlation_id,
                    "OPF refused the portal's credentials: HTTP %d with a fresh token",
                    reply.status,
                )
                return self._end(End.CREDENTIALS_REFUSED, reply, "OPF refused the credentials")
            resent_with_new_token = True
            tokens.invalidate(token)
            try:
                token = tokens.get_token(self._correlation_id)
            except TokenUnavailable as exc:
                self._record(reply, f"{reply.status} -> token refresh failed")
                return self._end(End.REFRESH_FAILED, reply, str(exc))
            self._record(reply, f"{reply.status} -> token refreshed")
            log(
                logging.INFO,
                self._correlation_id,
                "OPF %s attempt %d answered HTTP %d; resending once with a new token",
                self._request.name,
                len(self._attempts),
                reply.status,
            )

    def _pause_before_retry(self, failures_so_far: int, why: str) -> None:
        delay = CONNECT_BACKOFF[min(failures_so_far, len(CONNECT_BACKOFF) - 1)]
        log(
            logging.WARNING,
            self._correlation_id,
            "OPF %s attempt %d not sent (%s); retrying in %.1f s",
            self._request.name,
            len(self._attempts),
            why,
            delay,
        )
        time.sleep(delay)

    def _record(self, reply: Reply, note: str) -> None:
        self._attempts.append(HttpAttempt(reply.status, round(reply.duration_ms, 1), note))
        connected = reply.failure is None or reply.failure.reached
        OPF_REQUESTS.labels(
            self._request.name, status_label(reply.status) if connected else "not_connected"
        ).inc()

    def _end(self, end: End, reply: Reply | None, reason: str) -> Exchange:
        attempts = tuple(self._attempts)
        return Exchange(end, reply, attempts, reason, self._correlation_id, self._started)


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
