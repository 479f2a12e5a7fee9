"""Cron-able clean-up after a crash: changes left "in flight" become "outcome unknown"."""

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Mark changes left in flight by a process that died as 'outcome unknown' so "
        "supervisors reconcile them. Nothing is ever resent to OPF."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            help="seconds a change must have been in flight (default: twice the longest "
            "time a live request can take)",
        )

    def handle(self, *args, older_than, **options):
        from entitlements.services import mark_unfinished_as_unknown

        if older_than is None:
            # A live change makes at most a few connect attempts and two full requests (one
            # resend after a token refresh); anything older than twice that is dead.
            one_request = settings.OPF_CONNECT_TIMEOUT + settings.OPF_READ_TIMEOUT
            older_than = 2 * (4 * one_request) + 60
        marked = mark_unfinished_as_unknown(older_than_seconds=older_than)
        for change in marked:
            self.stdout.write(
                f"outcome unknown: correlation id {change.correlation_id} entitlement "
                f"{change.entitlement_opf_id} started {change.created_at.isoformat()}"
            )
        self.stdout.write(f"{len(marked)} unfinished change(s) marked outcome unknown")
