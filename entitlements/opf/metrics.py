"""What the OPF client did, counted for /metrics (prometheus-client; no Django, no ORM).

Under gunicorn and the task workers PROMETHEUS_MULTIPROC_DIR is set before start, so every
process writes its counts to a shared directory and whichever process answers /metrics adds them
up (careportal.metrics). Without it (the tests, manage.py) they count in the process.
"""

from prometheus_client import Counter, Histogram

# One changeProduct call of the portal: the outcome it ended with, and how long it took with
# its token fetch and quick retries.
CHANGE_PRODUCT_CALLS = Counter(
    "careportal_opf_change_product_calls",
    "changeProduct calls by outcome (one per change attempt sent or refused before sending)",
    ["outcome"],
)
CHANGE_PRODUCT_SECONDS = Histogram(
    "careportal_opf_change_product_duration_seconds",
    "Time of a changeProduct call, token and quick retries included",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30),
)
# Each HTTP request sent (operation "changeProduct" or "entitlements read"): OPF's status,
# "no_answer" when none came, "not_connected" when it never reached OPF. 401/403 are OPF
# refusing the portal's token.
OPF_REQUESTS = Counter(
    "careportal_opf_requests",
    "HTTP requests sent to OPF by operation and the status OPF answered",
    ["operation", "status"],
)
TOKEN_REQUESTS = Counter(
    "careportal_opf_token_requests",
    "Token requests to Keycloak by grant and result (obtained, refused, unreachable, unusable)",
    ["grant", "result"],
)

_KNOWN_STATUSES = frozenset({200, 202, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504})


def status_label(status: int | None) -> str:
    """A bounded set of label values, whatever OPF answers."""
    if status is None:
        return "no_answer"
    return str(status) if status in _KNOWN_STATUSES else f"{status // 100}xx"
