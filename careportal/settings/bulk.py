"""Bulk tier changes (issue 12): background work on django-tasks and the shared OPF budget.

Jobs run on django-tasks with the database backend: `manage.py db_worker` processes them, as
many workers on as many machines as wanted (README, "Bulk tier migration").
"""

from django.core.exceptions import ImproperlyConfigured

from careportal.settings.env import env

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# At most this many changeProduct requests reach OPF in any one second, all workers together.
OPF_MAX_REQUESTS_PER_SECOND = env.int("OPF_MAX_REQUESTS_PER_SECOND", default=10)
# Requests in flight at once in one worker (threads inside one task run).
BULK_CONCURRENCY = env.int("BULK_CONCURRENCY", default=4)
# How many workers one job runs on at once (one task chain each); run at least that many.
BULK_WORKERS_PER_JOB = env.int("BULK_WORKERS_PER_JOB", default=2)
# Seconds one task of a chain works before handing over to the next; a killed worker's
# entitlements are taken up again this long after its last heartbeat.
BULK_LEASE_SECONDS = env.int("BULK_LEASE_SECONDS", default=30)
if min(OPF_MAX_REQUESTS_PER_SECOND, BULK_CONCURRENCY, BULK_WORKERS_PER_JOB) < 1:
    raise ImproperlyConfigured(
        "OPF_MAX_REQUESTS_PER_SECOND, BULK_CONCURRENCY and BULK_WORKERS_PER_JOB must be >= 1."
    )
if BULK_LEASE_SECONDS < 5:
    raise ImproperlyConfigured("BULK_LEASE_SECONDS must be at least 5.")
