"""Recount the supervisors' dashboard from the audit: the backfill after the migration that adds
it, or a repair (e.g. after TIME_ZONE changed, since days are the portal's local days)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Recount the dashboard's daily figures (DailyChangeStat) from the audit log, a few days "
        "per transaction. Safe while the portal runs; audit records are only read."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from",
            dest="first",
            type=date.fromisoformat,
            default=None,
            help="first day (YYYY-MM-DD; default: the oldest change)",
        )
        parser.add_argument(
            "--to",
            dest="last",
            type=date.fromisoformat,
            default=None,
            help="last day (default: the newest change)",
        )
        parser.add_argument(
            "--days-per-chunk",
            type=int,
            default=7,
            help="days recounted per transaction (default 7)",
        )

    def handle(self, *args, first, last, days_per_chunk, **options):
        from entitlements.change_stats import audit_days, rebuild_days
        from entitlements.models import DailyChangeStat

        if days_per_chunk < 1:
            raise CommandError("--days-per-chunk must be at least 1")
        span = audit_days()
        if span is None and not (first and last):
            deleted, _ = DailyChangeStat.objects.all().delete()
            self.stdout.write(f"no change records; {deleted} figure(s) removed")
            return
        if first is None and last is None:
            # Figures of days without any change record are stale: gone with the recount.
            DailyChangeStat.objects.exclude(day__range=span).delete()
        first, last = first or span[0], last or span[1]
        if first > last:
            raise CommandError("--from is after --to")
        rows, day = 0, first
        while day <= last:
            end = min(day + timedelta(days=days_per_chunk - 1), last)
            rows += rebuild_days(day, end)
            day = end + timedelta(days=1)
        self.stdout.write(f"recounted {first} .. {last}: {rows} figure(s)")
