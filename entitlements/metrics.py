"""What the portal's own flows did, counted for /metrics (see entitlements/opf/metrics.py for
OPF calls and careportal/metrics/ for the endpoint and the gauges read at scrape time)."""

from prometheus_client import Counter

# One per POST /opf/notifications: applied, duplicate, stale, unmatched, ... (the delivery's
# result) or why it was refused: unauthenticated, malformed, too_large, error.
NOTIFICATIONS = Counter(
    "careportal_opf_notifications",
    "OPF notifications received, by result",
    ["result"],
)

# One per open change record given its outcome (services/audit.finish_change): by OPF's answer,
# a notification, a reconcile or a supervisor's settlement.
CHANGES_FINISHED = Counter(
    "careportal_changes_finished",
    "Open change records given their outcome, by outcome",
    ["outcome"],
)
