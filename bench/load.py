"""A busy Monday against the documented production set-up, and a hanging OPF beside it.

Starts, on loopback: a throwaway PostgreSQL database (migrated, the demo catalogue and
--entitlements entitlements imported with the import commands), the OPF sandbox in its own
process at 20 ms latency, and gunicorn with gunicorn.conf.py and production settings (DEBUG off,
collected static files). Then --agents agents (threads with requests sessions, each signed in
with a real session made by Django's test client machinery) browse the entitlement list, open
entitlements, search, and change tiers through the real form for --seconds.

Prints requests, 5xx (must be 0), p50/p95 per page, the changeProduct requests OPF received
(the sandbox's request log) against the audit records (must be equal) and the attempts left in
flight (must be 0). --faults injects random faults into changeProduct (hang, 500, reset,
latency, some after OPF applied the change).

--instances 2: two portal instances (two gunicorn processes with gunicorn.conf.py on two ports)
on the one PostgreSQL database, sharing one Redis database as their cache (--redis-url, flushed
at start), the agents spread over them round robin; the figures per instance and in total.

--isolation instead: while OPF hangs on as many concurrent changes as there are workers, the
entitlement list's p50/p95, with sync workers and with gunicorn.conf.py's gthread, side by side.

    .venv/bin/python bench/load.py [--seconds 60] [--faults]
    .venv/bin/python bench/load.py --instances 2 --redis-url redis://127.0.0.1:6379/N [--faults]
    .venv/bin/python bench/load.py --isolation
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careportal_bench (the default; test_ prefix)
"""

import argparse
import base64
import contextlib
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import sandbox_process  # noqa: E402
from bench.gunicorn_process import gunicorn  # noqa: E402
from bench.load_agents import ENTITLEMENTS, Agent, Stats, percentile  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/careportal_bench"
CATALOGUE = ROOT / "entitlements" / "demo_data" / "catalogue.json"


def production_env(tmp: Path, sandbox, database_url: str, cache_url: str) -> dict[str, str]:
    """Production settings (DEBUG off): every required value set, nothing reaches outside."""
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="careportal.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        STATIC_ROOT=str(tmp / "static"),
        LOG_LEVEL="WARNING",
        OPF_BASE_URL=sandbox.url,
        OPF_TOKEN_URL=sandbox.token_url,
        OPF_CLIENT_ID="opf-operator",
        OPF_USERNAME="careportal",
        OPF_PASSWORD="careportal-sandbox-password",
        # Never contacted: the agents' sessions are local ones.
        OIDC_ISSUER="https://sso.invalid/realms/careportal",
        OIDC_RP_CLIENT_ID="care-portal",
        OIDC_RP_CLIENT_SECRET=secrets.token_urlsafe(24),
        OPF_NOTIFICATION_SECRETS="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
    )


def world(count: int) -> tuple[list[dict], list[dict]]:
    products = [p for p in json.loads(CATALOGUE.read_text()) if p.get("active", True)]
    rng = random.Random(7)
    entitlements = [
        {
            "entitlementId": f"LOAD-{i:05d}",
            "accountId": f"ACC-L{i // 2:05d}",
            "productId": rng.choice(products)["productId"],
            "status": "ACTIVE",
        }
        for i in range(count)
    ]
    return products, entitlements


def prepare_database(tmp: Path, products, entitlements) -> str:
    """A fresh test_<name> database, migrated; the world imported with the import commands."""
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    for name, rows in (("catalogue", products), ("entitlements", entitlements)):
        path = tmp / f"{name}.json"
        path.write_text(json.dumps(rows))
        call_command(f"import_{name}", str(path), stdout=open(os.devnull, "w"))
    call_command("collectstatic", interactive=False, verbosity=0)
    return connection.settings_dict["NAME"]


def drop_database() -> None:
    from django.db import OperationalError, connection

    for _ in range(20):  # PostgreSQL ends the stopped server's sessions a moment later
        try:
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
            return
        except OperationalError:
            time.sleep(0.5)


def signed_in_agents(bases: list[str], count: int, stats: list[Stats]) -> list[Agent]:
    """Care agents with a session each, made as the test client's force_login makes them;
    agent n uses instance n % len(bases) (round robin) and that instance's stats."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from entitlements.models import Entitlement
    from entitlements.roles import CARE_AGENT

    rows = list(Entitlement.objects.order_by("pk").values_list("pk", "opf_id", "account_id"))
    group = Group.objects.get(name=CARE_AGENT)
    agents = []
    for n in range(count):
        user, _ = User.objects.get_or_create(username=f"load-agent-{n}", is_staff=True)
        user.groups.add(group)
        client = Client()
        client.force_login(user)
        mine = rows[n::count]  # each agent has its own customers
        at = n % len(bases)
        agents.append(Agent(bases[at], client.cookies["sessionid"].value, mine, stats[at], seed=n))
    return agents


FAULTS = [
    ("hang", {"seconds": 12}),  # past OPF_READ_TIMEOUT (10 s): a read timeout
    ("hang", {"seconds": 2, "apply": True}),  # OPF did it, then closed without answering
    ("status", {"status": 500}),
    ("status", {"status": 500, "apply": True}),
    ("reset", {}),
    ("reset", {"apply": True}),
    ("latency", {"ms": 1500}),
]


def inject_faults(sandbox, stop: threading.Event, seed: int = 3) -> None:
    """Keeps one random fault waiting for the next changeProduct, until stopped."""
    import requests

    rng = random.Random(seed)
    while not stop.wait(0.5):
        if requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json():
            continue
        fault, params = rng.choice(FAULTS)
        payload = {"kind": "change_product", "fault": fault, **params}
        requests.post(f"{sandbox.url}/_sandbox/faults", json=payload, timeout=5)


def opf_against_audit(sandbox, instances: int = 1) -> dict:
    """The changeProduct requests OPF received against the audit records, in total and per
    instance (an attempt's instance is its agent's: load-agent-n used instance n % instances;
    a request OPF received is counted at an instance when its x-correlation-id is an audit
    record's)."""
    from entitlements.models import ChangeAttempt

    received = sandbox_requests(sandbox, "change_product")
    fields = ("correlation_id", "actor_username", "outcome")
    attempts = list(ChangeAttempt.objects.values_list(*fields))  # the bench's few hundred
    instance_of = {cid: int(user.rsplit("-", 1)[1]) % instances for cid, user, _ in attempts}
    per_instance = [Counter() for _ in range(instances)]
    for cid, _, outcome in attempts:
        per_instance[instance_of[cid]].update(audited=1, in_flight=int(outcome == "in_flight"))
    for request in received:
        at = instance_of.get(request["headers"].get("x-correlation-id"))
        if at is not None:
            per_instance[at]["received"] += 1
    outcomes = dict(Counter(outcome for *_, outcome in attempts))
    return {
        "received": len(received),
        "audited": len(attempts),
        "in_flight": outcomes.get("in_flight", 0),
        "outcomes": outcomes,
        "per_instance": per_instance,
    }


def load(env, tmp, sandbox, args) -> bool:
    parts = [Stats() for _ in range(args.instances)]
    with contextlib.ExitStack() as running:
        bases = [running.enter_context(gunicorn(env, tmp)) for _ in range(args.instances)]
        agents = signed_in_agents(bases, args.agents, parts)
        stop = threading.Event()
        injector = threading.Thread(target=inject_faults, args=(sandbox, stop), daemon=True)
        if args.faults:
            injector.start()
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=a.run_until, args=(deadline, args.think_ms / 1000))
            for a in agents
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 120)
        stop.set()
    counts = opf_against_audit(sandbox, args.instances)
    stats = Stats.combined(parts)
    label = "with random faults" if args.faults else "no faults"
    print(
        f"\n{args.agents} agents, {args.seconds} s, sandbox at {args.latency_ms:g} ms, {label}, "
        f"{args.instances} instance(s)"
    )
    if args.instances > 1:
        for n, (part, opf) in enumerate(zip(parts, counts["per_instance"], strict=True)):
            print(f"\n instance {n + 1} ({bases[n]}: agents {n}, {n + args.instances}, ...)")
            _print_figures(part, opf, args.seconds)
        print("\n total")
    _print_figures(stats, counts, args.seconds)
    print(f"  outcomes {counts['outcomes']}")
    for line in (stats.server_errors + stats.transport_errors)[:10]:
        print("   ", line)
    return (
        not stats.server_errors
        and counts["received"] == counts["audited"]
        and counts["in_flight"] == 0
    )


def _print_figures(stats: Stats, opf, seconds: float) -> None:
    print(
        f"  requests {stats.requests()}, 5xx {len(stats.server_errors)}, "
        f"transport errors {len(stats.transport_errors)} "
        f"({stats.requests() / seconds:.1f} requests/s)"
    )
    print("\n".join(stats.table()))
    print(
        f"  changeProduct received by OPF {opf['received']}, audit records "
        f"{opf['audited']}, in flight {opf['in_flight']}"
    )


def sandbox_requests(sandbox, kind: str) -> list:
    import requests

    return requests.get(f"{sandbox.url}/_sandbox/requests?kind={kind}", timeout=30).json()


def list_while_opf_hangs(env, tmp, sandbox, args, round_: int, *gunicorn_args) -> list[float]:
    """--workers changes hang at OPF (none in round 0); meanwhile --readers agents read the
    entitlement list. Each round changes entitlements of its own (a change of unknown outcome
    blocks the next one).
    """
    import requests

    stats, hang_s, workers = Stats(), 8.0, args.workers
    with gunicorn({**env, "GUNICORN_WORKERS": str(workers)}, tmp, *gunicorn_args) as base:
        agents = signed_in_agents([base], workers + args.readers, [stats])
        changes = []
        if round_:
            hanging = len(sandbox_requests(sandbox, "change_product")) + workers
            fault = {"kind": "change_product", "fault": "hang", "count": workers, "seconds": hang_s}
            requests.post(f"{sandbox.url}/_sandbox/faults", json=fault, timeout=5)
            changes = [
                threading.Thread(target=a.change, args=(a.entitlements[round_][0],))
                for a in agents[:workers]
            ]
            for t in changes:
                t.start()
            deadline = time.monotonic() + 30  # workers import the portal on first use
            while len(sandbox_requests(sandbox, "change_product")) < hanging:
                assert time.monotonic() < deadline, "the changes did not reach OPF"
                time.sleep(0.05)
        until = time.monotonic() + hang_s - 2  # read while every change still hangs
        readers = [threading.Thread(target=_read_list, args=(a, until)) for a in agents[workers:]]
        for t in readers:
            t.start()
        for t in readers + changes:
            t.join(timeout=60)
    return stats.seconds["entitlement list"]


def _read_list(agent: Agent, until: float) -> None:
    while time.monotonic() < until:
        agent.get("entitlement list", ENTITLEMENTS)
        time.sleep(agent.rng.uniform(0, 0.2))


def isolation(env, tmp, sandbox, args) -> bool:
    runs = {
        "gthread, no hang": list_while_opf_hangs(env, tmp, sandbox, args, 0),
        # gunicorn turns sync workers with threads into gthread: hence --threads 1.
        "sync, OPF hangs": list_while_opf_hangs(
            env, tmp, sandbox, args, 1, "--worker-class", "sync", "--threads", "1"
        ),
        "gthread, OPF hangs": list_while_opf_hangs(env, tmp, sandbox, args, 2),
    }
    counts = opf_against_audit(sandbox)
    print(
        f"\nentitlement list ({args.readers} agents reading) while OPF hangs on "
        f"{args.workers} concurrent changes, {args.workers} workers"
    )
    print(f"  {'':<8}" + "".join(f"{name:>20}" for name in runs) + f"{'sync/gthread':>14}")
    print(f"  {'requests':<8}" + "".join(f"{len(v):>20}" for v in runs.values()))
    for p in (50, 95):
        ms = [percentile(v, p) * 1000 for v in runs.values()]
        figures = "".join(f"{m:>20.1f}" for m in ms)
        print(f"  {f'p{p} ms':<8}{figures}{ms[1] / ms[2]:>13.0f}x")
    print(
        f"  changeProduct received by OPF {counts['received']}, audit records "
        f"{counts['audited']}, in flight {counts['in_flight']}  outcomes {counts['outcomes']}"
    )
    p95 = percentile(runs["gthread, OPF hangs"], 95)
    return p95 < 1.0 and counts["received"] == counts["audited"] and not counts["in_flight"]


def shared_cache(redis_url: str | None, tmp: Path) -> str:
    """The Redis database given (flushed: no token or session of an earlier run), else a file
    cache of the run's own (one instance)."""
    if not redis_url:
        return f"filecache://{tmp / 'cache'}"
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    return f"{redis_url}?socket_connect_timeout=2&socket_timeout=2"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--entitlements", type=int, default=2000)
    parser.add_argument("--think-ms", type=float, default=200, help="mean pause between clicks")
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--instances", type=int, default=1, help="portal instances (gunicorn)")
    parser.add_argument(
        "--redis-url",
        help="with --instances > 1: their shared cache, a Redis "
        "database of the bench's own (flushed at start), on loopback",
    )
    parser.add_argument("--isolation", action="store_true")
    parser.add_argument("--workers", type=int, default=4, help="--isolation: gunicorn workers")
    parser.add_argument("--readers", type=int, default=2, help="--isolation: agents reading")
    args = parser.parse_args()
    if args.instances > 1 and not args.redis_url:
        parser.error("--instances > 1 shares a Redis cache: give --redis-url redis://HOST:PORT/N")

    products, entitlements = world(args.entitlements)
    with (
        tempfile.TemporaryDirectory(prefix="careportal-load-") as tmp_name,
        sandbox_process(entitlements, products=products, latency_ms=args.latency_ms) as sandbox,
    ):
        tmp = Path(tmp_name)
        database_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
        env = production_env(tmp, sandbox, database_url, shared_cache(args.redis_url, tmp))
        os.environ.update(env)
        test_db = prepare_database(tmp, products, entitlements)
        env["DATABASE_URL"] = database_url.rsplit("/", 1)[0] + "/" + test_db
        try:
            ok = (isolation if args.isolation else load)(env, tmp, sandbox, args)
        finally:
            drop_database()
    print("\nOK" if ok else "\nFAILED: see the figures above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
