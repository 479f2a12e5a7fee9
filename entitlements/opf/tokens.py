"""Keycloak access tokens for OPF's operator APIs, shared by every thread and process.

The token lives in the Django cache (shared between processes) under a key derived from who asks
for it, and is replaced shortly before it expires. Only one caller at a time fetches a new one:
a cache lock (`cache.add`) plus a per-process lock keep a burst of changes from stampeding
Keycloak. The locks only avoid duplicate work: if one is lost (a file cache's `add` is not atomic,
a holder dies), the worst case is an extra token request, never a wrong token.
"""

import hashlib
import json
import logging
import math
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests

from entitlements.opf.config import OpfConfig
from entitlements.opf.errors import TokenUnavailable
from entitlements.opf.metrics import TOKEN_REQUESTS
from entitlements.opf.transport import NoAuth, classify_failure, read_bounded

logger = logging.getLogger(__name__)

# Replace a token this long before it expires: at most 30 s, at most 10 % of its lifetime (so a
# short test lifetime still leaves most of it usable).
MAX_EXPIRY_MARGIN = 30.0
EXPIRY_MARGIN_FRACTION = 0.1
# OAuth makes expires_in optional; without it assume a short life rather than reuse a dead token.
DEFAULT_EXPIRES_IN = 60.0
# Keycloak's default refresh lifetime, used only when the answer does not say. A refresh that is
# refused falls back to the full grant, so a wrong guess costs one request.
DEFAULT_REFRESH_EXPIRES_IN = 1800.0
POLL_INTERVAL = 0.05
# How long waiters remember that the fetch they were waiting for failed (so they fail with it
# instead of each hitting a dead token endpoint in turn).
FAILURE_MEMORY = 5
MAX_TOKEN_CHARS = 16384
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # what may follow "Bearer " in a header
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class TokenCache(Protocol):
    """The part of Django's cache API the provider uses."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any, timeout: float | None = ...) -> None: ...
    def add(self, key: str, value: Any, timeout: float | None = ...) -> bool: ...
    def delete(self, key: str) -> Any: ...


_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(key: str) -> threading.Lock:
    # Keyed like the cache entry, so several OpfClient instances in one process share it.
    with _process_locks_guard:
        return _process_locks.setdefault(key, threading.Lock())


def _margin(lifetime: float) -> float:
    return min(MAX_EXPIRY_MARGIN, lifetime * EXPIRY_MARGIN_FRACTION)


def _log_context(correlation_id: str) -> tuple[str, dict[str, str]]:
    if not correlation_id:
        return "", {}
    return f" correlation_id={correlation_id}", {"correlation_id": correlation_id}


class TokenProvider:
    """Hands out a valid access token for one OPF configuration.

    `cache` is a Django cache (or anything with the same get/set/add/delete); `session` is the
    client's requests session, so token requests share its connection pool.
    """

    def __init__(
        self,
        config: OpfConfig,
        session: requests.Session,
        cache: TokenCache,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._session = session
        self._cache = cache
        # Wall-clock time: expiry instants are shared with other processes through the cache.
        self._clock = clock
        # Secrets never go into keys: cache keys end up in file names, logs and memcached stats.
        identity = "\n".join(
            (config.token_url, config.token_grant, config.client_id, config.username)
        )
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        self._key = f"opf:token:{digest}"
        self._lock_key = f"opf:token-lock:{digest}"
        self._failure_key = f"opf:token-failure:{digest}"
        # One fetch may be a refused refresh followed by the full grant.
        one_request = config.connect_timeout + config.read_timeout
        self._lock_ttl = math.ceil(2 * one_request) + 1
        # A waiter gives up on the lock holder after about one request's worth of time: by then it
        # has died or hangs, and fetching ourselves is better than failing the change.
        self._wait_seconds = one_request + 1

    @property
    def cache_key(self) -> str:
        """Where the token is cached (a hash: no secret in it)."""
        return self._key

    @property
    def lock_key(self) -> str:
        """Held by whoever is fetching a new token."""
        return self._lock_key

    def get_token(self, correlation_id: str = "") -> str:
        """A currently valid access token; raises TokenUnavailable with a plain message."""
        entry = self._cache.get(self._key)
        if self._is_fresh(entry):
            return entry["access_token"]
        started = self._clock()
        lock = _process_lock(self._key)
        acquired = lock.acquire(timeout=self._wait_seconds)
        try:
            # Another thread may have fetched a token, or failed to, while we waited.
            entry = self._cache.get(self._key)
            if self._is_fresh(entry):
                return entry["access_token"]
            self._raise_if_failed_since(started)
            return self._fetch_once_across_processes(started, correlation_id)
        finally:
            if acquired:
                lock.release()

    def invalidate(self, access_token: str) -> None:
        """Forget `access_token` after OPF refused it, unless it has already been replaced.

        When several changes get a 403 for the same token at once, the first one's new token must
        not be thrown away by the others. (get-then-delete is not atomic; losing that race costs
        one extra token request.)
        """
        entry = self._cache.get(self._key)
        if isinstance(entry, dict) and entry.get("access_token") == access_token:
            self._cache.delete(self._key)

    # -- fetching -------------------------------------------------------------------------------

    def _is_fresh(self, entry: object) -> bool:
        return (
            isinstance(entry, dict)
            and bool(entry.get("access_token"))
            and self._clock() < float(entry.get("access_expires_at", 0))
        )

    def _raise_if_failed_since(self, started: float) -> None:
        failure = self._cache.get(self._failure_key)
        if isinstance(failure, dict) and failure.get("at", 0) >= started:
            raise TokenUnavailable(str(failure.get("message", "OPF token unavailable")))

    def _fetch_once_across_processes(self, started: float, correlation_id: str) -> str:
        deadline = time.monotonic() + self._wait_seconds
        owner = secrets.token_hex(8)
        while True:
            if self._cache.add(self._lock_key, owner, timeout=self._lock_ttl):
                try:
                    return self._fetch_and_store(correlation_id)
                except TokenUnavailable as exc:
                    self._cache.set(
                        self._failure_key,
                        {"at": self._clock(), "message": str(exc)},
                        timeout=FAILURE_MEMORY,
                    )
                    raise
                finally:
                    if self._cache.get(self._lock_key) == owner:
                        self._cache.delete(self._lock_key)
            # Someone else is fetching: wait for their token (or their failure).
            while True:
                time.sleep(POLL_INTERVAL)
                entry = self._cache.get(self._key)
                if self._is_fresh(entry):
                    return entry["access_token"]
                self._raise_if_failed_since(started)
                if time.monotonic() > deadline:
                    suffix, extra = _log_context(correlation_id)
                    logger.warning(
                        "OPF token fetch by another worker is taking too long; fetching here%s",
                        suffix,
                        extra=extra,
                    )
                    return self._fetch_and_store(correlation_id)
                if self._cache.get(self._lock_key) is None:
                    break  # the holder finished without a usable token, or died: try the lock

    def _fetch_and_store(self, correlation_id: str) -> str:
        entry = self._cache.get(self._key)
        if self._is_fresh(entry):
            return entry["access_token"]
        fresh = self._fetch(entry if isinstance(entry, dict) else None, correlation_id)
        now = self._clock()
        keep_for = max(fresh["access_expires_at"], fresh.get("refresh_expires_at") or 0) - now
        self._cache.set(self._key, fresh, timeout=max(1, math.ceil(keep_for)))
        return fresh["access_token"]

    def _fetch(self, previous: dict[str, Any] | None, correlation_id: str) -> dict[str, Any]:
        suffix, extra = _log_context(correlation_id)
        if previous and previous.get("refresh_token"):
            refresh_expires_at = previous.get("refresh_expires_at")
            if refresh_expires_at is None or self._clock() < refresh_expires_at:
                form = {"grant_type": "refresh_token", "refresh_token": previous["refresh_token"]}
                try:
                    return self._request_token(form, "refresh_token", correlation_id, previous)
                except TokenUnavailable as exc:
                    logger.info(
                        "OPF token refresh failed (%s); using the %s grant%s",
                        exc,
                        self._config.token_grant,
                        suffix,
                        extra=extra,
                    )
        if self._config.token_grant == "password":
            form = {
                "grant_type": "password",
                "username": self._config.username,
                "password": self._config.password,
            }
        else:
            form = {"grant_type": "client_credentials"}
        return self._request_token(form, self._config.token_grant, correlation_id, None)

    def _request_token(
        self,
        form: dict[str, str],
        grant: str,
        correlation_id: str,
        previous: dict[str, Any] | None,
    ) -> dict[str, Any]:
        form = {**form, "client_id": self._config.client_id}
        if self._config.client_secret:
            form["client_secret"] = self._config.client_secret
        suffix, extra = _log_context(correlation_id)
        started = time.monotonic()
        try:
            response = self._session.post(
                self._config.token_url,
                data=form,
                headers={"Accept": "application/json"},
                auth=NoAuth(),
                timeout=self._config.timeout,
                allow_redirects=False,
                stream=True,
            )
            body = read_bounded(response, deadline=started + sum(self._config.timeout))
        except requests.RequestException as exc:
            TOKEN_REQUESTS.labels(grant, "unreachable").inc()
            # `from None`: the original exception carries the request, whose body holds secrets.
            note = classify_failure(exc).note
            raise TokenUnavailable(f"OPF token endpoint unreachable ({note})") from None
        if response.status_code != 200:
            TOKEN_REQUESTS.labels(grant, "refused").inc()
            code = self._error_code(body)
            raise TokenUnavailable(
                f"OPF token endpoint answered HTTP {response.status_code}"
                + (f" ({code})" if code else "")
            )
        try:
            entry = self._parse(body, previous)
        except TokenUnavailable:
            TOKEN_REQUESTS.labels(grant, "unusable").inc()
            raise
        TOKEN_REQUESTS.labels(grant, "obtained").inc()
        logger.info(
            "OPF token obtained grant=%s usable_for=%ss in %.0f ms%s",
            grant,
            round(entry["access_expires_at"] - self._clock()),
            (time.monotonic() - started) * 1000,
            suffix,
            extra=extra,
        )
        return entry

    def _parse(self, body: bytes, previous: dict[str, Any] | None) -> dict[str, Any]:
        unusable = TokenUnavailable("OPF token endpoint answered with an unusable token response")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise unusable from None
        if not isinstance(data, dict):
            raise unusable
        access_token = data.get("access_token")
        if (
            not isinstance(access_token, str)
            or len(access_token) > MAX_TOKEN_CHARS
            or not _TOKEN_CHARS.fullmatch(access_token)
        ):
            raise unusable
        token_type = data.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise unusable
        expires_in = self._seconds(data.get("expires_in"), DEFAULT_EXPIRES_IN)
        now = self._clock()
        entry: dict[str, Any] = {
            "access_token": access_token,
            "access_expires_at": now + expires_in - _margin(expires_in),
            "refresh_token": None,
            "refresh_expires_at": None,
        }
        refresh_token = data.get("refresh_token")
        if isinstance(refresh_token, str) and refresh_token:
            refresh_in = self._seconds(data.get("refresh_expires_in"), DEFAULT_REFRESH_EXPIRES_IN)
            entry["refresh_token"] = refresh_token
            entry["refresh_expires_at"] = now + refresh_in - _margin(refresh_in)
        elif previous and previous.get("refresh_token"):
            # A refresh answer without a new refresh token: the old one stays usable.
            entry["refresh_token"] = previous["refresh_token"]
            entry["refresh_expires_at"] = previous.get("refresh_expires_at")
        return entry

    @staticmethod
    def _seconds(value: object, default: float) -> float:
        # Keycloak sends integers; 0 means "no limit" for refresh_expires_in (offline tokens).
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return default
        if not math.isfinite(seconds) or seconds <= 0:
            return default
        return seconds

    @staticmethod
    def _error_code(body: bytes) -> str:
        """Keycloak's OAuth error code (e.g. invalid_grant), if it is a plain short word."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return ""
        code = data.get("error") if isinstance(data, dict) else None
        return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ""
