"""Admin pages at 1,000 and 1,000,000 rows: does a page cost the same whatever the table size?

    python bench/admin_pages.py --db sqlite            # or --db postgres, or --db both
    python bench/admin_pages.py --db postgres --large 200000 --runs 9
    python bench/admin_pages.py --db sqlite --explain  # also print the query plans

For each database it seeds (once; kept for reruns) a small and a large data set of N entitlements
and N audit records, then serves each page with django.test.Client logged in as a supervisor and
prints the median time, its ratio large/small (target <= 2) and the SQL queries per page. The
same pages served by a plain ModelAdmin (defaults: COUNT(*) and page numbers, `=`/`^`
search_fields, date_hierarchy on the audit log) on the same data are measured for comparison.
Last, the CSV export of the whole large audit log runs in a fresh process: rows per second and
peak memory (target < 150 MB).

Only 127.0.0.1 is used: SQLite files under var/, PostgreSQL at DATABASE_HOST (127.0.0.1:5432).
Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PROVIDERS = ["Netflix_EU_B", "DisneyPlus_EU", "Max_EU", "Paramount_EU", "Spotify_EU"]
TIERS = ["BASIC", "STANDARD", "PREMIUM", "ULTRA"]
AGENTS = 50
SPAN_DAYS = 365
NOW = datetime.now(UTC).replace(microsecond=0)

# --- worker side (one database per process) -----------------------------------------------


def database_url(db: str, rows: int) -> str:
    if db == "sqlite":
        return f"sqlite:///{ROOT / 'var' / f'bench-admin-{rows}.sqlite3'}"
    return f"{PG_SERVER}/careportal_bench_admin_{rows}"


def setup_django(db: str, rows: int) -> None:
    os.environ["DATABASE_URL"] = database_url(db, rows)
    os.environ.setdefault("DEBUG", "true")  # the demo defaults (no secrets needed) ...
    os.environ["DJANGO_SETTINGS_MODULE"] = "careportal.settings.test"
    if db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            name = f"careportal_bench_admin_{rows}"
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # ... but no query log, as in production
    settings.ALLOWED_HOSTS = ["testserver"]


def product_id(provider: int, tier: int) -> int:
    return provider * len(TIERS) + tier + 1


def seed(rows: int) -> float:
    """N entitlements and N audit records, unless the database holds them already."""
    from django.core.management import call_command
    from django.db import connection

    from entitlements.models import ChangeAttempt, Entitlement, Product

    call_command("migrate", verbosity=0)
    if Entitlement.objects.count() == rows and ChangeAttempt.objects.count() == rows:
        return 0.0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_session")
        if connection.vendor == "postgresql":
            cursor.execute(
                "TRUNCATE entitlements_changeattempt, entitlements_entitlement,"
                " entitlements_product CASCADE"
            )
        else:
            for table in ("changeattempt", "entitlement", "product"):
                cursor.execute(f"DELETE FROM entitlements_{table}")
    Product.objects.bulk_create(
        Product(
            id=product_id(p, t), opf_id=f"{provider}_{tier}", provider_id=provider,
            provider_resource_id=tier, name=f"{provider.split('_')[0]} {tier.title()}", tier=t + 1,
        )
        for p, provider in enumerate(PROVIDERS)
        for t, tier in enumerate(TIERS)
    )  # fmt: skip
    if connection.vendor == "postgresql":
        _seed_postgresql(rows)
    else:
        _seed_sqlite(rows)
    _seed_users()
    return time.perf_counter() - started


OUTCOMES = {7: "rejected", 8: "not_sent", 9: "confirmed"}  # by attempt id % 10; else completed
STATUS = {"completed": 200, "rejected": 400, "confirmed": 202, "awaiting_confirmation": 202,
          "outcome_unknown": 504}  # fmt: skip
REASONS = ["customer_upgrade", "customer_downgrade", "billing_correction", "retention_offer"]
ENTITLEMENT_COLUMNS = (
    "id, opf_id, account_id, provider_id, product_id, status, pending_product_id, pending_since,"
    " needs_review, version, created_at, updated_at"
)
ATTEMPT_COLUMNS = (
    "id, correlation_id, created_at, finished_at, origin, user_id, actor_username, actor_subject,"
    " actor_name, entitlement_id, entitlement_opf_id, account_id, provider_id, from_product_id,"
    " to_product_id, reason_code, comment, outcome, http_status, response_body, opf_message,"
    " detail, http_attempts, duration_ms"
)


def _case(expression: str, values) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expression} {whens} END"


def _seed_sql(rows: int, vendor: str) -> list[str]:
    """The data set as two INSERT ... SELECT statements over a series 1..rows, per dialect.

    Entitlement i: two per account, product (i % 20) of 5 providers x 4 tiers, 2 % cancelled,
    0.1 % awaiting confirmation of the next tier. Attempt j is for entitlement (7919 j % rows) + 1:
    7919 is prime, so each entitlement has exactly one and the one-open-change rule holds.
    """
    pg = vendor == "postgresql"
    products, tiers = len(PROVIDERS) * len(TIERS), len(TIERS)
    start = int((NOW - timedelta(days=SPAN_DAYS)).timestamp())
    span = SPAN_DAYS * 86400

    def pad(expression, width, hex_=False):
        if pg:
            return f"lpad({'to_hex' if hex_ else ''}({expression})::text, {width}, '0')"
        return f"printf('%0{width}{'x' if hex_ else 'd'}', {expression})"

    def moment(seconds):  # seconds since the epoch -> the column's type
        if pg:
            return f"to_timestamp({seconds})"
        return f"datetime({seconds}, 'unixepoch') || '.000000'"

    series = (
        "generate_series(1::bigint, {n}) AS s(i)" if pg
        else "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})"
             " SELECT i FROM s) AS s"
    ).format(n=rows)  # fmt: skip
    provider = _case(f"(i % {products}) / {tiers}", PROVIDERS)
    next_tier = (
        f"(i % {products}) / {tiers} * {tiers} + ((i % {products}) % {tiers} + 1) % {tiers} + 1"
    )
    entitlements = f"""
        INSERT INTO entitlements_entitlement ({ENTITLEMENT_COLUMNS})
        SELECT i, 'ENT-' || {pad("i", 9)}, 'ACC-' || {pad("(i + 1) / 2", 8)}, {provider},
               i % {products} + 1, CASE WHEN i % 50 = 0 THEN 'CANCELLED' ELSE 'ACTIVE' END,
               CASE WHEN i % 1000 = 1 THEN {next_tier} END,
               CASE WHEN i % 1000 = 1 THEN {moment(int(NOW.timestamp()) - 2 * 86400)} END,
               {"false" if pg else 0}, 1, {moment(start)}, {moment(int(NOW.timestamp()))}
        FROM {series}
    """  # fmt: skip
    outcome = (
        "CASE WHEN e % 1000 = 1 THEN 'awaiting_confirmation'"
        " WHEN e % 1000 = 2 THEN 'outcome_unknown' "
        + "".join(f"WHEN j % 10 = {k} THEN '{v}' " for k, v in OUTCOMES.items())
        + "ELSE 'completed' END"
    )
    status = "CASE o " + " ".join(f"WHEN '{o}' THEN {c}" for o, c in STATUS.items()) + " END"
    attempts = f"""
        INSERT INTO entitlements_changeattempt ({ATTEMPT_COLUMNS})
        SELECT j, {pad("j", 8, True)} || '-0000-4000-8000-' || {pad("j", 12, True)},
               {moment("t")}, {moment("t + 1")}, 'portal', NULL,
               'agent' || {pad(f"j % {AGENTS}", 2)}, '', 'Agent ' || {pad(f"j % {AGENTS}", 2)},
               e, 'ENT-' || {pad("e", 9)},
               'ACC-' || {pad("(e + 1) / 2", 8)}, {provider.replace("i %", "e %")},
               e % {products} + 1, {next_tier.replace("i %", "e %")},
               {_case(f"j % {len(REASONS)}", REASONS)},
               CASE WHEN j % 5 = 0 THEN 'asked by phone' ELSE '' END, o, {status},
               '{{"productId": "x"}}', CASE WHEN o = 'rejected' THEN 'Offer closed' ELSE '' END,
               '', '[]', 300
        FROM (
            SELECT j, e, {start} + j * {span} / {rows} AS t, {outcome} AS o
            FROM (SELECT i AS j, (i * 7919) % {rows} + 1 AS e FROM {series}) AS numbered
        ) AS attempt_rows
    """  # fmt: skip
    return [entitlements, attempts]


def _seed_sqlite(rows: int) -> None:
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size = -1000000")  # 1 GB: random index inserts stay in memory
        with transaction.atomic():
            for sql in _seed_sql(rows, "sqlite"):
                cursor.execute(sql)
        cursor.execute("ANALYZE")


def _seed_postgresql(rows: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in _seed_sql(rows, "postgresql"):
            cursor.execute(sql)
        for table in ("entitlement", "changeattempt", "product"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('entitlements_{table}', 'id'),"
                f" (SELECT max(id) FROM entitlements_{table}))"
            )
        cursor.execute("ANALYZE")


def _seed_users() -> None:
    from django.contrib.auth.models import Group, User

    from entitlements.roles import CARE_AGENT, CARE_SUPERVISOR

    User.objects.filter(username__startswith="bench-").delete()
    User.objects.filter(username__startswith="agent").delete()
    supervisor = User.objects.create_user("bench-supervisor", is_staff=True)
    supervisor.groups.add(Group.objects.get(name=CARE_SUPERVISOR))
    agents = Group.objects.get(name=CARE_AGENT)
    for n in range(AGENTS):
        User.objects.create_user(f"agent{n:02d}", is_staff=True).groups.add(agents)


# --- the plain admin, for comparison --------------------------------------------------------


def plain_admin_urls():
    """The same models on a second AdminSite with a plain ModelAdmin (Django's defaults)."""
    from django.contrib import admin
    from django.urls import path

    from careportal.urls import urlpatterns
    from entitlements.models import ChangeAttempt, Entitlement

    site = admin.AdminSite(name="plain")

    class PlainEntitlementAdmin(admin.ModelAdmin):
        list_display = ("opf_id", "account_id", "provider_id", "product", "status",
                        "pending_product", "needs_review")  # fmt: skip
        list_filter = ("provider_id", "product", "status")
        search_fields = ("=opf_id", "^account_id")

    class PlainAuditAdmin(admin.ModelAdmin):
        list_display = ("created_at", "actor_username", "account_id", "entitlement_opf_id",
                        "from_product", "to_product", "reason_code", "comment", "outcome",
                        "http_status", "correlation_id")  # fmt: skip
        list_filter = ("outcome", "provider_id", "created_at")
        search_fields = ("=entitlement_opf_id", "^account_id", "=correlation_id")
        date_hierarchy = "created_at"

    site.register(Entitlement, PlainEntitlementAdmin)
    site.register(ChangeAttempt, PlainAuditAdmin)
    return [*urlpatterns, path("plain-admin/", site.urls)]


# --- measuring ------------------------------------------------------------------------------


def pages(rows: int) -> list[tuple[str, str, str | None]]:
    """(name, our URL, the plain admin's URL or None)."""
    from entitlements.models import Entitlement

    middle = Entitlement.objects.get(opf_id=f"ENT-{rows // 2:09d}")
    account = middle.account_id
    ent, audit = "/admin/entitlements/entitlement/", "/admin/entitlements/changeattempt/"
    return [
        ("entitlement list", "/admin/entitlements/entitlement/",
         "/plain-admin/entitlements/entitlement/"),
        ("search by account id", f"/admin/entitlements/entitlement/?q={account}",
         f"/plain-admin/entitlements/entitlement/?q={account}"),
        ("audit log list", "/admin/entitlements/changeattempt/",
         "/plain-admin/entitlements/changeattempt/"),
        ("search by entitlement id prefix", f"{ent}?q={middle.opf_id[:-1]}", None),
        ("entitlements awaiting confirmation", f"{ent}?awaiting=yes", None),
        ("entitlement page", f"/admin/entitlements/entitlement/{middle.pk}/change/", None),
        ("audit log: agent, past 7 days",
         "/admin/entitlements/changeattempt/?actor_username=agent07&created=7d", None),
        ("audit log: outcome unknown", f"{audit}?outcome__exact=outcome_unknown", None),
        ("audit log: search by account", f"/admin/entitlements/changeattempt/?q={account}", None),
        ("audit log: page 5", "/admin/entitlements/changeattempt/?p=5", None),
        ("overdue and outcome unknown", "/admin/entitlements/changeattempt/attention/", None),
    ]  # fmt: skip


def measure_page(client, url: str, runs: int) -> dict:
    """Wall-clock ms per request and the part of it spent in the database, `runs` times."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    sql_seconds = [0.0]

    def time_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds[0] += time.perf_counter() - started

    shown = rows_shown(get().content.decode())  # and warm: templates, caches
    with CaptureQueriesContext(connection) as captured:
        get()
    queries = [q["sql"] for q in captured]  # now: the next request empties the log
    times, sql_times = [], []
    with connection.execute_wrapper(time_sql):
        for _ in range(runs):
            sql_seconds[0] = 0.0
            started = time.perf_counter()
            get()
            times.append((time.perf_counter() - started) * 1000)
            sql_times.append(sql_seconds[0] * 1000)
    return {
        "samples": times,
        "sql_samples": sql_times,
        "queries": len(queries),
        "rows": shown,
        "counts": sum("COUNT(" in sql.upper() for sql in queries),
    }


def rows_shown(html: str) -> int:
    """Rows of the list on the page: a changelist's rows, or the change attempts listed."""
    if 'id="result_list"' in html:
        return html.split('id="result_list"', 1)[1].split("</tbody>", 1)[0].count("<tr")
    return html.count('class="attempt ')


def explain(client, url: str) -> list[str]:
    """The plan of each query on the large tables, as the database will run it."""
    from django.db import connection

    captured: list[tuple[str, tuple]] = []

    def capture(execute, sql, params, many, context):
        if "entitlements_entitlement" in sql or "entitlements_changeattempt" in sql:
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        client.get(url)
    plans = []
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        for sql, params in captured:
            cursor.execute(prefix + sql, params)
            lines = [" ".join(str(c) for c in row[-1:]) for row in cursor.fetchall()]
            plans.append(sql[:90].replace("\n", " ") + " ...\n      " + "\n      ".join(lines))
    return plans


def worker_pages(db: str, rows: int, runs: int, plain_runs: int, show_plans: bool) -> dict:
    setup_django(db, rows)
    seconds = seed(rows)
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import clear_url_caches

    sys.modules[__name__].urlpatterns = plain_admin_urls()
    settings.ROOT_URLCONF = __name__
    clear_url_caches()
    client = Client()
    client.force_login(User.objects.get(username="bench-supervisor"))
    result = {"seed_seconds": seconds, "pages": {}, "plans": {}}
    for name, url, plain_url in pages(rows):
        entry = {"ours": measure_page(client, url, runs)}
        if plain_url and plain_runs:
            entry["plain"] = measure_page(client, plain_url, plain_runs)
        result["pages"][name] = entry
        if show_plans:
            result["plans"][name] = explain(client, url)
    return result


def worker_export(db: str, rows: int) -> dict:
    setup_django(db, rows)
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="bench-supervisor"))
    before = _rss_mb()
    started = time.perf_counter()
    response = client.get("/admin/entitlements/changeattempt/export/")
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": lines - 1, "seconds": seconds, "rows_per_s": (lines - 1) / seconds,
        "mb": size / 1e6, "rss_before_mb": before, "peak_rss_mb": peak,
    }  # fmt: skip


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --- orchestration --------------------------------------------------------------------------


def run_worker(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, cwd=ROOT
    )
    if out.returncode:
        sys.exit(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _merge(into: dict, pages_: dict) -> None:
    for name, entry in pages_.items():
        for side, figures in entry.items():
            merged = into.setdefault(name, {}).setdefault(side, {**figures, "samples": [],
                                                                  "sql_samples": []})  # fmt: skip
            merged["samples"] += figures["samples"]
            merged["sql_samples"] += figures["sql_samples"]


def _median(figures: dict, key: str = "samples") -> float:
    return statistics.median(figures[key])


def report(
    db: str, small: int, large: int, runs: int, plain_runs: int, rounds: int, show_plans: bool
) -> None:
    """Small and large are measured in alternating rounds, so both see the same machine load."""
    print(f"\n=== {db}: {small:,} and {large:,} rows", flush=True)
    per_round = max(1, -(-runs // rounds))
    merged: dict[int, dict] = {small: {}, large: {}}
    plans: dict = {}
    for round_ in range(rounds):
        for rows in (small, large):
            explain_now = show_plans and round_ == 0 and rows == large
            result = run_worker(
                db, str(rows), str(per_round), str(plain_runs if round_ == 0 else 0), "pages",
                "plans" if explain_now else "no-plans",
            )  # fmt: skip
            if result["seed_seconds"]:
                print(f"  {rows:>9,} rows seeded in {result['seed_seconds']:.0f} s", flush=True)
            _merge(merged[rows], result["pages"])
            plans = result["plans"] or plans
    a, b = merged[small], merged[large]
    print(
        f"\n{db}: median ms per page ({per_round * rounds} runs in {rounds} alternating rounds;"
        f" plain admin {plain_runs} runs); DB ms = time in the database (PostgreSQL only),"
        f" rows = rows listed on the page, queries = SQL queries per page (small/large)"
    )
    s_, l_ = format(small, ","), format(large, ",")
    header = (
        f"{'page':<35} {'at ' + s_:>9} {'at ' + l_:>12} {'ratio':>5}  {'DB ms':>11} "
        f"{'rows':>7} {'queries':>7} | {'plain ' + s_:>11} {'plain ' + l_:>13} {'ratio':>6} "
        f"{'queries':>7}"
    )
    print(header)
    print("-" * len(header))
    for name in a:
        ours_a, ours_b = a[name]["ours"], b[name]["ours"]
        sql = f"{_median(ours_a, 'sql_samples'):.1f}/{_median(ours_b, 'sql_samples'):.1f}"
        if db == "sqlite":
            sql = "-"  # in-process: rows are read after execute(), so it cannot be told apart
        line = (
            f"{name:<35} {_median(ours_a):>9.1f} {_median(ours_b):>12.1f} "
            f"{_median(ours_b) / _median(ours_a):>5.2f}  {sql:>11} "
            f"{str(ours_a['rows']) + '/' + str(ours_b['rows']):>7} "
            f"{str(ours_a['queries']) + '/' + str(ours_b['queries']):>7} |"
        )
        if "plain" in a[name]:
            pa, pb = a[name]["plain"], b[name]["plain"]
            line += (
                f" {_median(pa):>11.1f} {_median(pb):>13.1f} {_median(pb) / _median(pa):>6.1f} "
                f"{str(pa['queries']) + '/' + str(pb['queries']):>7}"
            )
        print(line)
    counts = sum(p["ours"]["counts"] for p in b.values())
    plain_counts = sum(p["plain"]["counts"] for p in b.values() if "plain" in p)
    print(f"COUNT(*) per request at {l_}: ours {counts}, plain admin {plain_counts} (3 pages)")
    if plans:
        print(f"\n{db}: query plans at {l_} rows")
        for name, page_plans in plans.items():
            print(f"  {name}:")
            for plan in page_plans:
                print("    " + plan)
    export = run_worker(db, str(large), "0", "0", "export", "no-plans")
    print(
        f"\n{db}: CSV export of {export['rows']:,} audit records: {export['seconds']:.1f} s, "
        f"{export['rows_per_s']:,.0f} rows/s, {export['mb']:.0f} MB of CSV, "
        f"RSS {export['rss_before_mb']:.0f} MB before, peak {export['peak_rss_mb']:.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plain-runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        db, rows, runs, plain_runs, job, plans = args.worker
        if job == "pages":
            result = worker_pages(db, int(rows), int(runs), int(plain_runs), plans == "plans")
        else:
            result = worker_export(db, int(rows))
        print(json.dumps(result))
        return
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        report(db, args.small, args.large, args.runs, args.plain_runs, args.rounds, args.explain)


if __name__ == "__main__":
    main()
