"""`sync_from_opf`: the whole mirror (or named accounts) from OPF, page by page.

Each page is applied in its own transaction (refresh.apply_records, each difference audited)
and the checkpoint then records it done, so a run interrupted (Ctrl-C, a crash, a lost
connection) resumes with the next page. Runs never overlap: the checkpoint row is also a lease,
taken and renewed by one conditional UPDATE (any database), freed at the end, and lapsing on its
own if its holder died.
"""

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ..models import new_correlation_id
from ..opf import EntitlementPage
from ..opf import entitlement_reads as reads
from ..upkeep import SyncCheckpoint
from .opf_client import get_opf_client
from .refresh import Asker, Refreshed, apply_records, refresh_account

WHOLE_MIRROR = "whole mirror"
LEASE = timedelta(minutes=5)  # renewed after every page; a page takes far less
ASKER = Asker(name="sync_from_opf")


class SyncBusy(Exception):
    """Another sync_from_opf holds the lease."""


@dataclass(frozen=True)
class Progress:
    """After each page: pages and entitlements done in this run, and OPF's total if it said."""

    page_index: int
    entitlements: int
    total: int | None
    refreshed: Refreshed


def _checkpoint() -> SyncCheckpoint:
    # get_or_create reads the row again when a run starting at the same moment created it.
    return SyncCheckpoint.objects.get_or_create(name=WHOLE_MIRROR)[0]


class Lease:
    """The right to run: held by this run's random token until released or lapsed."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self.checkpoint = _checkpoint()

    def take(self) -> None:
        now = timezone.now()
        free = Q(locked_until__isnull=True) | Q(locked_until__lt=now) | Q(holder=self.token)
        taken = (
            SyncCheckpoint.objects.filter(pk=self.checkpoint.pk)
            .filter(free)
            .update(holder=self.token, locked_until=now + LEASE)
        )
        if not taken:
            held = SyncCheckpoint.objects.get(pk=self.checkpoint.pk)
            raise SyncBusy(
                f"another sync_from_opf runs (its lease ends {held.locked_until:%H:%M:%S} UTC)"
            )
        self.checkpoint.refresh_from_db()

    def save(self, **fields) -> None:
        """Store checkpoint fields and renew the lease, if still ours."""
        now = timezone.now()
        SyncCheckpoint.objects.filter(pk=self.checkpoint.pk, holder=self.token).update(
            locked_until=now + LEASE, **fields
        )

    def release(self) -> None:
        SyncCheckpoint.objects.filter(pk=self.checkpoint.pk, holder=self.token).update(
            holder="", locked_until=None
        )


def sync_whole_mirror(
    *, page_size: int, restart: bool, on_page: Callable[[Progress], None]
) -> tuple[Refreshed, int]:
    """Sync every entitlement OPF shows; returns the totals and the page index it started from.

    Resumes after the last page done by an interrupted run with the same page size, unless
    `restart`. Raises SyncBusy when another run holds the lease; ReadFailed when OPF cannot be
    read (the pages done stay done).
    """
    lease = Lease()
    lease.take()
    try:
        point = lease.checkpoint
        resume = not restart and point.finished_at is None and point.page_size == page_size
        start = point.next_page_index if resume else 0
        total = Refreshed()
        if resume and point.counts:
            total.counts.update(point.counts)
        else:
            lease.save(page_size=page_size, next_page_index=0, started_at=timezone.now(),
                       finished_at=None, counts={})  # fmt: skip
        pages = reads.all_pages(
            get_opf_client(),
            correlation_id=new_correlation_id(),
            page_size=page_size,
            start_page_index=start,
        )
        _apply_pages(pages, total, on_page, lease)
        lease.save(finished_at=timezone.now(), next_page_index=0, counts=dict(total.counts))
        return total, start
    finally:
        lease.release()


def _apply_pages(pages: Iterable[EntitlementPage], total, on_page, lease) -> None:
    seen = 0
    while True:
        read_at = timezone.now()  # before OPF is asked for the page
        page = next(pages, None)
        if page is None:
            return
        done = apply_records(page.entitlements, read_at=read_at, asker=ASKER)
        done.counts["skipped"] += len(page.skipped)
        total.counts.update(done.counts)  # counts only: memory stays flat over any number
        seen += page.records
        lease.save(next_page_index=page.page_index + 1, counts=dict(total.counts))
        on_page(Progress(page.page_index, seen, page.total, done))


def sync_accounts(account_ids: Iterable[str], *, on_page: Callable[[Progress], None]) -> Refreshed:
    """Sync the named accounts (each read whole); runs under the same lease as the whole mirror."""
    lease = Lease()
    lease.take()
    total = Refreshed()
    try:
        for n, account_id in enumerate(account_ids):
            done = refresh_account(account_id, asker=ASKER)
            total.counts.update(done.counts)
            lease.save()
            on_page(Progress(n, sum(done.counts.values()), None, done))
    finally:
        lease.release()
    return total
