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
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
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


def _entitlement_row(i: int, rows: int):
    k = i % (len(PROVIDERS) * len(TIERS))
    provider, tier = divmod(k, len(TIERS))
    pending = i % 1000 == 1
    return (
        i, f"ENT-{i:09d}", f"ACC-{(i + 1) // 2:08d}", PROVIDERS[provider],
        product_id(provider, tier),
        "CANCELLED" if i % 50 == 0 else "ACTIVE",
        product_id(provider, (tier + 1) % len(TIERS)) if pending else None,
        _sqlite_time(NOW - timedelta(days=2)) if pending else None,
        False, 1, _sqlite_time(NOW - timedelta(days=SPAN_DAYS)), _sqlite_time(NOW),
    )  # fmt: skip


OUTCOMES = ["completed"] * 7 + ["rejected", "not_sent", "confirmed"]
STATUS = {"completed": 200, "rejected": 400, "confirmed": 202, "not_sent": None,
          "awaiting_confirmation": 202, "outcome_unknown": 504}  # fmt: skip
REASONS = ["customer_upgrade", "customer_downgrade", "billing_correction", "retention_offer"]


def _attempt_row(j: int, rows: int):
    # Each entitlement gets one attempt (7919 is prime: j -> e is a bijection), so the
    # one-open-change-per-entitlement rule holds for the open ones.
    e = (j * 7919) % rows + 1
    k = e % (len(PROVIDERS) * len(TIERS))
    provider, tier = divmod(k, len(TIERS))
    outcome = (
        "awaiting_confirmation" if e % 1000 == 1
        else "outcome_unknown" if e % 1000 == 2
        else OUTCOMES[j % 10]
    )  # fmt: skip
    created = NOW - timedelta(days=SPAN_DAYS) + timedelta(seconds=j * SPAN_DAYS * 86400 / rows)
    return (
        j, f"{j:08x}-0000-4000-8000-{j:012x}", _sqlite_time(created),
        _sqlite_time(created + timedelta(seconds=1)), "portal", None, f"agent{j % AGENTS:02d}",
        "", f"Agent {j % AGENTS:02d}", e, f"ENT-{e:09d}", f"ACC-{(e + 1) // 2:08d}",
        PROVIDERS[provider], product_id(provider, tier),
        product_id(provider, (tier + 1) % len(TIERS)), REASONS[j % len(REASONS)],
        "asked by phone" if j % 5 == 0 else "", outcome, STATUS[outcome],
        '{"productId": "x"}', "Offer closed" if outcome == "rejected" else "", "", "[]", 300,
    )  # fmt: skip


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


def _sqlite_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _seed_sqlite(rows: int) -> None:
    from django.db import connection, transaction

    def insert(table, columns, make):
        marks = ", ".join(["%s"] * len(columns.split(",")))
        sql = f"INSERT INTO entitlements_{table} ({columns}) VALUES ({marks})"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, (make(i, rows) for i in range(1, rows + 1)))

    insert("entitlement", ENTITLEMENT_COLUMNS, _entitlement_row)
    insert("changeattempt", ATTEMPT_COLUMNS, _attempt_row)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _seed_postgresql(rows: int) -> None:
    """The same rows as _seed_sqlite, generated by the server (generate_series)."""
    from django.db import connection

    tiers, providers = len(TIERS), len(PROVIDERS)
    provider_array = "ARRAY[" + ", ".join(f"'{p}'" for p in PROVIDERS) + "]"
    span = SPAN_DAYS * 86400
    outcomes = "ARRAY[" + ", ".join(f"'{o}'" for o in OUTCOMES) + "]"
    reasons = "ARRAY[" + ", ".join(f"'{r}'" for r in REASONS) + "]"
    now = NOW.isoformat()
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO entitlements_entitlement ({ENTITLEMENT_COLUMNS})
            SELECT i, 'ENT-' || lpad(i::text, 9, '0'), 'ACC-' || lpad(((i + 1) / 2)::text, 8, '0'),
                   ({provider_array})[(i % {providers * tiers}) / {tiers} + 1],
                   i % {providers * tiers} + 1,
                   CASE WHEN i % 50 = 0 THEN 'CANCELLED' ELSE 'ACTIVE' END,
                   CASE WHEN i % 1000 = 1 THEN (i % {providers * tiers}) / {tiers} * {tiers}
                        + ((i % {providers * tiers}) % {tiers} + 1) % {tiers} + 1 END,
                   CASE WHEN i % 1000 = 1 THEN '{now}'::timestamptz - interval '2 days' END,
                   false, 1, '{now}'::timestamptz - interval '{SPAN_DAYS} days', '{now}'
            FROM generate_series(1, {rows}) AS i
        """)  # fmt: skip
        cursor.execute(f"""
            INSERT INTO entitlements_changeattempt ({ATTEMPT_COLUMNS})
            SELECT j, lpad(to_hex(j), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(j), 12, '0'),
                   t, t + interval '1 second', 'portal', NULL,
                   'agent' || lpad((j % {AGENTS})::text, 2, '0'), '',
                   'Agent ' || lpad((j % {AGENTS})::text, 2, '0'),
                   e, 'ENT-' || lpad(e::text, 9, '0'), 'ACC-' || lpad(((e + 1) / 2)::text, 8, '0'),
                   ({provider_array})[(e % {providers * tiers}) / {tiers} + 1],
                   e % {providers * tiers} + 1,
                   (e % {providers * tiers}) / {tiers} * {tiers}
                       + ((e % {providers * tiers}) % {tiers} + 1) % {tiers} + 1,
                   ({reasons})[j % {len(REASONS)} + 1],
                   CASE WHEN j % 5 = 0 THEN 'asked by phone' ELSE '' END,
                   o,
                   CASE o WHEN 'completed' THEN 200 WHEN 'rejected' THEN 400
                          WHEN 'confirmed' THEN 202 WHEN 'awaiting_confirmation' THEN 202
                          WHEN 'outcome_unknown' THEN 504 END,
                   '{{"productId": "x"}}', CASE WHEN o = 'rejected' THEN 'Offer closed' ELSE '' END,
                   '', '[]'::jsonb, 300
            FROM (
                SELECT j, e,
                       '{now}'::timestamptz - interval '{SPAN_DAYS} days'
                           + make_interval(secs => j::float8 * {span} / {rows}) AS t,
                       CASE WHEN e % 1000 = 1 THEN 'awaiting_confirmation'
                            WHEN e % 1000 = 2 THEN 'outcome_unknown'
                            ELSE ({outcomes})[j % 10 + 1] END AS o
                FROM (SELECT j, (j::bigint * 7919) % {rows} + 1 AS e
                      FROM generate_series(1, {rows}) AS j) AS numbered
            ) AS rows_
        """)  # fmt: skip
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
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        assert response.status_code == 200, (url, response.status_code)
        return response

    get()  # warm: templates, content types, the database's cache
    with CaptureQueriesContext(connection) as captured:
        get()
    queries = [q["sql"] for q in captured]  # now: the next request empties the log
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        get()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": statistics.median(times),
        "queries": len(queries),
        "counts": sum("COUNT(" in sql.upper() for sql in queries),
    }


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
        if plain_url:
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


def report(db: str, small: int, large: int, runs: int, plain_runs: int, show_plans: bool) -> None:
    plans = "plans" if show_plans else "no-plans"
    print(f"\n=== {db}: seeding/measuring {small:,} and {large:,} rows ...", flush=True)
    results = {}
    for rows in (small, large):
        results[rows] = run_worker(db, str(rows), str(runs), str(plain_runs), "pages", plans)
        seeded = results[rows]["seed_seconds"]
        print(f"  {rows:>9,} rows: " + (f"seeded in {seeded:.0f} s" if seeded else "reused seed"))
    a, b = results[small]["pages"], results[large]["pages"]
    print(f"\n{db}: median ms per page (runs: {runs} ours, {plain_runs} plain), queries per page")
    header = (
        f"{'page':<36} {'at ' + format(small, ','):>10} {'at ' + format(large, ','):>12} "
        f"{'ratio':>6} {'queries':>8} | {'plain ' + format(small, ','):>11} "
        f"{'plain ' + format(large, ','):>13} {'ratio':>6} {'queries':>8}"
    )
    print(header)
    print("-" * len(header))
    for name in a:
        ours_a, ours_b = a[name]["ours"], b[name]["ours"]
        queries = f"{ours_a['queries']}/{ours_b['queries']}"
        line = (
            f"{name:<36} {ours_a['median_ms']:>10.1f} {ours_b['median_ms']:>12.1f} "
            f"{ours_b['median_ms'] / ours_a['median_ms']:>6.2f} {queries:>8} |"
        )
        if "plain" in a[name]:
            pa, pb = a[name]["plain"], b[name]["plain"]
            line += (
                f" {pa['median_ms']:>11.1f} {pb['median_ms']:>13.1f} "
                f"{pb['median_ms'] / pa['median_ms']:>6.2f} {pa['queries']}/{pb['queries']:>6}"
            )
        print(line)
    counts = sum(p["ours"]["counts"] for p in b.values())
    print(f"COUNT(*) queries on our pages at {large:,}: {counts}")
    if show_plans:
        print(f"\n{db}: query plans at {large:,} rows")
        for name, plans in results[large]["plans"].items():
            print(f"  {name}:")
            for plan in plans:
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
        report(db, args.small, args.large, args.runs, args.plain_runs, args.explain)


if __name__ == "__main__":
    main()
