"""Reading an export a row at a time: CSV, JSON (one list) or JSON Lines, by extension.

Each row comes with where it is (`line 4`, `item 3`), the way a person finds it in the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entitlements.importing.report import Problem


class FileProblem(Exception):
    """The file as a whole cannot be read (syntax, header, encoding): no row can be trusted."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def read_rows(path: Path, *, fields: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """Yield (where, row) for each row of the file, `where` naming it the way a person finds it.

    Raises FileProblem when the file itself is unreadable or has the wrong shape.
    """
    suffix = path.suffix.lower()
    readers = {".csv": _read_csv, ".json": _read_json, ".jsonl": _read_json_lines}
    if suffix not in readers:
        raise FileProblem(
            Problem(
                "file", "", f"unknown file type {suffix or '(none)'!r}: use .csv, .json or .jsonl"
            )
        )
    try:
        yield from readers[suffix](path, tuple(fields))
    except UnicodeDecodeError as exc:
        raise FileProblem(Problem("file", "", f"not UTF-8 text ({exc.reason})")) from exc
    except OSError as exc:
        raise FileProblem(Problem("file", "", f"cannot be read ({exc.strerror or exc})")) from exc


def _read_csv(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise FileProblem(Problem("line 1", "", "the file is empty; expected a header"))
            duplicated = sorted({name for name in header if header.count(name) > 1})
            if duplicated:
                raise FileProblem(
                    Problem("line 1", "header", f"column(s) named twice: {', '.join(duplicated)}")
                )
            missing = [name for name in fields if name not in header]
            if missing:
                raise FileProblem(
                    Problem("line 1", "header", f"missing column(s): {', '.join(missing)}")
                )
            for values in reader:
                where = f"line {reader.line_num}"
                if not any(values):
                    continue  # a blank line
                if len(values) != len(header):
                    yield where, WrongWidth(len(values), len(header))
                else:
                    yield where, dict(zip(header, values, strict=True))
        except csv.Error as exc:
            raise FileProblem(Problem(f"line {reader.line_num}", "", f"bad CSV: {exc}")) from exc


def _read_json(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8") as f:
        try:
            items = json.load(f)
        except json.JSONDecodeError as exc:
            raise FileProblem(
                Problem(f"line {exc.lineno}", "", f"not valid JSON: {exc.msg}")
            ) from exc
    if not isinstance(items, list):
        raise FileProblem(Problem("file", "", "expected a JSON list of objects"))
    for number, item in enumerate(items, start=1):
        yield f"item {number}", item


def _read_json_lines(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {number}", NotJson(exc.msg)


@dataclass(frozen=True)
class WrongWidth:
    found: int
    expected: int


@dataclass(frozen=True)
class NotJson:
    reason: str
