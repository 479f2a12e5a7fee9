"""GET /metrics: Prometheus' text format, behind a bearer token (METRICS_TOKEN).

Library: prometheus-client (the Prometheus project's own Python client), in its multiprocess
mode: gunicorn's workers and the task workers each write their counters to files under
PROMETHEUS_MULTIPROC_DIR, and whichever process answers the scrape adds them all up. We chose it
over django-prometheus because what we count is the domain (changeProduct outcomes, token
requests, notifications), not generic request/ORM counts, and django-prometheus would still need
prometheus-client's multiprocess mode under gunicorn.

- counters and histograms: entitlements/opf/metrics.py (OPF client), entitlements/metrics.py;
- gauges read from the database at scrape time: gauges.py (add bulk job progress there);
- the endpoint: views.py; gunicorn's child_exit hook: gunicorn_hooks.py.
"""
