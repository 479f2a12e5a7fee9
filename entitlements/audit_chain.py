"""The audit's hash chain: `seal()` is the one place seals are written (docs/audit.md).

Every audit fact is sealed in the transaction that writes it (`sealed_transaction()`, the
seals written as its last statements). A seal's content is four lines:

    <kind>\\n<table>:<pk>\\n<sealed_at>\\n<fact>

where <fact> is the fact as JSON (keys sorted, no whitespace, UTF-8) whose values are all text,
rendered by `cell()` exactly as the audit CSV export shows them. Its hash is
SHA-256(prev_hash + content) in hex; the first seal's prev_hash is GENESIS.

Sealing is serialised by the one-row ChainHead: on PostgreSQL a single statement moves the head
(taking its row lock until commit) and inserts the seal, the hash computed in the database from
the head it locked; on SQLite IMMEDIATE transactions already let one writer in at a time.
`write_sealed()` writes a fact and its seal as one statement of its own (PostgreSQL).
"""

from __future__ import annotations

import hashlib
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

GENESIS = "0" * 64

# What each audit table seals of a row: (column as exported, field path). The export with
# seals (admin audit export `?seals=1`) has exactly these columns, so a reader rebuilds the fact
# from the CSV alone. Changing a list changes the content of new seals only: old seals keep
# verifying against rows rendered the old way only if it stays, so treat these as frozen.
CHANGE_FACT = (
    ("record id", "id"),
    ("when (UTC)", "created_at"),
    ("agent", "actor_username"),
    ("agent name", "actor_name"),
    ("SSO subject", "actor_subject"),
    ("origin", "origin"),
    ("account id", "account_id"),
    ("entitlement id", "entitlement_opf_id"),
    ("provider", "provider_id"),
    ("from product", "from_product__opf_id"),
    ("to product", "to_product__opf_id"),
    ("reason", "reason_code"),
    ("ticket", "ticket"),
    ("comment", "comment"),
    ("outcome", "outcome"),
    ("OPF status", "http_status"),
    ("OPF message", "opf_message"),
    ("detail", "detail"),
    ("correlation id", "correlation_id"),
    ("finished (UTC)", "finished_at"),
    ("duration ms", "duration_ms"),
    ("OPF response", "response_body"),
    ("HTTP attempts", "http_attempts"),
    # The settlement (issue 10), beside the outcome; sealed again when it is written.
    ("settlement", "settlement"),
    ("settled (UTC)", "settled_at"),
    ("settled by", "settled_by"),
    ("what OPF showed", "settlement_opf_state"),
    ("settlement note", "settlement_note"),
)
# `needs_review` is left out: a work-queue flag supervisors clear, not part of the fact.
DELIVERY_FACT = (
    ("record id", "id"),
    ("webhook id", "webhook_id"),
    ("received (UTC)", "received_at"),
    ("sent (UTC)", "sent_at"),
    ("event type", "event_type"),
    ("entitlement id", "entitlement_opf_id"),
    ("product id", "product_opf_id"),
    ("status", "status"),
    ("occurred (UTC)", "occurred_at"),
    ("correlation id", "correlation_id"),
    ("entitlement record id", "entitlement_id"),
    ("change record id", "change_id"),
    ("result", "result"),
    ("detail", "detail"),
    ("raw body", "body"),
    ("headers", "headers"),
    ("remote address", "remote_addr"),
)
BULK_EVENT_FACT = (
    ("record id", "id"),
    ("job id", "job_id"),
    ("at (UTC)", "at"),
    ("kind", "kind"),
    ("user id", "user_id"),
    ("by", "actor_username"),
    ("detail", "detail"),
)
REVIEW_FACT = (
    ("record id", "id"),
    ("when (UTC)", "created_at"),
    ("user id", "user_id"),
    ("by", "actor_username"),
    ("notification record id", "delivery_id"),
    ("entitlement record id", "entitlement_id"),
    ("note", "note"),
)
# table -> its sealed columns; verify_audit checks every sealed row of these tables against
# its newest seal. Other audit tables (bulk jobs, refreshes) add theirs here.
FACT_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "entitlements_changeattempt": CHANGE_FACT,
    "entitlements_notificationdelivery": DELIVERY_FACT,
    "entitlements_bulkjobevent": BULK_EVENT_FACT,
    "entitlements_reviewmark": REVIEW_FACT,
}

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """One value as text, the same in the CSV export and in a seal."""
    kind = type(value)  # the common types first: verify_audit renders every sealed row
    if kind is str:
        text = value
    elif value is None:
        return ""
    elif kind is int:
        text = str(value)
    elif isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif isinstance(value, Enum):
        text = str(value.value)
    elif isinstance(value, list | dict):
        text = canonical_json(value)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _value_at(instance, path: str):
    for name in path.split("__"):
        instance = getattr(instance, name)
        if instance is None:
            return None
    return instance


def fact_of(instance: models.Model) -> dict[str, str]:
    """The sealed fact of a row of a registered audit table, from the instance in memory."""
    columns = FACT_COLUMNS[instance._meta.db_table]
    return {header: cell(_value_at(instance, path)) for header, path in columns}


def content_of(*, kind: str, subject: str, sealed_at: datetime, fact: dict) -> str:
    return f"{kind}\n{subject}\n{cell(sealed_at)}\n{canonical_json(fact)}"


def link_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    sequence: int
    hash: str


# The seal as two CTEs of one statement: the upsert of the head takes its row lock (a
# concurrent sealer waits here, then sees the head it left) and the seal is inserted from the
# head's new values, the hash computed in the database from the head it locked. {when} is the
# SQL condition under which the seal is written (TRUE when sealing alone).
_SEAL_CTES = """
head AS (
    INSERT INTO entitlements_chainhead AS h (id, sequence, prev_hash, hash)
    SELECT 1, 1, %s, encode(sha256(convert_to(%s || %s, 'UTF8')), 'hex') WHERE {when}
    ON CONFLICT (id) DO UPDATE SET
        sequence = h.sequence + 1,
        prev_hash = h.hash,
        hash = encode(sha256(convert_to(h.hash || %s, 'UTF8')), 'hex')
    RETURNING sequence, prev_hash, hash
), sealed AS (
    INSERT INTO entitlements_seal
        (sequence, kind, subject_table, subject_pk, sealed_at, content, prev_hash, hash)
    SELECT sequence, %s, %s, %s, %s, %s, prev_hash, hash FROM head
    RETURNING sequence, hash
)"""


def _sealed_content(kind: str, subject: tuple[str, int], fact: dict) -> tuple[datetime, str]:
    table, pk = subject
    sealed_at = timezone.now()
    return sealed_at, content_of(kind=kind, subject=f"{table}:{pk}", sealed_at=sealed_at, fact=fact)


def _seal_ctes(kind: str, subject: tuple[str, int], fact: dict, when: str) -> tuple[str, list]:
    sealed_at, content = _sealed_content(kind, subject, fact)
    table, pk = subject
    params = [GENESIS, GENESIS, content, content, kind, table, pk, sealed_at, content]
    return _SEAL_CTES.replace("{when}", when), params


_pending = threading.local()


@contextmanager
def sealed_transaction(*, savepoint: bool = True):
    """transaction.atomic() whose facts, sealed with seal() inside it, are written at its end.

    The seals go in as the transaction's last statements, in the order seal() was called: the
    chain head's lock is then held only from there to the commit, and a transaction holding it
    never waits for another row lock (no deadlock with a writer holding that row and waiting
    for the head). Nested blocks seal with the outermost one; `savepoint=False` nests without a
    savepoint (two round trips fewer; an error in it then rolls the outer transaction back).
    """
    facts = getattr(_pending, "facts", None)
    if facts is not None and not savepoint:
        with transaction.atomic(savepoint=False):
            yield
        return
    if facts is not None:
        # Nested: a savepoint; its facts are dropped with it if it rolls back.
        kept = len(facts)
        try:
            with transaction.atomic():
                yield
        except BaseException:
            del facts[kept:]
            raise
        return
    with transaction.atomic():
        _pending.facts = []
        try:
            yield
            for kind, subject, fact in _pending.facts:
                _write_seal(kind, subject, fact)
        finally:
            _pending.facts = None


def seal(*, kind: str, subject: models.Model) -> None:
    """Seal one audit fact; call it inside the sealed_transaction() that writes `subject`.

    The fact is `subject`'s columns listed in FACT_COLUMNS, read from the instance now: it must
    hold what the transaction writes.
    """
    facts = getattr(_pending, "facts", None)
    if facts is None or not connection.in_atomic_block:
        raise RuntimeError("seal() must run in the sealed_transaction() that writes the fact.")
    if not getattr(settings, "AUDIT_SEALING", True):  # off only in bench/audit_chain.py
        return
    subject_key = (subject._meta.db_table, subject.pk)
    facts.append((kind, subject_key, fact_of(subject)))


def _write_seal(kind: str, subject: tuple[str, int], fact: dict[str, str]) -> Link:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ctes, params = _seal_ctes(kind, subject, fact, "TRUE")  # one round trip
            cursor.execute(f"WITH {ctes} SELECT sequence, hash FROM sealed", params)
            return Link(*cursor.fetchone())
        sealed_at, content = _sealed_content(kind, subject, fact)
        table, pk = subject
        params = {"kind": kind, "table": table, "pk": pk, "sealed_at": sealed_at}
        return _seal_in_python(cursor, {**params, "content": content})


def write_sealed(steps: list[tuple[str, str, list]], *, kind: str, subject: models.Model) -> bool:
    """PostgreSQL, outside any transaction: the data-modifying `steps` and the seal of
    `subject` as one statement: one round trip, its own transaction (no BEGIN, no COMMIT).

    Each step is (name, sql, params), an UPDATE or INSERT ... RETURNING; the first is the
    fact's own conditional write and decides: each later step has a `{when}` where the
    condition goes that runs it only if the first changed a row, and only once the step before
    it has finished (its rows are counted first). The seal comes last on the same condition, so
    the locks are taken in the steps' order and the chain head's last, as in a
    sealed_transaction(). The fact is `subject` as in memory (as seal() reads it): it must hold
    what the first step writes. Returns whether the first step changed a row.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        raise RuntimeError("write_sealed() is a statement of its own on PostgreSQL.")
    first = previous = steps[0][0]
    ctes, params = [], []
    for name, sql, step_params in steps:
        ctes.append(f"{name} AS ({sql.replace('{when}', _after(first, previous))})")
        params += step_params
        previous = name
    if getattr(settings, "AUDIT_SEALING", True):  # off only in bench/audit_chain.py
        subject_key = (subject._meta.db_table, subject.pk)
        seal_sql, seal_params = _seal_ctes(
            kind, subject_key, fact_of(subject), _after(first, previous)
        )
        ctes.append(seal_sql)
        params += seal_params
    with server_bound_cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT (SELECT count(*) FROM {first})", params)
        return cursor.fetchone()[0] > 0


def server_bound_cursor():
    """PostgreSQL: a cursor that sends its parameters apart from the statement (Django's own
    bind them into its text), so that PostgreSQL can keep the statement prepared: the change
    flow's statements (write_sealed, the read before an intent) are long, few in shape and run
    for every change, and parsing and planning them anew cost more than running them
    (bench/README.md). Whether psycopg prepares them is the connection's `prepare_threshold`
    (settings: DATABASE_PREPARED_STATEMENTS). Wrapped as Django wraps its cursors: its errors,
    execute wrappers and (DEBUG) query log apply."""
    import psycopg  # PostgreSQL only

    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def _after(first: str, previous: str) -> str:
    # count(*) reads every row of a CTE: PostgreSQL runs it to its end before going on.
    ran = f"(SELECT count(*) FROM {first}) > 0"
    return ran if previous == first else f"{ran} AND (SELECT count(*) FROM {previous}) >= 0"


def _seal_in_python(cursor, params: dict) -> Link:
    # SQLite: the transaction holds the database's write lock (IMMEDIATE), so read-then-write
    # of the head cannot interleave with another sealer.
    cursor.execute("SELECT sequence, hash FROM entitlements_chainhead WHERE id = 1")
    head = cursor.fetchone()
    sequence, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
    digest = link_hash(prev_hash, params["content"])
    if head:
        cursor.execute(
            "UPDATE entitlements_chainhead SET sequence = %s, prev_hash = %s, hash = %s"
            " WHERE id = 1",
            [sequence, prev_hash, digest],
        )
    else:
        cursor.execute(
            "INSERT INTO entitlements_chainhead (id, sequence, prev_hash, hash)"
            " VALUES (1, %s, %s, %s)",
            [sequence, prev_hash, digest],
        )
    cursor.execute(
        "INSERT INTO entitlements_seal"
        " (sequence, kind, subject_table, subject_pk, sealed_at, content, prev_hash, hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [
            sequence,
            params["kind"],
            params["table"],
            params["pk"],
            connection.ops.adapt_datetimefield_value(params["sealed_at"]),
            params["content"],
            prev_hash,
            digest,
        ],
    )
    return Link(sequence, digest)
