"""The two passes of every import: validate the whole file, then write it in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from entitlements.importing.readers import FileProblem, read_rows
from entitlements.importing.report import (
    MAX_REPORTED_PROBLEMS,
    ImportRefused,
    ImportReport,
    Problem,
    RowProblems,
)
from entitlements.opf.identifiers import shown

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Parsed:
    ordinal: int  # the row's position in the file, to list problems in file order
    where: str
    row: Any


@dataclass
class _Validation:
    """The first problems in file order (bounded) and the number of bad rows."""

    problems: list[tuple[int, Problem]] = field(default_factory=list)
    bad_rows: int = 0

    def add(self, ordinal: int, where: str, row_problems: RowProblems) -> None:
        self.bad_rows += 1
        self.problems += [(ordinal, Problem(where, name, msg)) for name, msg in row_problems]
        # Chunk checks report a little out of order; keep the earliest ones.
        self.problems.sort(key=lambda item: item[0])
        del self.problems[MAX_REPORTED_PROBLEMS:]

    def listed(self) -> list[Problem]:
        return [problem for _ordinal, problem in self.problems]


@dataclass(frozen=True)
class ImportKind:
    """One kind of export: its name in the report, its required fields and its checks.

    `parse` checks one row on its own; `check_chunk` checks parsed rows against the database
    and returns the problems by ordinal; `write_chunk` upserts and counts.
    """

    name: str
    fields: tuple[str, ...]
    parse: Callable[[Any], tuple[Any, RowProblems]]
    check_chunk: Callable[[list[Parsed]], dict[int, RowProblems]]
    write_chunk: Callable[[list[Any], ImportReport, bool], None]


@dataclass
class _File:
    """What both passes share: the file, the kind of its rows, and the report."""

    path: Path
    kind: ImportKind
    chunk_size: int
    report: ImportReport

    def refused(self, problems: list[Problem]) -> ImportRefused:
        return ImportRefused(path=self.path, report=self.report, problems=problems)

    def chunks(
        self, *, on_problem: Callable[[int, str, RowProblems], None]
    ) -> Iterator[list[Parsed]]:
        """The file's good rows, parsed, `chunk_size` at a time; bad rows go to `on_problem`."""
        chunk: list[Parsed] = []
        for ordinal, (where, raw) in enumerate(read_rows(self.path, fields=self.kind.fields)):
            row, problems = self.kind.parse(raw)
            if problems:
                on_problem(ordinal, where, problems)
                continue
            chunk.append(Parsed(ordinal, where, row))
            if len(chunk) >= self.chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def differs(record: Any, values: dict[str, Any]) -> bool:
    return any(getattr(record, name) != value for name, value in values.items())


def sort_rows(
    chunk: list[Any],
    existing: dict[str, Any],
    *,
    model: type,
    values_of: Callable[[Any], dict[str, Any]],
    report: ImportReport,
) -> tuple[list[Any], list[Any]]:
    """The records to create and the existing ones that change (set from their row), counted.

    `existing` maps OPF ids to the stored records; `values_of` gives a row's model fields.
    """
    to_create, to_update = [], []
    for row in chunk:
        values = values_of(row)
        record = existing.get(row.opf_id)
        if record is None:
            to_create.append(model(opf_id=row.opf_id, **values))
        elif differs(record, values):
            for name, value in values.items():
                setattr(record, name, value)
            to_update.append(record)
        else:
            report.unchanged += 1
    report.created += len(to_create)
    report.updated += len(to_update)
    return to_create, to_update


def run_import(path: Path, kind: ImportKind, *, dry_run: bool, chunk_size: int) -> ImportReport:
    """Validate the whole file, then write it in one transaction (see the package docstring)."""
    report = ImportReport(kind=kind.name, dry_run=dry_run)
    file = _File(path=path, kind=kind, chunk_size=chunk_size, report=report)
    _validate(file)
    _write(file, dry_run)
    return report


def _validate(file: _File) -> None:
    """Pass 1: check the whole file, touching nothing; ImportRefused lists the bad rows."""
    validation = _Validation()
    # The ids seen so far, to refuse duplicates: about 100 MB for a million entitlements.
    seen: set[str] = set()
    try:
        for chunk in file.chunks(on_problem=validation.add):
            found = file.kind.check_chunk(chunk)
            for parsed in chunk:
                problems = found.get(parsed.ordinal, [])
                if parsed.row.opf_id in seen:
                    duplicate = f"{shown(parsed.row.opf_id)} appears earlier in the file"
                    problems = [(file.kind.fields[0], duplicate), *problems]
                seen.add(parsed.row.opf_id)
                if problems:
                    validation.add(parsed.ordinal, parsed.where, problems)
    except FileProblem as exc:
        file.report.file_refused = True
        raise file.refused([*validation.listed(), exc.problem][:MAX_REPORTED_PROBLEMS]) from None
    if validation.bad_rows:
        file.report.refused = validation.bad_rows
        raise file.refused(validation.listed())


def _write(file: _File, dry_run: bool) -> None:
    """Pass 2: write, all or nothing.

    The file is parsed again; should it have changed since pass 1 and now hold a bad row, the
    transaction is rolled back.
    """

    def changed_under_us(ordinal: int, where: str, problems: RowProblems) -> None:
        name, message = problems[0]
        raise file.refused(
            [Problem(where, name, f"{message} (the file changed during the import)")]
        )

    try:
        with nullcontext() if dry_run else transaction.atomic():
            for chunk in file.chunks(on_problem=changed_under_us):
                file.kind.write_chunk([parsed.row for parsed in chunk], file.report, dry_run)
    except FileProblem as exc:
        file.report.file_refused = True
        raise file.refused([exc.problem]) from None
    except IntegrityError as exc:
        # Validation saw a consistent file; a clash now means someone else wrote meanwhile.
        file.report.file_refused = True
        message = f"the database refused a write ({exc}); was another import running? Run again."
        raise file.refused([Problem("database", "", message)]) from exc
