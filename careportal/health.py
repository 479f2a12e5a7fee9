"""What a load balancer asks: is this process alive (/healthz), may it take traffic (/readyz)?

Both answer without sign-in, over plain HTTP too (SECURE_REDIRECT_EXEMPT: load balancers call
the backend directly), and cheaply enough to be called every few seconds:
- /healthz touches nothing: no session, no database, no cache (HealthzMiddleware, first).
- /readyz checks what a change needs, each with a short timeout: the database (SELECT 1), the
  shared cache (a set and a get of one small key) and the OPF token endpoint (a TCP connect to
  its host and port, no token request: asking Keycloak for a token every few seconds would load
  it for nothing, and a refused token already shows in /metrics and the audit).
A failure answers 503 with the names of the checks that failed, never the exception or a URL
(both may carry credentials); the reason is logged without them.
"""

import logging
import secrets
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger("careportal.health")

# Seconds for the TCP connect to the token endpoint: a load balancer's own timeout is often 5 s.
TOKEN_ENDPOINT_TIMEOUT = 2.0
_CACHE_KEY = "careportal:readyz"


class HealthzMiddleware:
    """Answers GET /healthz before any other middleware: no session, no user, no database, and
    no Host check either (a load balancer often calls the backend by its IP address)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            response = JsonResponse({"status": "ok"})
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    value = secrets.token_hex(8)
    cache.set(_CACHE_KEY, value, timeout=30)
    if cache.get(_CACHE_KEY) != value:
        raise RuntimeError("the cache did not keep a value")


def token_endpoint_address(url: str) -> tuple[str, int]:
    """Host and port of the token endpoint (credentials in the URL are never used)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "", port


def check_opf_token_endpoint() -> None:
    host, port = token_endpoint_address(settings.OPF_TOKEN_URL)
    timeout = min(TOKEN_ENDPOINT_TIMEOUT, settings.OPF_CONNECT_TIMEOUT)
    with socket.create_connection((host, port), timeout=timeout):
        pass


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "opf_token_endpoint": check_opf_token_endpoint,
}


def _run(name: str, check: Callable[[], None]) -> bool:
    started = time.monotonic()
    try:
        check()
    except Exception as exc:
        # The type only: messages of database and cache errors may hold host names, users or
        # passwords from their URLs.
        log.warning(
            "readyz check %s failed (%s) after %.0f ms",
            name,
            type(exc).__name__,
            (time.monotonic() - started) * 1000,
        )
        return False
    return True


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    results = {name: "ok" if _run(name, check) else "failed" for name, check in CHECKS.items()}
    failed = [name for name, result in results.items() if result != "ok"]
    if failed:
        return JsonResponse(
            {"status": "unavailable", "failed": failed, "checks": results}, status=503
        )
    return JsonResponse({"status": "ok", "checks": results})
