"""GET /metrics at 1,000 and 1,000,000 audit records: does a scrape cost the same?

    python bench/metrics.py --db postgres              # or --db sqlite, or --db both
    python bench/metrics.py --db postgres --large 200000 --runs 31

Seeds its own databases (once, kept for reruns) with bench/admin_pages.py's data set: N
entitlements and N audit records, of which a fixed OPEN_CHANGES are still open (awaiting
confirmation or of unknown outcome) at every size: open changes are the few a day leaves, not a
share of the audit. Then serves /metrics with its bearer token through django.test.Client, in
multiprocess mode as under gunicorn (PROMETHEUS_MULTIPROC_DIR with the files of a few
processes), and prints the median time, the ratio large/small (target <= 2) and the SQL per
scrape. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

TOKEN = "bench-metrics-token"


OPEN_CHANGES = 50
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def setup_django(db: str, rows: int) -> None:
    name = f"careportal_bench_metrics_{rows}"
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / f'{name}.sqlite3'}"
    else:
        import psycopg

        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{name}"
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.setdefault("DEBUG", "true")
    os.environ["DJANGO_SETTINGS_MODULE"] = "careportal.settings.test"
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log, as in production
    settings.ALLOWED_HOSTS = ["testserver"]


def seed(rows: int) -> float:
    """admin_pages' data set, then all but OPEN_CHANGES of its open changes finished."""
    from admin_pages import seed as seed_audit
    from django.db import connection

    from entitlements.models import ChangeAttempt
    from entitlements.outcomes import BLOCKING

    started = time.perf_counter()
    seed_audit(rows)
    open_ids = ChangeAttempt.objects.filter(outcome__in=BLOCKING).order_by("id")
    extra = list(open_ids.values_list("id", flat=True)[OPEN_CHANGES:])
    if extra:
        ChangeAttempt.objects.filter(id__in=extra).update(outcome="completed", http_status=200)
    with connection.cursor() as cursor:
        # What autovacuum does in production: the finished rows' old versions leave the
        # partial index of open changes.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def _multiprocess_files(directory: Path) -> None:
    """Counter files of four other processes, as gunicorn's workers leave them."""
    script = (
        "from entitlements.opf.metrics import CHANGE_PRODUCT_CALLS, CHANGE_PRODUCT_SECONDS\n"
        "for outcome in ('completed', 'awaiting_confirmation', 'rejected', 'not_sent'):\n"
        "    CHANGE_PRODUCT_CALLS.labels(outcome).inc(100)\n"
        "CHANGE_PRODUCT_SECONDS.observe(0.3)\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    for _ in range(4):
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)


def worker(db: str, rows: int, runs: int) -> dict:
    setup_django(db, rows)
    seeded = seed(rows)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from entitlements.models import ChangeAttempt
    from entitlements.outcomes import BLOCKING

    directory = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    _multiprocess_files(directory)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    settings.METRICS_TOKEN = TOKEN
    client = Client()
    queries: list[float] = []
    sql_ms: list[float] = []

    def count_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(time.perf_counter() - started)

    samples = []
    for run in range(runs + 2):
        queries.clear()
        started = time.perf_counter()
        with connection.execute_wrapper(count_sql):
            response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        if run >= 2:  # two warm-ups
            samples.append(elapsed)
            sql_ms.append(sum(queries) * 1000)
    assert b'careportal_opf_change_product_calls_total{outcome="completed"} 400.0' in (
        response.content
    )
    return {
        "seeded_s": round(seeded, 1),
        "samples": samples,
        "queries": len(queries),
        "sql_ms": round(statistics.median(sql_ms), 2),
        "open": ChangeAttempt.objects.filter(outcome__in=BLOCKING).count(),
        "audit": ChangeAttempt.objects.count(),
    }


def run_worker(db: str, rows: int, runs: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", db, str(rows), str(runs)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    if out.returncode:
        sys.exit(f"worker {db} {rows} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="postgres")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--worker", nargs=3, metavar=("DB", "ROWS", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        db, rows, runs = args.worker
        print(json.dumps(worker(db, int(rows), int(runs))))
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"GET /metrics, median of {args.runs} scrapes (ms); ratio = large / small, target <= 2")
    print(f"{'db':<9}{'small':>9}{'large':>9}{'ratio':>7}{'queries':>9}{'sql ms small/large':>20}")
    print("(audit records small / large; open changes in each; seconds the large seed took)")
    for db in dbs:
        small = run_worker(db, args.small, args.runs)
        large = run_worker(db, args.large, args.runs)
        s, lg = (statistics.median(x["samples"]) * 1000 for x in (small, large))
        print(
            f"{db:<9}{s:>9.2f}{lg:>9.2f}{lg / s:>7.2f}{large['queries']:>9}"
            f"{small['sql_ms']:>10} / {large['sql_ms']:<8}"
            f"  ({small['audit']:,} / {large['audit']:,}; open {small['open']} / {large['open']};"
            f" seed {large['seeded_s']} s)"
        )


if __name__ == "__main__":
    main()
