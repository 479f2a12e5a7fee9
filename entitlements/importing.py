"""Loading the mirror from OPF exports: the catalogue (products) and the entitlements.

Files are chosen by extension: `.csv` (header line = field names, UTF-8, a BOM is tolerated),
`.json` (one list of objects) or `.jsonl` (one object per line). CSV and JSON Lines are read a
row at a time; a `.json` file is parsed whole by `json.load`, which is fine up to a few hundred
MB. For bigger exports (a million entitlements) use CSV or JSON Lines.

Every import makes two passes over the file:

1. Validation: every row is checked (fields, identifiers, statuses, products known). Any bad row
   refuses the whole file: `ImportRefused` lists the bad rows and nothing is written.
2. Writing: the file is read again and, in one transaction, upserted by OPF id in chunks (one
   query finds the existing rows of a chunk, then one bulk insert and batched updates).

Two passes, because a streamed file is never held in memory, yet a bad row at its end must
neither leave half a file in the database nor hold a long write transaction open for a file
that is going to be refused. Rows the file does not mention are left as they are.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import Entitlement, EntitlementStatus, Product

CHUNK_SIZE = 2000
# A refused file lists this many problems; the rest are counted.
MAX_REPORTED_PROBLEMS = 20

DEMO_DATA_DIR = Path(__file__).resolve().parent / "demo_data"

# Required fields; a product may also say `active` (true when absent).
PRODUCT_FIELDS = ("productId", "name", "providerId", "providerResourceId", "tier")
ENTITLEMENT_FIELDS = ("entitlementId", "accountId", "productId", "status")

# Control characters, invisible format characters (zero-width, bidi overrides), surrogates and
# line/paragraph separators: never part of an OPF id, and they make ids that look alike.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_MAX_TIER = 2147483647  # PositiveIntegerField's ceiling on every database

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
    dry_run: bool = False
    file_refused: bool = False  # the file itself is unreadable or of the wrong shape

    def summary(self) -> str:
        if self.file_refused:
            return f"{self.kind}: file refused (nothing imported)"
        line = (
            f"{self.kind}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.refused} refused"
        )
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


# --- Rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRow:
    opf_id: str
    name: str
    provider_id: str
    provider_resource_id: str
    tier: int
    active: bool


@dataclass(frozen=True)
class EntitlementRow:
    opf_id: str
    account_id: str
    product_opf_id: str
    status: str


@cache
def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


class _FileProblem(Exception):
    """The file as a whole cannot be read (syntax, header, encoding): no row can be trusted."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _read_rows(path: Path, *, fields: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """Yield (where, row) for each row of the file, `where` naming it the way a person finds it.

    Raises _FileProblem when the file itself is unreadable or has the wrong shape.
    """
    suffix = path.suffix.lower()
    readers = {".csv": _read_csv, ".json": _read_json, ".jsonl": _read_json_lines}
    if suffix not in readers:
        raise _FileProblem(
            Problem(
                "file", "", f"unknown file type {suffix or '(none)'!r}: use .csv, .json or .jsonl"
            )
        )
    try:
        yield from readers[suffix](path, tuple(fields))
    except UnicodeDecodeError as exc:
        raise _FileProblem(Problem("file", "", f"not UTF-8 text ({exc.reason})")) from exc
    except OSError as exc:
        raise _FileProblem(Problem("file", "", f"cannot be read ({exc.strerror or exc})")) from exc


def _read_csv(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise _FileProblem(Problem("line 1", "", "the file is empty; expected a header"))
            duplicated = sorted({name for name in header if header.count(name) > 1})
            if duplicated:
                raise _FileProblem(
                    Problem("line 1", "header", f"column(s) named twice: {', '.join(duplicated)}")
                )
            missing = [name for name in fields if name not in header]
            if missing:
                raise _FileProblem(
                    Problem("line 1", "header", f"missing column(s): {', '.join(missing)}")
                )
            for values in reader:
                where = f"line {reader.line_num}"
                if not any(values):
                    continue  # a blank line
                if len(values) != len(header):
                    yield where, _WrongWidth(len(values), len(header))
                else:
                    yield where, dict(zip(header, values, strict=True))
        except csv.Error as exc:
            raise _FileProblem(Problem(f"line {reader.line_num}", "", f"bad CSV: {exc}")) from exc


def _read_json(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8") as f:
        try:
            items = json.load(f)
        except json.JSONDecodeError as exc:
            raise _FileProblem(
                Problem(f"line {exc.lineno}", "", f"not valid JSON: {exc.msg}")
            ) from exc
    if not isinstance(items, list):
        raise _FileProblem(Problem("file", "", "expected a JSON list of objects"))
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
                yield f"line {number}", _NotJson(exc.msg)


@dataclass(frozen=True)
class _WrongWidth:
    found: int
    expected: int


@dataclass(frozen=True)
class _NotJson:
    reason: str


class _RowChecker:
    """Reads the fields of one raw row, collecting every problem instead of stopping at one."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.problems: RowProblems = []

    def fail(self, name: str, message: str) -> None:
        self.problems.append((name, message))

    def text(self, name: str, *, max_length: int, identifier: bool = True) -> str:
        value = self.raw.get(name)
        if value is None:
            self.fail(name, "is missing")
            return ""
        if not isinstance(value, str):
            self.fail(name, f"must be text, not {_json_type(value)}")
            return ""
        problem = identifier_problem(value, max_length=max_length, identifier=identifier)
        if problem:
            self.fail(name, problem)
        return value

    def tier(self, name: str) -> int:
        value = self.raw.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TIER:
            return value
        self.fail(name, f"must be a whole number 0 or more, not {_show(value)}")
        return 0

    def choice(self, name: str, *, choices: Sequence[str]) -> str:
        value = self.raw.get(name)
        if value in choices:
            return value
        if value is None:
            self.fail(name, "is missing")
        else:
            self.fail(name, f"{_show(value)} is not one of {', '.join(choices)}")
        return ""

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "1", "yes"}:
            return True
        if isinstance(value, str) and value.lower() in {"false", "0", "no"}:
            return False
        self.fail(name, f"must be true or false, not {_show(value)}")
        return default


def identifier_problem(value: str, *, max_length: int, identifier: bool = True) -> str | None:
    """Why `value` cannot be stored (and, for an id, sent to OPF in a URL), or None."""
    if value == "":
        return "is empty"
    if len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} are allowed"
    if not value.isprintable():  # fast path in C; printable text has none of them
        for char in value:
            if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
                return (
                    f"{_show(value)} contains the control or invisible character U+{ord(char):04X}"
                )
    if value != value.strip():
        return f"{_show(value)} has leading or trailing whitespace"
    if identifier and value in {".", ".."}:
        return f"cannot be {value!r}"
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _checker_for(raw: Any) -> tuple[_RowChecker | None, tuple[str, str] | None]:
    if isinstance(raw, _WrongWidth):
        return None, ("", f"has {raw.found} values; the header has {raw.expected} columns")
    if isinstance(raw, _NotJson):
        return None, ("", f"not valid JSON: {raw.reason}")
    if not isinstance(raw, dict):
        return None, ("", f"expected an object, not {_json_type(raw)}")
    return _RowChecker(raw), None


def parse_product(raw: Any) -> tuple[ProductRow | None, RowProblems]:
    """A product row and no problems, or None and the (field, message) problems found."""
    check, problem = _checker_for(raw)
    if check is None:
        return None, [problem]
    row = ProductRow(
        opf_id=check.text("productId", max_length=_max_length(Product, "opf_id")),
        name=check.text("name", max_length=_max_length(Product, "name"), identifier=False),
        provider_id=check.text("providerId", max_length=_max_length(Product, "provider_id")),
        provider_resource_id=check.text(
            "providerResourceId", max_length=_max_length(Product, "provider_resource_id")
        ),
        tier=check.tier("tier"),
        active=check.flag("active", default=True),
    )
    if not check.problems:
        # OPF's rule: the product id is made of the provider id and the provider's resource id.
        expected = f"{row.provider_id}_{row.provider_resource_id}"
        if row.opf_id != expected:
            check.fail(
                "productId",
                f"{_show(row.opf_id)} must be providerId_providerResourceId ({_show(expected)})",
            )
    return (None, check.problems) if check.problems else (row, [])


_STATUSES = tuple(EntitlementStatus.values)  # in OPF's order, for the message


def parse_entitlement(raw: Any) -> tuple[EntitlementRow | None, RowProblems]:
    """An entitlement row and no problems, or None and the (field, message) problems found.

    Whether its product is in the catalogue is checked by the caller (it needs the database).
    """
    check, problem = _checker_for(raw)
    if check is None:
        return None, [problem]
    row = EntitlementRow(
        opf_id=check.text("entitlementId", max_length=_max_length(Entitlement, "opf_id")),
        account_id=check.text("accountId", max_length=_max_length(Entitlement, "account_id")),
        product_opf_id=check.text("productId", max_length=_max_length(Product, "opf_id")),
        status=check.choice("status", choices=_STATUSES),
    )
    return (None, check.problems) if check.problems else (row, [])


# --- The two passes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
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


def _chunks(
    path: Path,
    *,
    fields: tuple[str, ...],
    parse: Callable[[Any], tuple[Any, RowProblems]],
    chunk_size: int,
    on_problem: Callable[[int, str, RowProblems], None],
) -> Iterator[list[_Parsed]]:
    """The file's good rows, parsed, `chunk_size` at a time; bad rows go to `on_problem`."""
    chunk: list[_Parsed] = []
    for ordinal, (where, raw) in enumerate(_read_rows(path, fields=fields)):
        row, problems = parse(raw)
        if problems:
            on_problem(ordinal, where, problems)
            continue
        chunk.append(_Parsed(ordinal, where, row))
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run_import(
    *,
    path: Path,
    kind: str,
    fields: tuple[str, ...],
    parse: Callable[[Any], tuple[Any, RowProblems]],
    check_chunk: Callable[[list[_Parsed]], dict[int, RowProblems]],
    write_chunk: Callable[[list[Any], ImportReport, bool], None],
    dry_run: bool,
    chunk_size: int,
) -> ImportReport:
    """Validate the whole file, then write it in one transaction (see the module docstring).

    `parse` checks one row on its own; `check_chunk` checks parsed rows against the database
    and returns the problems by ordinal; `write_chunk` upserts and counts.
    """
    report = ImportReport(kind=kind, dry_run=dry_run)

    def refuse(problems: list[Problem]) -> ImportRefused:
        return ImportRefused(path=path, report=report, problems=problems)

    # Pass 1: validate the whole file, touching nothing.
    validation = _Validation()
    # The ids seen so far, to refuse duplicates: about 100 MB for a million entitlements.
    seen: set[str] = set()
    try:
        for chunk in _chunks(
            path, fields=fields, parse=parse, chunk_size=chunk_size, on_problem=validation.add
        ):
            found = check_chunk(chunk)
            for parsed in chunk:
                problems = found.get(parsed.ordinal, [])
                if parsed.row.opf_id in seen:
                    duplicate = f"{_show(parsed.row.opf_id)} appears earlier in the file"
                    problems = [(fields[0], duplicate), *problems]
                seen.add(parsed.row.opf_id)
                if problems:
                    validation.add(parsed.ordinal, parsed.where, problems)
    except _FileProblem as exc:
        report.file_refused = True
        raise refuse([*validation.listed(), exc.problem][:MAX_REPORTED_PROBLEMS]) from None
    del seen
    if validation.bad_rows:
        report.refused = validation.bad_rows
        raise refuse(validation.listed())

    # Pass 2: write, all or nothing. The file is parsed again; should it have changed since
    # pass 1 and now hold a bad row, the transaction is rolled back.
    def changed_under_us(ordinal: int, where: str, problems: RowProblems) -> None:
        name, message = problems[0]
        raise refuse([Problem(where, name, f"{message} (the file changed during the import)")])

    try:
        with nullcontext() if dry_run else transaction.atomic():
            for chunk in _chunks(
                path,
                fields=fields,
                parse=parse,
                chunk_size=chunk_size,
                on_problem=changed_under_us,
            ):
                write_chunk([parsed.row for parsed in chunk], report, dry_run)
    except _FileProblem as exc:
        report.file_refused = True
        raise refuse([exc.problem]) from None
    except IntegrityError as exc:
        # Validation saw a consistent file; a clash now means someone else wrote meanwhile.
        report.file_refused = True
        message = f"the database refused a write ({exc}); was another import running? Run again."
        raise refuse([Problem("database", "", message)]) from exc
    return report


# --- Products ---------------------------------------------------------------------------------


def import_catalogue(
    *, path: Path | str, dry_run: bool = False, chunk_size: int = CHUNK_SIZE
) -> ImportReport:
    """Create or update products from an OPF catalogue export. Products not in it are kept."""
    return _run_import(
        path=Path(path),
        kind="products",
        fields=PRODUCT_FIELDS,
        parse=parse_product,
        check_chunk=_check_products,
        write_chunk=_write_products,
        dry_run=dry_run,
        chunk_size=chunk_size,
    )


def _check_products(chunk: list[_Parsed]) -> dict[int, RowProblems]:
    """Refuse moving a product that entitlements use to another provider.

    An entitlement stores its provider (a change never leaves it), so such a move would
    silently contradict the entitlements. An id like `A_B_C` splits two ways, so it can happen.
    """
    current = dict(
        Product.objects.filter(opf_id__in=[parsed.row.opf_id for parsed in chunk]).values_list(
            "opf_id", "provider_id"
        )
    )
    moved = {
        parsed.row.opf_id: parsed
        for parsed in chunk
        if parsed.row.opf_id in current and current[parsed.row.opf_id] != parsed.row.provider_id
    }
    if not moved:
        return {}
    in_use = set(
        Entitlement.objects.filter(product__opf_id__in=moved).values_list(
            "product__opf_id", flat=True
        )
    ) | set(
        Entitlement.objects.filter(pending_product__opf_id__in=moved).values_list(
            "pending_product__opf_id", flat=True
        )
    )
    return {
        moved[opf_id].ordinal: [
            (
                "providerId",
                f"{opf_id} belongs to {current[opf_id]!r} and has entitlements; "
                f"it cannot move to {moved[opf_id].row.provider_id!r}",
            )
        ]
        for opf_id in in_use
    }


_PRODUCT_UPDATE_FIELDS = ("provider_id", "provider_resource_id", "name", "tier", "active")


def _write_products(chunk: list[ProductRow], report: ImportReport, dry_run: bool) -> None:
    existing = Product.objects.in_bulk([row.opf_id for row in chunk], field_name="opf_id")
    to_create, to_update = [], []
    for row in chunk:
        values = {name: getattr(row, name) for name in _PRODUCT_UPDATE_FIELDS}
        product = existing.get(row.opf_id)
        if product is None:
            to_create.append(Product(opf_id=row.opf_id, **values))
        elif any(getattr(product, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(product, name, value)
            to_update.append(product)
        else:
            report.unchanged += 1
    report.created += len(to_create)
    report.updated += len(to_update)
    if not dry_run:
        Product.objects.bulk_create(to_create)
        Product.objects.bulk_update(to_update, _PRODUCT_UPDATE_FIELDS, batch_size=500)


# --- Entitlements -----------------------------------------------------------------------------


def import_entitlements(
    *, path: Path | str, dry_run: bool = False, chunk_size: int = CHUNK_SIZE
) -> ImportReport:
    """Create or update entitlements from an OPF export; their products must be imported first.

    OPF is the source of truth for product, status and account; the provider follows the
    product. A change awaiting the provider's confirmation (`pending_product`) is left alone:
    it is closed by OPF's notification or by a reconcile, which also finish its audit record.
    Any real change bumps `version`, so a change form opened before the import is stale.
    Entitlements not in the file are kept.
    """
    # One small dict for the whole file: a catalogue has hundreds of products, not millions.
    products = {
        opf_id: (pk, provider_id)
        for opf_id, pk, provider_id in Product.objects.values_list("opf_id", "pk", "provider_id")
    }

    def check_chunk(chunk: list[_Parsed]) -> dict[int, RowProblems]:
        return {
            parsed.ordinal: [
                ("productId", f"{_show(parsed.row.product_opf_id)} is not in the catalogue")
            ]
            for parsed in chunk
            if parsed.row.product_opf_id not in products
        }

    def write_chunk(chunk: list[EntitlementRow], report: ImportReport, dry_run: bool) -> None:
        _write_entitlements(chunk, report, dry_run, products=products)

    return _run_import(
        path=Path(path),
        kind="entitlements",
        fields=ENTITLEMENT_FIELDS,
        parse=parse_entitlement,
        check_chunk=check_chunk,
        write_chunk=write_chunk,
        dry_run=dry_run,
        chunk_size=chunk_size,
    )


_ENTITLEMENT_MIRRORED = ("account_id", "provider_id", "product_id", "status")


def _write_entitlements(
    chunk: list[EntitlementRow],
    report: ImportReport,
    dry_run: bool,
    *,
    products: dict[str, tuple[int, str]],
) -> None:
    def mirrored(row: EntitlementRow) -> dict[str, Any]:
        product_pk, provider_id = products[row.product_opf_id]
        return {
            "account_id": row.account_id,
            "provider_id": provider_id,
            "product_id": product_pk,
            "status": row.status,
        }

    def differs(entitlement: Entitlement, values: dict[str, Any]) -> bool:
        return any(getattr(entitlement, name) != value for name, value in values.items())

    entitlements = Entitlement.objects.only("opf_id", "version", *_ENTITLEMENT_MIRRORED)
    existing = entitlements.in_bulk([row.opf_id for row in chunk], field_name="opf_id")
    changing = [
        row.opf_id
        for row in chunk
        if row.opf_id in existing and differs(existing[row.opf_id], mirrored(row))
    ]
    if changing and not dry_run:
        # Lock and re-read only the rows that change, so a change recorded meanwhile cannot
        # lose its version bump to ours, and agents are not held up on the unchanged ones.
        existing |= entitlements.select_for_update().in_bulk(changing, field_name="opf_id")
    now = timezone.now()
    to_create, to_update = [], []
    for row in chunk:
        values = mirrored(row)
        entitlement = existing.get(row.opf_id)
        if entitlement is None:
            to_create.append(Entitlement(opf_id=row.opf_id, **values))
        elif differs(entitlement, values):
            for name, value in values.items():
                setattr(entitlement, name, value)
            entitlement.version += 1
            entitlement.updated_at = now  # a plain UPDATE does not apply auto_now
            to_update.append(entitlement)
        else:
            report.unchanged += 1
    report.created += len(to_create)
    report.updated += len(to_update)
    if not dry_run:
        Entitlement.objects.bulk_create(to_create)
        _update_entitlements(to_update)


def _update_entitlements(entitlements: list[Entitlement]) -> None:
    """Write the mirrored fields, version and updated_at of these entitlements.

    Not bulk_update: it builds a CASE per field over the whole batch, about 1 ms a row, so a
    re-import where every row changed would take half an hour for a million. One plain UPDATE
    by primary key sent with executemany (pipelined by psycopg) is about 0.1 ms a row.
    """
    if not entitlements:
        return
    meta = Entitlement._meta
    fields = [meta.get_field(name) for name in (*_ENTITLEMENT_MIRRORED, "version", "updated_at")]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    params = [
        [
            field.get_db_prep_save(getattr(entitlement, field.attname), connection)
            for field in fields
        ]
        + [entitlement.pk]
        for entitlement in entitlements
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


# --- Demo data --------------------------------------------------------------------------------


def load_demo_data() -> list[ImportReport]:
    """Import the shipped demo catalogue and entitlements, both or neither."""
    with transaction.atomic():
        return [
            import_catalogue(path=DEMO_DATA_DIR / "catalogue.json"),
            import_entitlements(path=DEMO_DATA_DIR / "entitlements.json"),
        ]
