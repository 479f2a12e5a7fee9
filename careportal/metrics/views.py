"""GET /metrics, behind `Authorization: Bearer <METRICS_TOKEN>`.

404 while METRICS_TOKEN is unset (the endpoint does not exist), 401 without a bearer token,
403 with a wrong one (compared in constant time). No session, no sign-in.
"""

import hmac
import os

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import CollectorRegistry

from .gauges import DatabaseGauges


class _ThisProcess:
    """The default registry's metrics (single-process mode: the tests, manage.py runserver)."""

    def collect(self):
        yield from REGISTRY.collect()


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        # Every process's files, the dead ones' too: their counts happened.
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseGauges())
    return registry


def _refusal(request: HttpRequest) -> HttpResponse | None:
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        response = HttpResponse("bearer token required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return HttpResponse("wrong token\n", status=403, content_type="text/plain")
    return None


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal:
        return refusal
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
