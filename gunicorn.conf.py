"""Gunicorn in production: gunicorn -c gunicorn.conf.py careportal.wsgi

Threaded workers (gthread): a change waits on OPF for up to OPF_CONNECT_TIMEOUT +
OPF_READ_TIMEOUT seconds, and with sync workers a few such waits take every worker, so pages
that never call OPF stall behind them. With threads, a hanging OPF ties up a thread, not a
worker. bench/load.py --isolation measures both (bench/README.md).

Every value can be set from the environment (documented in .env.example and the README).
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


bind = os.environ.get("GUNICORN_BIND", "") or "0.0.0.0:8000"
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 4)
# Requests served at once per worker. Each thread holds its own database connection
# (CONN_MAX_AGE), so PostgreSQL sees up to workers x threads connections.
threads = _int("GUNICORN_THREADS", 8)
# gthread: a worker that does not check in for this long is restarted (requests in threads
# keep it alive). Longer than the slowest request: a token fetch plus a change, each up to
# OPF_CONNECT_TIMEOUT + OPF_READ_TIMEOUT (3.05 + 10 s by default).
timeout = _int("GUNICORN_TIMEOUT", 30)
# On a restart or SIGTERM, requests in progress (a change waiting on OPF) get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5  # seconds an idle keep-alive connection from the proxy stays open

# Logs to stdout/stderr (the service manager collects them). The access log shows the path
# without the query string (%(U)s, not %(r)s): a query string may carry a code or a state of
# the sign-in, or a search term with a customer's data.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

# No control socket: it sits at one path in the home directory, which two portals (or a bench
# beside a portal) on one machine would fight over; the service manager sends signals instead.
control_socket_disable = True

# Metrics (multiprocess mode): a dead worker's live gauges are dropped from the scrape.
from careportal.metrics.gunicorn_hooks import child_exit  # noqa: E402, F401
