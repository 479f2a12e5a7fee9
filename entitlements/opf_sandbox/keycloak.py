"""Keycloak's token endpoint, as far as OPF's operator APIs use it.

Tokens are random opaque strings (the portal must treat them as opaque anyway); the sandbox only
remembers which ones it issued and until when.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Credentials:
    realm: str = "opf"
    client_id: str = "opf-operator"
    username: str = "careportal"
    password: str = "careportal-sandbox-password"
    client_secret: str = "careportal-sandbox-secret"


@dataclass(frozen=True)
class TokenAnswer:
    status: int
    body: dict[str, Any]


_BAD_CLIENT = "Invalid client or Invalid client credentials"


def _error(status: int, error: str, description: str) -> TokenAnswer:
    return TokenAnswer(status, {"error": error, "error_description": description})


class TokenIssuer:
    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        access_lifetime: float = 300,
        refresh_lifetime: float = 1800,
    ) -> None:
        self.credentials = credentials or Credentials()
        self.access_lifetime = access_lifetime
        self.refresh_lifetime = refresh_lifetime
        self._lock = threading.Lock()
        # token -> monotonic deadline; refresh tokens also remember their client.
        self._access: dict[str, float] = {}
        self._refresh: dict[str, tuple[str, float]] = {}
        self._prune_at = 1024

    def grant(self, form: dict[str, str], basic: tuple[str, str] | None = None) -> TokenAnswer:
        """Answer one token request; `basic` is (client_id, secret) from HTTP Basic auth."""
        grant_type = form.get("grant_type")
        client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
        creds = self.credentials
        if not grant_type:
            return _error(400, "invalid_request", "Missing form parameter: grant_type")
        if grant_type not in {"password", "refresh_token", "client_credentials"}:
            return _error(400, "unsupported_grant_type", "Unsupported grant_type")
        if client_id != creds.client_id:
            return _error(401, "unauthorized_client", _BAD_CLIENT)

        if grant_type == "password":
            if form.get("username") != creds.username or form.get("password") != creds.password:
                return _error(401, "invalid_grant", "Invalid user credentials")
            return TokenAnswer(200, self._issue(client_id, with_refresh=True))
        if grant_type == "client_credentials":
            if client_secret != creds.client_secret:
                return _error(401, "unauthorized_client", _BAD_CLIENT)
            # Like Keycloak: a service account gets no refresh token; it simply asks again.
            return TokenAnswer(200, self._issue(client_id, with_refresh=False))
        # Keycloak answers 400 (not 401) for a refresh token it no longer accepts.
        if not self._refresh_valid(form.get("refresh_token", ""), client_id):
            return _error(400, "invalid_grant", "Token is not active")
        return TokenAnswer(200, self._issue(client_id, with_refresh=True))

    def access_token_valid(self, token: str) -> bool:
        with self._lock:
            deadline = self._access.get(token)
        return deadline is not None and time.monotonic() < deadline

    def expire_access_tokens(self) -> None:
        """Refresh tokens survive, so the portal's refresh-and-resend path can succeed."""
        with self._lock:
            self._access.clear()

    def forget_all(self) -> None:
        with self._lock:
            self._access.clear()
            self._refresh.clear()

    def _refresh_valid(self, token: str, client_id: str) -> bool:
        with self._lock:
            issued = self._refresh.get(token)
        return issued is not None and issued[0] == client_id and time.monotonic() < issued[1]

    def _issue(self, client_id: str, *, with_refresh: bool) -> dict[str, Any]:
        now = time.monotonic()
        access = secrets.token_urlsafe(32)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": int(self.access_lifetime),
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "profile email",
        }
        with self._lock:
            if len(self._access) + len(self._refresh) >= self._prune_at:
                self._drop_expired(now)
            self._access[access] = now + self.access_lifetime
            if with_refresh:
                refresh = secrets.token_urlsafe(32)
                self._refresh[refresh] = (client_id, now + self.refresh_lifetime)
                body["refresh_token"] = refresh
                body["refresh_expires_in"] = int(self.refresh_lifetime)
        return body

    def _drop_expired(self, now: float) -> None:
        # Called with the lock held, only when the tables have doubled since the last sweep: keeps
        # a long benchmark from growing them forever without a full sweep on every token.
        self._access = {t: d for t, d in self._access.items() if d > now}
        self._refresh = {t: v for t, v in self._refresh.items() if v[1] > now}
        self._prune_at = max(1024, 2 * (len(self._access) + len(self._refresh)))
