"""What an import tells: the report of counts, and the reasons a file is refused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# A refused file lists this many problems; the rest are counted.
MAX_REPORTED_PROBLEMS = 20

RowProblems = list[tuple[str, str]]  # (field, message) pairs found in one row


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused: where (`line 4`, `item 3`), which field, what is wrong."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.where}, {self.field}: {self.message}"
        return f"{self.where}: {self.message}"


@dataclass
class ImportReport:
    kind: str  # "products" or "entitlements"
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0  # bad rows; any refuses the whole file
    kept: int = 0  # already there and left as they are (import_entitlements only_new)
    dry_run: bool = False
    file_refused: bool = False  # the file itself is unreadable or of the wrong shape

    def summary(self) -> str:
        if self.file_refused:
            return f"{self.kind}: file refused (nothing imported)"
        line = (
            f"{self.kind}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.refused} refused"
        )
        if self.kept:
            line += f", {self.kept} kept as they are"
        if self.refused:
            return f"{line} (nothing imported)"
        if self.dry_run:
            return f"{line} (dry run: nothing written)"
        return line


class ImportRefused(Exception):
    """The file was refused and nothing was written; `problems` holds the first few reasons."""

    def __init__(self, *, path: Path, report: ImportReport, problems: list[Problem]) -> None:
        self.path = path
        self.report = report
        self.problems = problems
        super().__init__(self._message())

    def _message(self) -> str:
        rows = self.report.refused
        head = f"{self.path.name} refused, nothing imported"
        if rows:
            head += f" ({rows} bad row{'s' if rows != 1 else ''})"
        lines = [head + ":"]
        lines += [f"  {problem}" for problem in self.problems]
        if rows > len(self.problems):
            lines.append(f"  ... and {rows - len(self.problems)} more bad rows")
        return "\n".join(lines)
