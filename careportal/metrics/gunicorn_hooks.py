"""gunicorn server hooks for the metrics' multiprocess mode.

Use as a config (`gunicorn -c python:careportal.metrics.gunicorn_hooks`) or from the repo's
gunicorn.conf.py: `from careportal.metrics.gunicorn_hooks import child_exit  # noqa: F401`.
"""

import os


def child_exit(server, worker) -> None:
    """Let the scrape drop a dead worker's live gauges (its counters are kept, as they should)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
