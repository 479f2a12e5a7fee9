"""HTTP plumbing shared by the token provider and the OPF calls (exchange.py).

The distinction that matters for a change is whether the request could have reached OPF:
  - it certainly did not (connection refused, name resolution failed, connect timeout): resending
    is safe, the change is "not sent";
  - anything later (read timeout, reset, truncated reply) means OPF may have acted on it: never
    resent, "outcome unknown".
"""

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

POOL_SIZE = 10
# Bytes read from any answer. Bodies are stored cut to 4000 characters; reading up to this much
# means a normal reply is read to its end (so a truncated one is noticed and the connection can be
# reused) while a huge one is never buffered.
MAX_READ_BYTES = 64 * 1024
USER_AGENT = "care-portal-opf-client"


class _Session(requests.Session):
    """A Session that reads the proxy and CA settings of the environment once per host.

    requests looks them up again for every request, walking the whole of os.environ twice: a
    third of a millisecond of each change here (bench/README.md), for settings that do not
    change under a running process. The answer is the same as requests' own (its code, cached).
    """

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str, bool | None], dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies or verify is not None or cert is not None:  # given per request: as requests
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        key = (*urlsplit(url)[:2], stream)
        found = self._environment.get(key)
        if found is None:
            found = super().merge_environment_settings(url, {}, stream, None, None)
            self._environment[key] = found
        return {**found, "proxies": dict(found["proxies"])}


def build_session(pool_size: int = POOL_SIZE) -> requests.Session:
    """One keep-alive session per client, with every retry switched off.

    urllib3's own retries would resend a POST after a read error, which is exactly what must never
    happen to a change; the client decides on retries itself.
    """
    session = _Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


class BearerAuth(requests.auth.AuthBase):
    """Sets the Authorization header.

    Passing it as `auth=` (rather than a plain header) also stops requests from replacing the
    header with credentials from a ~/.netrc file when the session trusts the environment.
    """

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:  # never show the token
        return "BearerAuth(<token>)"


class NoAuth(requests.auth.AuthBase):
    """Client credentials go in the form body; this keeps ~/.netrc from adding a Basic header."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


@dataclass(frozen=True)
class Failure:
    """A request that got no HTTP answer (or a broken one)."""

    reached: bool  # False only when the request certainly never reached the server
    note: str  # plain words, e.g. "connect refused", "read timeout"


def classify_failure(exc: requests.RequestException) -> Failure:
    """Map an exception from requests to whether the server may have seen the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return Failure(reached=False, note="connect timeout")
    if isinstance(exc, requests.ReadTimeout):
        return Failure(reached=True, note="read timeout")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return Failure(reached=True, note="truncated reply")
    if isinstance(exc, requests.ConnectionError) and not isinstance(
        exc, requests.exceptions.ProxyError | requests.exceptions.SSLError
    ):
        reason: object = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        if isinstance(reason, NameResolutionError):
            return Failure(reached=False, note="name resolution failed")
        if isinstance(reason, NewConnectionError):
            refused = "refused" in str(reason).lower()
            return Failure(reached=False, note="connect refused" if refused else "connect failed")
        text = str(exc).lower()
        if "reset" in text or "aborted" in text or "remotedisconnected" in text:
            return Failure(reached=True, note="connection reset")
        if "timed out" in text or "timeout" in text:
            return Failure(reached=True, note="read timeout")
        return Failure(reached=True, note="connection error")
    # TLS and proxy trouble, or anything unforeseen: assume it may have arrived. A wrong answer
    # here costs a supervisor a reconciliation; the opposite could apply a change twice.
    return Failure(reached=True, note=f"{type(exc).__name__}")


def read_bounded(
    response: requests.Response, deadline: float, max_bytes: int = MAX_READ_BYTES
) -> bytes:
    """Read at most `max_bytes` of a streamed answer, then release the connection.

    requests' read timeout bounds each socket read, not the whole body, so a server dripping bytes
    is also cut off at `deadline` (a time.monotonic() value) by raising ReadTimeout. A reply cut
    short of its Content-Length or chunked framing raises ChunkedEncodingError from iter_content.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=8192):
            chunks.append(chunk)
            size += len(chunk)
            if size >= max_bytes:
                break
            if time.monotonic() > deadline:
                raise requests.ReadTimeout("reply took too long to arrive")
    finally:
        # A fully read body returns the connection to the pool; a cut one closes it.
        response.close()
    return b"".join(chunks)[:max_bytes]


def decode_body(body: bytes, response: requests.Response) -> str:
    # requests guesses a charset with charset_normalizer when none is declared (slow, and wrong
    # for JSON, which is UTF-8); say what we mean instead.
    encoding = response.encoding if "charset" in response.headers.get("Content-Type", "") else None
    try:
        return body.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return body.decode("utf-8", errors="replace")
