"""The audit CSV export with seals: every row carries its newest seal, the last row the head.

A reader rebuilds each row's seal content from the row alone (entitlements/audit_chain.py) and
checks it with docs/verify_export.py, without database access (docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from .audit_chain import CHANGE_FACT, cell
from .audit_verify import head
from .models import ChangeAttempt, Seal

SEAL_COLUMNS = ("seal sequence", "seal kind", "sealed at (UTC)", "seal prev hash", "seal hash")
HEAD_ROW = "chain head"  # first cell of the last row: the chain head when the export was made
_TABLE = ChangeAttempt._meta.db_table


def sealed_rows(queryset, *, chunk: int) -> Iterator[list[str]]:
    """The header, each record's sealed columns and its newest seal, then the chain head."""
    yield [header for header, _path in CHANGE_FACT] + list(SEAL_COLUMNS)
    rows = queryset.values_list(*[path for _header, path in CHANGE_FACT])
    batch = []
    for row in rows.iterator(chunk_size=chunk):
        batch.append(row)
        if len(batch) >= chunk:
            yield from _with_seals(batch)
            batch = []
    yield from _with_seals(batch)
    newest = head()
    yield [HEAD_ROW, *((str(newest.sequence), newest.hash) if newest else ("", ""))]


def _with_seals(batch: list[tuple]) -> Iterator[list[str]]:
    # One query per chunk: the seals of these records, the newest last.
    newest = {}
    seals = Seal.objects.filter(subject_table=_TABLE, subject_pk__in=[row[0] for row in batch])
    for pk, *link in seals.order_by("subject_pk", "sequence").values_list(
        "subject_pk", "sequence", "kind", "sealed_at", "prev_hash", "hash"
    ):
        newest[pk] = link
    for row in batch:
        yield [cell(value) for value in row] + [cell(v) for v in newest.get(row[0], ("",) * 5)]
