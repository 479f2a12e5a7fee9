"""Bulk tier migration (issue 12): move thousands of entitlements to another tier, one by one.

planning.py   which entitlements qualify, which are blocked and why (the dry run), the job rows
throttle.py   the shared changeProduct budget: OPF_MAX_REQUESTS_PER_SECOND across all workers
running.py    one worker's share of a job: claim an item, send it through change_product, record
tasks.py      the django-tasks task chains that run jobs on `manage.py db_worker`
control.py    start, pause, resume, cancel, retry; each recorded as a job event with who did it
progress.py   counts per outcome, rate, time left, failures, the results CSV
admin.py      the supervisors' pages (plan, dry run, the job page), views.py behind them

Every entitlement goes through entitlements.services.change_product, the single change flow.
"""
