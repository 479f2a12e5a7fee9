"""The change flow's statements written here rather than by the ORM, and why.

A change is a read, an intent and a finish; on PostgreSQL each is one statement. Compiling a
query with the ORM costs a fifth to a third of a millisecond, on every change, beside OPF's own
round trip that the portal must stay close to (bench/change_product.py, bench/README.md). These
builders write the same SQL from the models' own metadata (columns, types, database values), so
a field added to a model is in them too; tests/audit/test_round_trips.py checks that a record
written this way holds what the ORM path writes.
"""

import functools

from django.db import connection, models, transaction
from django.db.models import F, Value
from django.db.models.expressions import CombinedExpression

from ..audit_chain import server_bound_cursor
from ..models import ChangeAttempt, Entitlement, Product


def read_for_change(entitlement_pk: int, *, lock: bool = False) -> tuple[Entitlement, int | None]:
    """The entitlement as it is now, its product loaded; on PostgreSQL also the id the next
    change record gets (its sequence's next value), else None. One statement, prepared on
    PostgreSQL. `lock`: the entitlement's row only (FOR UPDATE OF it, PostgreSQL; SQLite's
    IMMEDIATE transaction already holds the database). Raises Entitlement.DoesNotExist."""
    postgres = connection.vendor == "postgresql"
    sql, entitlement_fields, product_fields = _read_sql(postgres, lock)
    params = [ChangeAttempt._meta.db_table, entitlement_pk] if postgres else [entitlement_pk]
    with server_bound_cursor() if postgres else connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise Entitlement.DoesNotExist(f"No entitlement {entitlement_pk}.")
    split, end = len(entitlement_fields), len(entitlement_fields) + len(product_fields)
    entitlement = Entitlement.from_db(connection.alias, entitlement_fields, row[:split])
    product = Product.from_db(connection.alias, product_fields, row[split:end])
    Entitlement.product.field.set_cached_value(entitlement, product)
    return entitlement, (row[end] if postgres else None)


@functools.cache
def _read_sql(postgres: bool, lock: bool) -> tuple[str, list[str], list[str]]:
    quote = connection.ops.quote_name
    ours, theirs = Entitlement._meta, Product._meta
    columns = [f"e.{quote(f.column)}" for f in ours.concrete_fields]
    columns += [f"p.{quote(f.column)}" for f in theirs.concrete_fields]
    if postgres:
        columns.append("nextval(pg_get_serial_sequence(%s, 'id'))")
    product = ours.get_field("product")
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(ours.db_table)} e"
        f" JOIN {quote(theirs.db_table)} p"
        f" ON p.{quote(product.target_field.column)} = e.{quote(product.column)}"
        f" WHERE e.{quote(ours.pk.column)} = %s"
    )
    if lock and postgres:
        sql += " FOR UPDATE OF e"  # not the product: every change of it would queue behind
    return (
        sql,
        [f.attname for f in ours.concrete_fields],
        [f.attname for f in theirs.concrete_fields],
    )


def insert_select_sql(instance: models.Model) -> tuple[str, list]:
    """PostgreSQL: INSERT INTO <table> (<every column>) SELECT <its values>, for a WHERE to
    follow; the values as save() would store them (pre_save, get_db_prep_save)."""
    sql, fields = _insert_select(type(instance))
    db = _database()
    return sql, [f.get_db_prep_save(f.pre_save(instance, True), db) for f in fields]


@functools.cache
def _insert_select(model) -> tuple[str, tuple]:
    # Each value cast to its column's type: a SELECT list gives no column to infer a type from.
    # Text is left uncast: a varchar(n) cast would cut an over-long value the INSERT refuses.
    quote = connection.ops.quote_name
    fields = tuple(model._meta.local_concrete_fields)
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(
        "%s"
        if field.get_internal_type() in ("CharField", "TextField")
        else f"%s::{field.db_type(connection)}"
        for field in fields
    )
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT {values}", fields


def unmoved_sql(entitlement: Entitlement) -> tuple[str, list]:
    """The entitlement's row, locked (PostgreSQL), if it is still as read: its version and
    what a change record copies of it."""
    meta, quote = Entitlement._meta, connection.ops.quote_name
    names = ("id", "version", "product", "status", "account_id", "provider_id")
    pinned = [meta.get_field(name) for name in names]
    where = " AND ".join(f"{quote(field.column)} = %s" for field in pinned)
    params = [getattr(entitlement, field.attname) for field in pinned]
    return f"SELECT 1 FROM {quote(meta.db_table)} WHERE {where} FOR UPDATE", params


def update_sql(model, values: dict, *, where: dict) -> tuple[str, list]:
    """The UPDATE that model.objects.filter(**where).update(**values) runs, as (sql, params).

    Takes what the change flow writes: plain values, model instances for foreign keys, and
    F(name) + n (the version bump); equality in `where` ("pk" or field names)."""
    db = _database()
    meta, quote = model._meta, db.ops.quote_name
    sets, params = [], []
    for name, value in values.items():
        field = meta.get_field(name)
        if isinstance(value, CombinedExpression):
            if not (
                isinstance(value.lhs, F) and value.connector == "+" and isinstance(value.rhs, Value)
            ):
                raise ValueError(f"{name}: only F(name) + n is written here")
            added_to = meta.get_field(value.lhs.name).column
            sets.append(f"{quote(field.column)} = {quote(added_to)} + %s")
            params.append(value.rhs.value)
            continue
        if isinstance(value, models.Model):
            value = value.prepare_database_save(field)
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, db))
    conditions = []
    for name, value in where.items():
        field = meta.pk if name == "pk" else meta.get_field(name)
        conditions.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, db))
    table = quote(meta.db_table)
    return f"UPDATE {table} SET {', '.join(sets)} WHERE {' AND '.join(conditions)}", params


def _database():
    # The connection itself, not django.db.connection's proxy: a field's database preparation
    # looks the connection up many times over, each through the proxy.
    return transaction.get_connection()


def execute(sql: str, params: list) -> int:
    """Run one of the statements above; the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
