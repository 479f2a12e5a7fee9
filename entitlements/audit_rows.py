"""The rows of an audit table rendered as their seals' facts, read straight from the database.

verify_audit renders every sealed row and compares it with its newest seal; at a million seals
that rendering is most of the work. So it reads the sealed columns with one fixed SQL statement
(the foreign-key paths of FACT_COLUMNS as LEFT JOINs, keyset-paginated on the primary key)
through a plain cursor, and turns each raw value into the text `cell()` gives for the value the
ORM would load, by a converter chosen once per column from the field's type. No model
instances and no per-row field conversion by the ORM; the result is the same canonical JSON as
`canonical_json(fact_of(instance))` (tests/audit/test_rows.py checks it, value by value).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from json.encoder import encode_basestring as encode_json_text

from django.apps import apps
from django.db import connection, models

from .audit_chain import FORMULA_START, cell

CHUNK = 10_000


def pages(sql: str, params, key) -> Iterator[tuple]:
    """Rows of `sql` chunk after chunk: `params(last)` binds the last key seen (None first),
    `key(row)` is a row's key in the query's order. The statement ends `LIMIT %s`."""
    last = None
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [*params(last), CHUNK])
            rows = cursor.fetchall()
            yield from rows
            if len(rows) < CHUNK:
                return
            last = key(rows[-1])


def model_of(table: str) -> type[models.Model]:
    return next(m for m in apps.get_models() if m._meta.db_table == table)


def rendered_rows(table: str, columns, from_pk: int) -> Iterator[tuple[int, str]]:
    """(pk, fact JSON) of each row of `table` from `from_pk` in pk order, as seal() renders it."""
    ordered = sorted(columns)  # canonical JSON: keys in sorted order
    sql, fields = _select(model_of(table), [path for _header, path in ordered])
    keys = [encode_json_text(header) + ":" for header, _path in ordered]
    # Text that cannot be NULL goes as it is unless it starts like a formula (most values).
    plain = [_is_text(field) and not field.null for field in fields]
    render = _renderer(keys, plain, [_converter(field) for field in fields])
    rows = pages(sql, lambda last: [from_pk - 1 if last is None else last], lambda r: r[0])
    for row in rows:
        yield row[0], render(row)


def _renderer(keys: list[str], plain: list[bool], converters: list) -> Callable[[tuple], str]:
    """The function that turns one row (pk, then the values in `keys`' order) into the fact's
    JSON, written out once per table as straight-line code: a loop over a row's 28 values took
    a third longer (16.4 against 12.7 us a row, bench/README.md). Only the constants and the
    converters above go into it; tests/audit/test_rows.py compares its output with
    canonical_json(fact_of(row))."""
    namespace = {"encode": encode_json_text, "FORMULA": FORMULA_START}
    parts = []
    for n, (key, text, convert) in enumerate(zip(keys, plain, converters, strict=True)):
        namespace[f"convert{n}"] = convert
        v = f"row[{n + 1}]"
        value = (
            f"{v} if not {v}.startswith(FORMULA) else convert{n}({v})"
            if text
            else f"convert{n}({v})"
        )
        parts.append(f"{('{' if n == 0 else ',') + key!r}, encode({value})")
    source = f"def render(row):\n    return ''.join(({', '.join(parts)}, '}}'))\n"
    exec(source, namespace)  # noqa: S102 - our own source, built from the constants above
    return namespace["render"]


def _select(model, paths: list[str]) -> tuple[str, list[models.Field]]:
    """SELECT pk, <each path's column> FROM the table, LEFT JOINing each foreign-key hop (a
    missing related row reads as no value, as `_value_at` reads a None along the path)."""
    quote = connection.ops.quote_name
    base = quote(model._meta.db_table)
    columns, fields, joins = [], [], {}
    for path in paths:
        *hops, name = path.split("__")
        alias, meta = base, model._meta
        for depth, hop in enumerate(hops, start=1):
            relation = meta.get_field(hop)
            meta = relation.related_model._meta
            key = "__".join(hops[:depth])
            if key not in joins:
                join = quote(f"j{len(joins)}")
                target = f"{join}.{quote(relation.target_field.column)}"
                joins[key] = (
                    join,
                    (
                        f"LEFT JOIN {quote(meta.db_table)} {join}"
                        f" ON {target} = {alias}.{quote(relation.column)}"
                    ),
                )
            alias = joins[key][0]
        field = meta.get_field(name)
        column = f"{alias}.{quote(field.column)}"
        if field.get_internal_type() == "DateTimeField":
            column = _moment_as_text(column)
        columns.append(column)
        fields.append(field)
    pk = f"{base}.{quote(model._meta.pk.column)}"
    joined = " ".join(sql for _alias, sql in joins.values())
    sql = (
        f"SELECT {pk}, {', '.join(columns)} FROM {base} {joined}"
        f" WHERE {pk} > %s ORDER BY {pk} LIMIT %s"
    )
    return sql, fields


def _moment_as_text(column: str) -> str:
    # Read as text, not through the driver's datetime parsing: SQLite's as stored (ISO 8601);
    # PostgreSQL's written as cell() writes a moment (UTC, microseconds, "+00:00").
    if connection.vendor == "postgresql":
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    return f"CAST({column} AS TEXT)"


def _converter(field: models.Field) -> Callable[[object], str]:
    """The raw database value of `field` -> the text cell() gives for the ORM's value."""
    if field.is_relation:  # a foreign key's own column (`entitlement_id`): the target's value
        return _converter(field.target_field)
    kind = field.get_internal_type()
    if kind == "DateTimeField" and connection.vendor == "postgresql":
        return _nothing_or_text  # already cell()'s text (_moment_as_text)
    if kind == "DateTimeField":
        zone = connection.timezone  # SQLite returns text in the connection's zone
        utc = zone.utcoffset(None) == timedelta(0)

        def moment(value):
            if type(value) is str and utc and len(value) == 26:
                # "YYYY-MM-DD HH:MM:SS.ffffff" as SQLite stores it: UTC with microseconds.
                return f"{value[:10]}T{value[11:]}+00:00"
            if type(value) is str:
                value = datetime.fromisoformat(value)
            if value is not None and value.tzinfo is None:
                value = value.replace(tzinfo=zone)
            return cell(value)

        return moment
    if kind == "JSONField" and field.decoder is None:
        return lambda value: cell(json.loads(value) if type(value) is str else value)
    if kind == "BooleanField":  # SQLite returns 0 / 1
        return lambda value: cell(None if value is None else bool(value))
    if kind in _NUMBERS:
        return _number
    if kind in _TEXTS:
        return cell
    # Any other type: the ORM's own conversion of the raw value, then cell().
    expression = field.get_col(field.model._meta.db_table)
    steps = [*connection.ops.get_db_converters(expression), *field.get_db_converters(connection)]

    def converted(value):
        for step in steps:
            value = step(value, expression, connection)
        return cell(value)

    return converted


def _nothing_or_text(value) -> str:
    return "" if value is None else value


def _number(value) -> str:
    # cell() of an int: its decimal text, a negative one guarded like a formula ("'-5").
    if value is None:
        return ""
    return str(value) if value >= 0 else "'" + str(value)


def _is_text(field: models.Field) -> bool:
    return not field.is_relation and field.get_internal_type() in _TEXTS


# Types whose raw value from the cursor is already what the ORM loads.
_NUMBERS = {
    "AutoField", "BigAutoField", "SmallAutoField", "BigIntegerField", "IntegerField",
    "SmallIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}  # fmt: skip
_TEXTS = {"CharField", "TextField", "EmailField", "SlugField", "URLField"}
