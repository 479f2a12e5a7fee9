"""The supervisors' dashboard at 1,000 and 1,000,000 audit records: does the admin index cost the
same whatever the audit holds?

    python bench/dashboard.py --db sqlite        # or --db postgres, or --db both
    python bench/dashboard.py --db postgres --large 200000 --runs 9

For each database it seeds (once; kept for reruns) a small and a large data set with the data set
of bench/admin_pages.py (N entitlements, N audit records over the past year, 50 agents, 0.1 %
awaiting confirmation, 0.1 % outcome unknown), gives the portal's records an OPF call of 20-920
ms, and fills the dashboard's aggregate with `rebuild_dashboard_stats` (the backfill, timed).
Then, in alternating rounds (both sizes see the same machine load), it serves the admin index
to a supervisor with django.test.Client and prints the median, the ratio large / small (target
<= 2) and the SQL queries per page. For comparison it times the same 30 days' figures counted
directly from the audit (what the page would cost without the aggregate).

Only 127.0.0.1 is used: SQLite files under var/, PostgreSQL at BENCH_PG (127.0.0.1:5432),
databases careportal_bench_dashboard_<rows>. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import admin_pages as dataset  # noqa: E402  (the data set and its seeding, shared)

PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def database_url(db: str, rows: int) -> str:
    if db == "sqlite":
        return f"sqlite:///{ROOT / 'var' / f'bench-dashboard-{rows}.sqlite3'}"
    return f"{PG_SERVER}/careportal_bench_dashboard_{rows}"


def setup_django(db: str, rows: int) -> None:
    os.environ["DATABASE_URL"] = database_url(db, rows)
    os.environ.setdefault("DEBUG", "true")  # the demo defaults (no secrets needed) ...
    os.environ["DJANGO_SETTINGS_MODULE"] = "careportal.settings.test"
    (ROOT / "var").mkdir(exist_ok=True)
    if db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            name = f"careportal_bench_dashboard_{rows}"
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # ... but no query log, as in production
    settings.ALLOWED_HOSTS = ["testserver"]


def give_calls() -> None:
    """The seed's records made no OPF call: give each portal record one, 20-920 ms long, as the
    client writes it (the audit triggers are off for this one bench-only UPDATE)."""
    from django.db import connection

    sql = (
        "UPDATE entitlements_changeattempt SET http_attempts = '[{\"http_status\": 200}]',"
        " duration_ms = 20 + (id * 7919) % 900 WHERE http_status IS NOT NULL"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE entitlements_changeattempt DISABLE TRIGGER USER")
            cursor.execute(sql)
            cursor.execute("ALTER TABLE entitlements_changeattempt ENABLE TRIGGER USER")
        else:
            cursor.execute(sql)
        cursor.execute("ANALYZE")


def prepare(rows: int) -> dict:
    """Seed when needed, then the backfill of the aggregate when it is empty; their seconds."""
    from django.core.management import call_command

    from entitlements.models import DailyChangeStat

    figures = {"seed_seconds": dataset.seed(rows), "calls_seconds": 0.0, "backfill_seconds": 0.0}
    if figures["seed_seconds"]:
        started = time.perf_counter()
        give_calls()
        figures["calls_seconds"] = time.perf_counter() - started
        DailyChangeStat.objects.all().delete()
    if not DailyChangeStat.objects.exists():
        started = time.perf_counter()
        call_command("rebuild_dashboard_stats", "--days-per-chunk", "14", verbosity=0)
        figures["backfill_seconds"] = time.perf_counter() - started
    return figures


def check_figures(html: str) -> bool:
    """The page's 30-day total equals the audit's finished records of those days."""
    import re
    from datetime import datetime, timedelta
    from datetime import time as clock

    from django.utils import timezone

    from entitlements.models import ChangeAttempt

    start = timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=29), clock.min)
    )
    audit = ChangeAttempt.objects.filter(created_at__gte=start).exclude(outcome="in_flight")
    shown = sum(int(n) for n in re.findall(r'<td class="dash-num dash-total">(\d+)</td>', html))
    return shown == audit.count()


def direct_ms(runs: int) -> list[float]:
    """The same 30 days counted from the audit instead of the aggregate (the comparison)."""
    from datetime import timedelta

    from django.utils import timezone

    from entitlements.change_stats import recount_from_audit

    today = timezone.localdate()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        list(recount_from_audit(today - timedelta(days=29), today))
        times.append((time.perf_counter() - started) * 1000)
    return times


def worker(db: str, rows: int, runs: int, direct_runs: int) -> dict:
    setup_django(db, rows)
    result = prepare(rows)
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="bench-supervisor"))
    html = client.get("/admin/").content.decode()  # warm: templates, caches
    assert 'id="supervisor-dashboard"' in html
    with CaptureQueriesContext(connection) as captured:
        client.get("/admin/")
    queries = len(captured)  # now: the log is read lazily
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/admin/")
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return {
        **result,
        "samples": samples,
        "queries": queries,
        "figures_match": check_figures(html),
        "direct": direct_ms(direct_runs),
    }


def run_worker(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, cwd=ROOT
    )
    if out.returncode:
        sys.exit(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(db: str, small: int, large: int, runs: int, rounds: int, direct_runs: int) -> None:
    print(f"\n=== {db}: the admin index with the dashboard, {small:,} and {large:,} records")
    per_round = max(1, -(-runs // rounds))
    merged = {small: {"samples": [], "direct": []}, large: {"samples": [], "direct": []}}
    for _round in range(rounds):
        for rows in (small, large):
            result = run_worker(db, str(rows), str(per_round), str(direct_runs))
            figures = merged[rows]
            figures["samples"] += result["samples"]
            figures["direct"] += result["direct"]
            figures["queries"] = result["queries"]
            figures["match"] = figures.get("match", True) and result["figures_match"]
            for key in ("seed_seconds", "calls_seconds", "backfill_seconds"):
                if result[key]:
                    print(f"  {rows:>9,} records: {key.replace('_', ' ')} {result[key]:.1f}")
    medians = {rows: statistics.median(f["samples"]) for rows, f in merged.items()}
    direct = {rows: statistics.median(f["direct"]) for rows, f in merged.items()}
    ratio = medians[large] / medians[small]
    print(f"  {'':28} {small:>10,} {large:>12,}   ratio (target <= 2)")
    print(f"  {'admin index, median ms':28} {medians[small]:>10.1f} {medians[large]:>12.1f}"
          f"   {ratio:.2f}  {'OK' if ratio <= 2 else 'OVER'}")  # fmt: skip
    print(f"  {'queries per page':28} {merged[small]['queries']:>10} "
          f"{merged[large]['queries']:>12}")  # fmt: skip
    print(f"  {'30 days from the audit, ms':28} {direct[small]:>10.1f} {direct[large]:>12.1f}"
          f"   {direct[large] / direct[small]:.1f}  (without the aggregate)")  # fmt: skip
    match = all(f["match"] for f in merged.values())
    pages = sum(len(f["samples"]) for f in merged.values())
    print(f"  page figures == audit counts: {'yes' if match else 'NO'}")
    print(f"  ({pages} pages in {rounds} alternating rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--direct-runs", type=int, default=1)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        db, rows, runs, direct_runs = args.worker
        print(json.dumps(worker(db, int(rows), int(runs), int(direct_runs))))
        return
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        report(db, args.small, args.large, args.runs, args.rounds, args.direct_runs)


if __name__ == "__main__":
    main()
