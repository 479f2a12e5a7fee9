"""Bulk tier migration: as fast as OPF allows, never faster; worker memory flat with the job size.

For each size (1,000 and 10,000 entitlements by default): a fresh PostgreSQL database, the OPF
sandbox in its own process at 50 ms latency, a job moving every entitlement to another tier,
two `manage.py db_worker` processes (BULK_CONCURRENCY 4 each) and a budget of 100 requests/s.
It prints the achieved rate over min(budget, workers x concurrency / latency) (target >= 0.8),
the most requests OPF received in any one second (must be <= the budget), and each worker's peak
memory (VmHWM; target: the same at both sizes).

    .venv/bin/python bench/bulk.py [--sizes 1000,10000] [--budget 100] [--latency-ms 50]
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import sandbox_process  # noqa: E402

PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
WORKERS, CONCURRENCY = 2, 4
SOURCE, TARGET = "Netflix_EU_B_BUNDLE_BASIC", "Netflix_EU_B_BUNDLE_STANDARD"
CATALOGUE = [
    {"productId": SOURCE, "name": "Netflix Basic", "providerId": "Netflix_EU_B",
     "providerResourceId": "BUNDLE_BASIC", "tier": 1},
    {"productId": TARGET, "name": "Netflix Standard", "providerId": "Netflix_EU_B",
     "providerResourceId": "BUNDLE_STANDARD", "tier": 2},
]  # fmt: skip


def rows(size: int) -> list[dict]:
    return [
        {"entitlementId": f"ENT-B{n:07d}", "accountId": f"ACC-{n:07d}", "productId": SOURCE,
         "status": "ACTIVE"}
        for n in range(size)
    ]  # fmt: skip


def fresh_database(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def worker_env(database_url: str, sandbox_url: str, budget: int) -> dict[str, str]:
    """Production mode (DEBUG off: no query log, no debug cursor), pointed at the sandbox."""
    return dict(
        os.environ, DEBUG="false", DJANGO_SETTINGS_MODULE="careportal.settings",
        SECRET_KEY="bench-" + "k" * 60, DATABASE_URL=database_url, CACHE_URL="locmemcache://",
        LOG_LEVEL="WARNING", OPF_BASE_URL=sandbox_url,
        OPF_TOKEN_URL=f"{sandbox_url}/keycloak/auth/realms/opf/protocol/openid-connect/token",
        # The sandbox's demo client (entitlements/opf_sandbox/tokens.py).
        OPF_CLIENT_ID="opf-operator", OPF_CLIENT_SECRET="careportal-sandbox-secret",
        OPF_USERNAME="careportal", OPF_PASSWORD="careportal-sandbox-password",
        OIDC_ISSUER="https://sso.example/realms/careportal", OIDC_RP_CLIENT_ID="care-portal",
        OIDC_RP_CLIENT_SECRET="bench", SECURE_SSL_REDIRECT="false",
        OPF_NOTIFICATION_SECRETS="whsec_YmVuY2gtbm90LWEtc2VjcmV0LWJlbmNoLW5vdA==",
        OPF_MAX_REQUESTS_PER_SECOND=str(budget), BULK_CONCURRENCY=str(CONCURRENCY),
        BULK_WORKERS_PER_JOB=str(WORKERS), BULK_LEASE_SECONDS="30",
    )  # fmt: skip


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def seed(size: int):
    """The catalogue, the entitlements and a supervisor; then the planned job (nothing sent)."""
    from django.contrib.auth.models import Group, User

    from entitlements.bulk.planning import PlanRequest, plan_job
    from entitlements.models import Entitlement, Product
    from entitlements.roles import CARE_SUPERVISOR

    products = {
        row["productId"]: Product.objects.create(
            opf_id=row["productId"], name=row["name"], provider_id=row["providerId"],
            provider_resource_id=row["providerResourceId"], tier=row["tier"],
        )
        for row in CATALOGUE
    }  # fmt: skip
    Entitlement.objects.bulk_create(
        [Entitlement(opf_id=r["entitlementId"], account_id=r["accountId"],
                     provider_id="Netflix_EU_B", product=products[SOURCE], status="ACTIVE")
         for r in rows(size)],
        batch_size=2000,
    )  # fmt: skip
    user = User.objects.create_user("bench-supervisor", is_staff=True)
    user.groups.add(Group.objects.get(name=CARE_SUPERVISOR))
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    request = PlanRequest(user=user, source_product=products[SOURCE],
                          target_product=products[TARGET], reason_code="technical_fix",
                          first_batch=size)  # fmt: skip
    return plan_job(request), user


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def max_in_one_second(times: list[float]) -> int:
    times, most, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def run(size: int, budget: int, latency_ms: float) -> dict:
    import requests

    database_url = fresh_database(f"careportal_bench_bulk_{size}")
    with sandbox_process(rows(size), products=CATALOGUE, latency_ms=latency_ms) as sandbox:
        sandbox_url = sandbox.url
        env = worker_env(database_url, sandbox_url, budget)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                       check=True)  # fmt: skip
        setup_django(env)
        from django.db import connection

        from entitlements.bulk import control
        from entitlements.bulk.models import JobState

        job, user = seed(size)
        workers = [
            subprocess.Popen([sys.executable, "manage.py", "db_worker", "--no-reload",
                              "--interval", "0.1", "--no-startup-delay"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
            for _ in range(WORKERS)
        ]  # fmt: skip
        try:
            time.sleep(2)  # the workers' Django starts before the clock does
            control.start(job, user=user)
            while job.state != JobState.FINISHED:
                time.sleep(0.5)
                job.refresh_from_db()
            peaks = [peak_rss_mb(w.pid) for w in workers]
            cpu = sum(cpu_seconds(w.pid) for w in workers)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
        received = requests.get(f"{sandbox_url}/_sandbox/requests?kind=change_product",
                                timeout=30).json()  # fmt: skip
        connection.close()
    times = sorted(r["time"] for r in received)
    return {"size": size, "sent": len(times), "seconds": times[-1] - times[0],
            "rate": (len(times) - 1) / (times[-1] - times[0]),
            "max_per_second": max_in_one_second(times), "peaks": peaks,
            "cpu_ms": 1000 * cpu / size}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50)
    args = parser.parse_args()
    ceiling = min(args.budget, WORKERS * CONCURRENCY / (args.latency_ms / 1000))
    if os.environ.get("BENCH_BULK_SIZE"):  # one size, in a process of its own (see below)
        result = run(int(os.environ["BENCH_BULK_SIZE"]), args.budget, args.latency_ms)
        peaks = " ".join(f"{p:.0f}" for p in result["peaks"])
        print(f"{result['size']:>12,} {result['sent']:>6} {result['seconds']:>8.1f} "
              f"{result['rate']:>7.1f} {result['rate'] / ceiling:>6.2f} "
              f"{result['max_per_second']:>10} {peaks:>16} {result['cpu_ms']:>9.1f}",
              flush=True)  # fmt: skip
        return
    print(f"budget {args.budget}/s, latency {args.latency_ms:.0f} ms, {WORKERS} workers x "
          f"{CONCURRENCY}: ceiling min(budget, workers x concurrency / latency) = {ceiling:.0f}/s")
    print(f"{'entitlements':>12} {'sent':>6} {'seconds':>8} {'rate/s':>7} {'ratio':>6} "
          f"{'max in 1 s':>10} {'worker peak MB':>16} {'CPU ms/ent':>9}", flush=True)  # fmt: skip
    for size in args.sizes.split(","):
        # A fresh Django on a fresh database for each size.
        subprocess.run([sys.executable, __file__, "--budget", str(args.budget),
                        "--latency-ms", str(args.latency_ms)], check=True,
                       env=dict(os.environ, BENCH_BULK_SIZE=size))  # fmt: skip


if __name__ == "__main__":
    main()
