"""Checking the audit's hash chain, and every sealed record against its newest seal.

Two streaming passes, each read in keyset-paginated chunks (constant memory, index-served):

1. the chain: seals in sequence order; each must follow the one before (no gap), carry its own
   kind and subject, hash to its `hash`, and link to the previous seal's hash; the head row
   must name the last seal;
2. the facts: for each audit table, its rows and its seals, both in primary-key order, merged:
   every row's rendering must equal its newest seal's fact, every sealed row must exist, and
   every row newer than the table's first sealed row must have a seal.

The first problem found is reported as a Break naming the seal and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Min

from .audit_chain import FACT_COLUMNS, GENESIS, Link, link_hash
from .audit_rows import model_of, pages, rendered_rows
from .models import ChainHead, Seal


@dataclass(frozen=True)
class Break:
    """The first broken seal and what is wrong: edited, deleted, inserted or reordered."""

    sequence: int | None
    problem: str
    detail: str

    def __str__(self) -> str:
        where = f"seal {self.sequence}" if self.sequence is not None else "unsealed record"
        return f"{where}: {self.problem}: {self.detail}"


@dataclass
class Report:
    seals: int = 0
    first: int | None = None
    head: Link | None = None
    records: int = 0
    predating: int = 0
    seconds: float = 0.0
    broken: list[Break] = field(default_factory=list)

    @property
    def first_break(self) -> Break | None:
        found = [b for b in self.broken if b.sequence is not None]
        if found:
            return min(found, key=lambda b: b.sequence)
        return self.broken[0] if self.broken else None


def verify(*, since: datetime | None = None, anchor: Link | None = None) -> Report:
    """Walk the chain (from the first seal sealed at or after `since`) and check the facts."""
    started = time.perf_counter()
    report = Report()
    start = _first_sequence(since)
    if start is not None:
        _side_by_side(lambda: _walk_chain(report, start), lambda: _check_all_facts(report, start))
        if anchor is not None:
            _check_anchor(report, anchor)
    elif since is None and ChainHead.objects.exists():
        report.broken.append(Break(1, "deleted", "the chain has a head but no seals are left"))
    report.seconds = time.perf_counter() - started
    return report


def _side_by_side(walk, check) -> None:
    """PostgreSQL: the two passes at once, each on a connection of its own reading one
    snapshot, so that while one waits for the database the other works (bench/README.md).
    SQLite's work is done in this process, where two threads would share one interpreter lock:
    there, and inside a caller's transaction (a test's), one after the other."""
    if connection.in_atomic_block or connection.vendor != "postgresql":
        walk(), check()
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-audit") as pool:
        walked = pool.submit(_on_own_connection, walk)
        with _snapshot():
            check()
        walked.result()


def _on_own_connection(run) -> None:
    try:
        with _snapshot():
            run()
    finally:
        connection.close()  # this thread's own


@contextmanager
def _snapshot():
    """One REPEATABLE READ, READ ONLY transaction (PostgreSQL), so that a pass compares rows
    and seals as of one moment while the portal's writers go on."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _check_all_facts(report: Report, start: int) -> None:
    for table, columns in FACT_COLUMNS.items():
        _check_facts(report, table, columns, start)


def head() -> Link | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sequence, hash FROM entitlements_seal ORDER BY sequence DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return Link(*row) if row else None


def _first_sequence(since: datetime | None) -> int | None:
    seals = Seal.objects.all() if since is None else Seal.objects.filter(sealed_at__gte=since)
    return seals.aggregate(first=Min("sequence"))["first"]


def _walk_chain(report: Report, start: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT prev_hash FROM entitlements_seal WHERE sequence = %s", [start])
        # From the first seal the chain starts at GENESIS; with --since, at what it links to.
        prev_hash = cursor.fetchone()[0] if start > 1 else GENESIS
    prev_seq, before_prev = start - 1, None
    report.first = start
    rows = pages(
        "SELECT sequence, kind, subject_table, subject_pk, content, prev_hash, hash"
        " FROM entitlements_seal WHERE sequence > %s ORDER BY sequence LIMIT %s",
        lambda last: [start - 1 if last is None else last],
        lambda row: row[0],
    )
    seals, sha256 = 0, hashlib.sha256  # the hot loop: every seal, hashed once
    for sequence, kind, table, pk, content, link, digest in rows:
        if (
            sequence != prev_seq + 1
            or link != prev_hash
            or sha256((link + content).encode()).hexdigest() != digest
            or not content.startswith(f"{kind}\n{table}:{pk}\n")
        ):
            report.seals += seals
            row = (sequence, kind, table, pk, content, link, digest)
            report.broken.append(_broken_link(row, prev_seq, before_prev))
            return
        seals += 1
        prev_seq, before_prev, prev_hash = sequence, prev_hash, digest
    report.seals += seals
    report.head = Link(prev_seq, prev_hash)
    _check_head(report)


def _broken_link(row: tuple, prev_seq: int, before_prev: str | None) -> Break:
    """What is wrong with a seal that failed the walk's checks, named in this order."""
    sequence, kind, table, pk, content, link, digest = row
    if sequence != prev_seq + 1:
        return Break(prev_seq + 1, "deleted", f"seals {prev_seq + 1}..{sequence - 1} are missing")
    if not content.startswith(f"{kind}\n{table}:{pk}\n"):
        return Break(sequence, "edited", "its kind or subject no longer match its content")
    if link_hash(link, content) != digest:
        return Break(sequence, "edited", "its content no longer matches its hash")
    return _misplaced(sequence, link, before_prev)


def _misplaced(sequence: int, link: str, before_prev: str | None) -> Break:
    """A sound seal that does not follow the one before it: say what most likely happened."""
    if link == before_prev:
        return Break(sequence - 1, "inserted", f"it is not in the chain (seal {sequence} skips it)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sequence FROM entitlements_seal WHERE hash = %s", [link])
        row = cursor.fetchone()
    if row and row[0] > sequence:
        return Break(sequence, "reordered", f"it follows seal {row[0]}, which now comes after it")
    if row:
        return Break(
            row[0] + 1, "inserted", f"seals {row[0] + 1}..{sequence - 1} are not in the chain"
        )
    return Break(
        sequence - 1,
        "deleted",
        f"seal {sequence} follows a seal that is gone: seal {sequence - 1} was rewritten "
        "or the seals before it deleted",
    )


def _check_head(report: Report) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sequence, hash FROM entitlements_chainhead WHERE id = 1")
        row = cursor.fetchone()
    last = report.head
    if row is None:
        report.broken.append(Break(last.sequence, "deleted", "the chain head row is gone"))
    elif row[0] > last.sequence:
        report.broken.append(
            Break(
                last.sequence + 1,
                "deleted",
                f"the chain head is seal {row[0]}: the seals after {last.sequence} are missing",
            )
        )
    elif row[0] < last.sequence:
        report.broken.append(
            Break(
                row[0] + 1,
                "inserted",
                f"seals {row[0] + 1}..{last.sequence} come after the chain head (seal {row[0]})",
            )
        )
    elif row[1] != last.hash:
        report.broken.append(Break(last.sequence, "edited", "its hash differs from the head's"))


def _check_anchor(report: Report, anchor: Link) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT hash FROM entitlements_seal WHERE sequence = %s", [anchor.sequence])
        row = cursor.fetchone()
    if row is None:
        report.broken.append(Break(anchor.sequence, "deleted", "the anchored seal is gone"))
    elif row[0] != anchor.hash:
        report.broken.append(
            Break(
                anchor.sequence,
                "edited",
                "its hash differs from the anchor: the log up to it was rewritten",
            )
        )


def _latest_seals(table: str, from_pk: int) -> Iterator[tuple[int, int, str]]:
    """(pk, newest sequence, fact JSON) of each sealed row of `table` from `from_pk`, pk order.

    Only the newest seal of each row is compared, so only it is read: the database picks it
    from the seal_subject index (PostgreSQL: DISTINCT ON; SQLite: MAX(), whose other columns
    come from the row holding the maximum), half the seals' text of reading them all."""
    if connection.vendor == "postgresql":
        sql = (
            "SELECT DISTINCT ON (subject_pk) subject_pk, sequence, content FROM entitlements_seal"
            " WHERE subject_table = %s AND subject_pk > %s"
            " ORDER BY subject_pk, sequence DESC LIMIT %s"
        )
    else:
        sql = (
            "SELECT subject_pk, MAX(sequence), content FROM entitlements_seal"
            " WHERE subject_table = %s AND subject_pk > %s"
            " GROUP BY subject_pk ORDER BY subject_pk LIMIT %s"
        )
    rows = pages(
        sql,
        lambda last: [table, from_pk - 1 if last is None else last],
        lambda row: row[0],
    )
    for pk, sequence, content in rows:
        yield pk, sequence, content.split("\n", 3)[3]


def _check_facts(report: Report, table: str, columns, start: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(subject_pk) FROM entitlements_seal"
            " WHERE subject_table = %s AND sequence >= %s",
            [table, start],
        )
        from_pk = cursor.fetchone()[0]
    if from_pk is None:
        return  # nothing of this table sealed (yet): its rows predate the chain
    if start == report.first and start == 1:
        # A full walk: rows from before the first sealed one predate the chain.
        report.predating += _count_before(table, from_pk)
    seals = _latest_seals(table, from_pk)
    rows = rendered_rows(table, columns, from_pk)
    sealed, row = next(seals, None), next(rows, None)
    while sealed is not None or row is not None:
        if sealed is None or (row is not None and row[0] < sealed[0]):
            report.broken.append(Break(None, "inserted", f"record {table}:{row[0]} has no seal"))
            row = next(rows, None)
        elif row is None or sealed[0] < row[0]:
            report.broken.append(
                Break(sealed[1], "deleted", f"record {table}:{sealed[0]} it seals is gone")
            )
            sealed = next(seals, None)
        else:
            report.records += 1
            if row[1] != sealed[2]:
                report.broken.append(
                    Break(
                        sealed[1],
                        "edited",
                        f"record {table}:{row[0]} differs from its seal "
                        f"({_differences(sealed[2], row[1])})",
                    )
                )
            sealed, row = next(seals, None), next(rows, None)


def _count_before(table: str, pk: int) -> int:
    return model_of(table)._base_manager.filter(pk__lt=pk).count()


def _differences(sealed: str, current: str) -> str:
    was, now = json.loads(sealed), json.loads(current)
    names = sorted(k for k in was.keys() | now.keys() if was.get(k) != now.get(k))
    return ", ".join(f"{name}: sealed {was.get(name)!r}, now {now.get(name)!r}" for name in names)
