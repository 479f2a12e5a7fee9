"""How fast does `manage.py sync_from_opf` bring the mirror in line, and is its memory flat?

For each size (10,000 and 100,000 entitlements by default) it runs the OPF sandbox in its own
process with that many entitlements and 20 ms of added latency per request, a fresh portal
database holding the demo catalogue, and `manage.py sync_from_opf` in a fresh process, twice:

1. first sync: the mirror is empty, every entitlement is created (and audited as a refresh);
2. steady sync: `--changed` (1 %) of them were changed in the sandbox behind the portal's back,
   so those are updated (and audited), the rest confirmed unchanged.

It prints, per run, the sync's time (as the command reports it, Django's start-up left out),
entitlements per second and the command's peak RSS (its VmHWM, bench/peak_rss.py says
why not the child's rusage), and the ratio of the peak RSS at the largest size to the one at
the smallest (target: about 1, memory flat in the number of entitlements). The command runs
with production settings (DEBUG off), as cron runs it.

    .venv/bin/python bench/sync_from_opf.py [--sizes 10000,100000] [--page-size 100]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careportal_x .venv/bin/python bench/...

With SQLite the database is a file in a temporary folder; with PostgreSQL a throwaway
test_<name> database per size, dropped at the end.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import sandbox_process  # noqa: E402  (the sandbox in its own process)

CATALOGUE = ROOT / "entitlements/demo_data/catalogue.json"
TIERS = ("Netflix_EU_B_BUNDLE_BASIC", "Netflix_EU_B_BUNDLE_STANDARD", "Netflix_EU_B_BUNDLE_PREMIUM")


# Production mode against the sandbox (its demo credentials); nothing here is a real secret.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-" + "s" * 60,
    "ALLOWED_HOSTS": "127.0.0.1",
    "OPF_CLIENT_ID": "opf-operator",
    "OPF_USERNAME": "careportal",
    "OPF_PASSWORD": "careportal-sandbox-password",
    "OIDC_ISSUER": "https://sso.invalid/realms/careportal",
    "OIDC_RP_CLIENT_ID": "care-portal",
    "OIDC_RP_CLIENT_SECRET": "bench-not-a-secret",
    "OPF_NOTIFICATION_SECRETS": "whsec_YmVuY2gtbm90LWEtc2VjcmV0LWJlbmNoLW5vdC1hLXNlY3JldA==",
}


def manage(*args: str, env: dict) -> tuple[float, float, str]:
    """Run manage.py in a fresh process: (seconds, its peak RSS in MiB, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r") as peak:  # fmt: skip
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "bench/peak_rss.py", "manage.py", *args],
            cwd=ROOT, env={**env, "PEAK_RSS_FILE": peak.name}, stdout=out, stderr=err,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        out.seek(0), err.seek(0)
        if proc.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{err.read()[-2000:]}")
        return seconds, int(peak.read()) / 1024, out.read()


def synced_in(out: str) -> float:
    """The sync's own time, as the command prints it (Django's start-up left out)."""
    return float(re.search(r"\(in ([0-9.]+) s\)", out).group(1))


def database_url(tmp: Path, size: int) -> str:
    """A fresh, migrated database for one size."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / f'bench-{size}.sqlite3'}"
    name = f"test_careportal_bench_sync_{size}"
    base = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    import psycopg

    with psycopg.connect(base.replace("postgres://", "postgresql://"), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def run_size(size: int, args, tmp: Path) -> list[tuple[str, float, float]]:
    data = tmp / f"entitlements-{size}.json"
    with data.open("w") as out:  # written row by row: this process stays small at any size
        out.write("[")
        for i in range(size):
            row = {"entitlementId": f"SYNC-{i:07d}", "accountId": f"ACC-{i // 2:07d}",
                   "productId": TIERS[i % 3], "status": "ACTIVE"}  # fmt: skip
            out.write(("," if i else "") + json.dumps(row))
        out.write("]")
    results = []
    with sandbox_process(data, latency_ms=args.latency_ms) as sandbox:
        url = sandbox.url
        env = {
            **os.environ,
            **PRODUCTION,  # DEBUG off: no query log growing with the run
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url(tmp, size),
            "CACHE_URL": f"filecache://{tmp / 'cache'}",
            "OPF_BASE_URL": url,
            "OPF_TOKEN_URL": f"{url}/keycloak/auth/realms/opf/protocol/openid-connect/token",
        }
        manage("migrate", "-v", "0", env=env)
        manage("import_catalogue", str(CATALOGUE), env=env)
        sync = ("sync_from_opf", "--page-size", str(args.page_size))
        _, rss, out = manage(*sync, env=env)
        assert f"created {size}," in out, out
        seconds = synced_in(out)
        results.append(("first sync (all created)", seconds, rss))

        import requests

        changed = random.Random(size).sample(range(size), int(size * args.changed))
        session = requests.Session()
        for i in changed:
            session.post(
                f"{url}/_sandbox/entitlements/SYNC-{i:07d}",
                json={"productId": TIERS[(i + 1) % 3]}, timeout=10,
            ).raise_for_status()  # fmt: skip
        _, rss, out = manage(*sync, env=env)
        seconds = synced_in(out)
        assert f"updated {len(changed)}, unchanged {size - len(changed)}," in out, out
        results.append((f"steady sync ({args.changed:.0%} differ)", seconds, rss))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--changed", type=float, default=0.01)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    database = (
        "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    )
    print(
        f"sync_from_opf, {database}, page size {args.page_size}, sandbox latency "
        f"{args.latency_ms:g} ms per request"
    )
    peaks: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="careportal-bench-sync-") as folder:
        for size in sizes:
            for name, seconds, rss in run_size(size, args, Path(folder)):
                peaks.setdefault(name, {})[size] = rss
                print(
                    f"{size:>8,} entitlements  {name:<26} {seconds:7.1f} s  "
                    f"{size / seconds:8,.0f} entitlements/s  peak RSS {rss:6.1f} MiB"
                )
    small, large = min(sizes), max(sizes)
    for name, by_size in peaks.items():
        print(
            f"peak RSS {large:,} / {small:,}, {name}: {by_size[large] / by_size[small]:.2f} "
            "(1.00 = flat)"
        )


if __name__ == "__main__":
    main()
