"""Cron-able reconciliation: changes left "in flight" by a dead process become "outcome unknown";
then, when the OPF read is configured, every change of unknown outcome and every confirmation
past CONFIRMATION_DEADLINE is checked against OPF's state and settled when it answers, or left
open and escalated (a WARNING log line; it stays on Needs attention). Nothing is ever sent to
OPF but reads."""

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Mark changes left in flight by a dead process 'outcome unknown', then settle changes "
        "of unknown outcome and overdue confirmations from OPF's state. Never resends a change."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            help="seconds a change must have been in flight (default: twice the longest "
            "time a live request can take)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be done, change nothing"
        )

    def handle(self, *args, older_than, dry_run, **options):
        from entitlements.services import mark_unfinished_as_unknown
        from entitlements.services.opf_reads import reads_configured
        from entitlements.services.reconciliation import reconcile_with_opf

        if older_than is None:
            # A live change makes at most a few connect attempts and two full requests (one
            # resend after a token refresh); anything older than twice that is dead.
            one_request = settings.OPF_CONNECT_TIMEOUT + settings.OPF_READ_TIMEOUT
            older_than = 2 * (4 * one_request) + 60
        marked = mark_unfinished_as_unknown(older_than_seconds=older_than, dry_run=dry_run)
        would = "would be " if dry_run else ""
        for change in marked:
            self.stdout.write(
                f"outcome unknown{' (dry run)' if dry_run else ''}: correlation id "
                f"{change.correlation_id} entitlement {change.entitlement_opf_id} started "
                f"{change.created_at.isoformat()}"
            )
        self.stdout.write(f"{len(marked)} unfinished change(s) {would}marked outcome unknown")
        if not reads_configured():
            self.stdout.write("OPF_ENTITLEMENTS_PATH is empty: OPF's state not checked.")
            return
        checks = reconcile_with_opf(dry_run=dry_run)
        for check in checks:
            change = check.change
            self.stdout.write(
                f"{check.verdict}: correlation id {change.correlation_id} entitlement "
                f"{change.entitlement_opf_id} {change.from_product.opf_id} -> "
                f"{change.to_product.opf_id} ({change.get_outcome_display()}); OPF shows "
                f"{check.opf_state or '-'}{'; ' + check.why if check.why else ''}"
            )
        settled = sum(check.settled for check in checks)
        self.stdout.write(
            f"{len(checks)} change(s) checked against OPF, {settled} settled"
            f"{' (dry run: nothing changed)' if dry_run else ''}"
        )
