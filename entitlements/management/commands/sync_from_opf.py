"""`manage.py sync_from_opf [--account ID ...]`: the mirror from OPF's entitlements read.

Safe from cron: two runs never overlap (the second exits with status 75 at once), an
interrupted run resumes with the page after the last one done (`--restart` starts over), and
each difference is audited as a refresh. Products not in the catalogue are reported: an
entitlement on one is not created, or, already mirrored, is flagged for review and unchanged.
"""

import time

from django.core.management.base import BaseCommand, CommandError

BUSY = 75  # EX_TEMPFAIL: try again later


class Command(BaseCommand):
    help = (
        "Bring the mirror in line with OPF's entitlements read, page by page (or the named "
        "accounts). Resumable, never overlapping; each difference audited as a refresh."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="ID",
            help="sync this account only (repeat for more)",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="start from the first page, not where an interrupted run stopped",
        )
        parser.add_argument("--page-size", type=int, default=None,
                            help="entitlements per page read (default: the adapter's)")  # fmt: skip

    def handle(self, *args, account, restart, page_size, **options):
        from entitlements.opf import ReadFailed
        from entitlements.opf import entitlement_reads as reads
        from entitlements.services.opf_reads import reads_configured
        from entitlements.services.refresh import COUNTS
        from entitlements.services.sync import SyncBusy, sync_accounts, sync_whole_mirror

        if not reads_configured():
            raise CommandError("OPF_ENTITLEMENTS_PATH is empty: the OPF read is not configured.")
        self.tty = self.stdout.isatty()
        self.started = time.monotonic()
        try:
            if account:
                totals = sync_accounts(account, on_page=self.progress)
            else:
                totals, start = sync_whole_mirror(
                    page_size=page_size or reads.DEFAULT_PAGE_SIZE,
                    restart=restart,
                    on_page=self.progress,
                )
                if start:
                    self.stdout.write(f"Resumed from page {start + 1}.")
        except SyncBusy as busy:
            raise CommandError(f"{busy}; nothing done.", returncode=BUSY) from None
        except ReadFailed as failed:
            self.end_line()
            raise CommandError(
                f"OPF could not be read ({failed}); pages done are kept, run again to resume."
            ) from None
        self.end_line()
        counts = totals.counts
        seconds = time.monotonic() - self.started
        figures = ", ".join(
            f"{name.replace('_', ' ')} {counts[name]}" for name in (*COUNTS, "skipped")
        )
        self.stdout.write(f"{figures} (in {seconds:.1f} s)")

    def progress(self, progress) -> None:
        for problem in progress.refreshed.problems:
            self.end_line()
            self.stdout.write(problem)
        if not self.tty:
            return
        rate = progress.entitlements / max(time.monotonic() - self.started, 1e-6)
        of = f"/{progress.total}" if progress.total else ""
        self.stdout.write(f"\r{progress.entitlements}{of} entitlements, {rate:,.0f}/s ", ending="")
        self.stdout.flush()
        self.bar_open = True

    def end_line(self) -> None:
        if getattr(self, "bar_open", False):
            self.stdout.write("")
            self.bar_open = False
