"""The supervisors' dashboard aggregate (DailyChangeStat): counted as change records finish.

What is counted, per day a change was made (its created_at date in the portal's time zone),
all of it computable again from the audit's own columns (`rebuild_dashboard_stats`):

- `outcome`: portal changes by their current outcome once they left "in flight"; a change that
  moves on (awaiting confirmation -> confirmed, outcome unknown -> declined) moves from one count
  to the other, so the counts always equal the audit's;
- `provider_change`: changes made at the provider (reported by OPF), by outcome;
- `reason`, `agent`: portal changes, counted when they first finish;
- `opf_call`, `opf_error`, `opf_latency`: the portal changes that sent changeProduct at least once
  (`http_attempts`); an error is a last answer that was none (timeout, reset, unreachable) or not
  one of OPF's documented 200/202/400/404 (5xx, credentials refused ...); the latency is the
  change's `duration_ms` (token, requests and retries), counted in fixed buckets.

p95 from the buckets: the upper bound of the bucket holding the nearest-rank 95th percentile, so
the true p95 is at most that and above the bucket below (bucket bounds grow by about 1.5x).

Written by one INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite 3.24+) in the caller's
transaction, its rows in a fixed order. Lock order: a finish locks the change, then these rows,
then (the mirror) the entitlement. The only path that locks an entitlement before counting is a
change made at the provider, whose rows (`provider_change`) no portal finish touches: no cycle.
"""

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import ChangeAttempt, ChangeOrigin, DailyChangeStat, StatMeasure
from .outcomes import Outcome

# Upper bounds in ms; a last bucket ("inf") takes anything slower.
LATENCY_BUCKETS_MS = (10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000,
                      5000, 10000, 30000, 60000)  # fmt: skip
OVERFLOW = "inf"
DOCUMENTED_ANSWERS = (200, 202, 400, 404)


def latency_bucket(duration_ms: int | None) -> str:
    """The key of the bucket a call of `duration_ms` is counted in."""
    if duration_ms is None:
        return OVERFLOW
    index = bisect.bisect_left(LATENCY_BUCKETS_MS, duration_ms)
    return str(LATENCY_BUCKETS_MS[index]) if index < len(LATENCY_BUCKETS_MS) else OVERFLOW


def p95_ms(buckets: Mapping[str, int], quantile: float = 0.95) -> float | None:
    """The upper bound (ms) of the bucket holding the nearest-rank quantile; math.inf when it is
    the overflow bucket, None without calls."""
    total = sum(buckets.values())
    if total <= 0:
        return None
    rank = math.ceil(quantile * total)
    seen = 0
    for bound in LATENCY_BUCKETS_MS:
        seen += buckets.get(str(bound), 0)
        if seen >= rank:
            return float(bound)
    return math.inf


def is_opf_error(http_status: int | None) -> bool:
    return http_status not in DOCUMENTED_ANSWERS


def count_finish(change: ChangeAttempt, *, was: Outcome) -> None:
    """Count `change`, which has just left outcome `was` (IN_FLIGHT: it is counted for the first
    time, a change made at the provider too). Call it inside the transaction that finished it,
    with `change` holding the stored values."""
    add_counts(finish_counts(change, was=was))


def finish_counts(change: ChangeAttempt, *, was: Outcome) -> list[tuple[date, str, str, int]]:
    """What count_finish adds: (day, measure, key, count) rows."""
    if change.origin == ChangeOrigin.REFRESH:
        return []  # the mirror brought in line with a read of OPF: no change anyone asked for
    outcome = Outcome(change.outcome)
    deltas = []
    if change.origin == ChangeOrigin.PROVIDER:
        deltas.append((StatMeasure.PROVIDER_CHANGE, outcome, 1))
        if was != Outcome.IN_FLIGHT:
            deltas.append((StatMeasure.PROVIDER_CHANGE, was, -1))
    elif was != Outcome.IN_FLIGHT:
        deltas += [(StatMeasure.OUTCOME, outcome, 1), (StatMeasure.OUTCOME, was, -1)]
    else:
        deltas += [
            (StatMeasure.OUTCOME, outcome, 1),
            (StatMeasure.REASON, change.reason_code, 1),
            (StatMeasure.AGENT, change.actor_username, 1),
        ]
        if change.http_attempts:
            deltas += [
                (StatMeasure.OPF_CALL, "", 1),
                (StatMeasure.OPF_LATENCY, latency_bucket(change.duration_ms), 1),
            ]
            if is_opf_error(change.http_status):
                deltas.append((StatMeasure.OPF_ERROR, "", 1))
    day = timezone.localdate(change.created_at)
    return [(day, m, k, n) for m, k, n in deltas]


def add_counts(rows: Iterable[tuple[date, str, str, int]]) -> None:
    """Add each (day, measure, key, count) to its counter, creating it at need, in one statement."""
    upsert = counts_upsert(rows)
    if upsert:
        with connection.cursor() as cursor:
            cursor.execute(*upsert)


def counts_upsert(rows: Iterable[tuple[date, str, str, int]], *, when: str = ""):
    """The INSERT ... ON CONFLICT DO UPDATE adding `rows` as (sql, params), None when nothing
    is to add. With `when` (PostgreSQL: a step of audit_chain.write_sealed), the rows are added
    only where that SQL condition holds, and the statement returns them."""
    totals = Counter()
    for day, measure, key, n in rows:
        totals[day, str(measure), str(key)] += n
    # Sorted: concurrent writers lock the rows they share in the same order.
    rows = sorted((*counter, n) for counter, n in totals.items() if n)
    if not rows:
        return None
    table = connection.ops.quote_name(DailyChangeStat._meta.db_table)
    day, measure, key, count = map(connection.ops.quote_name, ("day", "measure", "key", "count"))
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [
        value for d, m, k, n in rows for value in (connection.ops.adapt_datefield_value(d), m, k, n)
    ]
    source = f"VALUES {values}"
    if when:
        source = f"SELECT v.d::date, v.m, v.k, v.n FROM ({source}) AS v (d, m, k, n) WHERE {when}"
    returning = " RETURNING 1" if when else ""
    sql = (
        f"INSERT INTO {table} ({day}, {measure}, {key}, {count}) {source} "
        f"ON CONFLICT ({day}, {measure}, {key}) "
        f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}{returning}"
    )
    return sql, params


# --- rebuilt from the audit (backfill, or after a change of TIME_ZONE) -----------------------


def audit_days() -> tuple[date, date] | None:
    """The first and last day with a change record (two index reads on created_at)."""
    moments = ChangeAttempt.objects.order_by("created_at").values_list("created_at", flat=True)
    first, last = moments.first(), moments.reverse().first()
    if first is None:
        return None
    return timezone.localdate(first), timezone.localdate(last)


def rebuild_days(first: date, last: date) -> int:
    """Recount the days `first`..`last` from the audit, in one transaction; the rows written.

    On PostgreSQL the table is locked meanwhile (finishes wait a moment): a change finishing
    between the delete and the recount would otherwise be counted twice. SQLite has one writer.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(DailyChangeStat._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        DailyChangeStat.objects.filter(day__gte=first, day__lte=last).delete()
        rows = list(recount_from_audit(first, last))
        add_counts(rows)
    return len(rows)


def recount_from_audit(first: date, last: date):
    """The figures of the days `first`..`last`, counted from the audit: (day, measure, key, n)."""
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    finished = (
        ChangeAttempt.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(outcome=Outcome.IN_FLIGHT)
        .exclude(origin=ChangeOrigin.REFRESH)  # not counted as they finish either
        .annotate(day=TruncDate("created_at"))
        .order_by()
    )
    portal = finished.filter(origin=ChangeOrigin.PORTAL)
    for row in finished.values("day", "origin", "outcome").annotate(n=Count("id")):
        provider = row["origin"] == ChangeOrigin.PROVIDER
        measure = StatMeasure.PROVIDER_CHANGE if provider else StatMeasure.OUTCOME
        yield row["day"], measure, row["outcome"], row["n"]
    for measure, field in [
        (StatMeasure.REASON, "reason_code"),
        (StatMeasure.AGENT, "actor_username"),
    ]:
        for row in portal.values("day", field).annotate(n=Count("id")):
            yield row["day"], measure, row[field], row["n"]
    bucket = Case(
        *(When(duration_ms__lte=bound, then=Value(bound)) for bound in LATENCY_BUCKETS_MS),
        default=Value(-1),
        output_field=IntegerField(),
    )
    error = Q(http_status__isnull=True) | ~Q(http_status__in=DOCUMENTED_ANSWERS)
    calls = portal.exclude(http_attempts=[]).annotate(bucket=bucket).values("day", "bucket")
    for row in calls.annotate(n=Count("id"), errors=Count("id", filter=error)):
        key = OVERFLOW if row["bucket"] == -1 else str(row["bucket"])
        yield row["day"], StatMeasure.OPF_LATENCY, key, row["n"]
        yield row["day"], StatMeasure.OPF_CALL, "", row["n"]
        yield row["day"], StatMeasure.OPF_ERROR, "", row["errors"]
