"""What does sealing the audit cost, and how fast does verify_audit walk a long chain?

    .venv/bin/python bench/audit_chain.py [--db sqlite|postgres|both] [--rounds 40]
        [--seals 1000000]

1. change_product with and without sealing, interleaved in one run against the OPF sandbox at
   20 ms latency (the bench's own switch: settings.AUDIT_SEALING = False; the portal always
   seals), and a bare keep-alive POST: medians, sealed / unsealed (target <= 1.05) and sealed /
   bare (target <= 1.25).
2. verify_audit on --seals seals: --seals / 2 change records, each sealed twice as the service
   does, written straight to the tables; the chain walk plus the record check, seals/s (target
   > 50,000).

Each database is a throwaway one (a SQLite file in a temporary folder; test_<name> on the
PostgreSQL of DATABASE_URL, default postgres://postgres@127.0.0.1:5432/careportal_bench_chain).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = "postgres://postgres@127.0.0.1:5432/careportal_bench_chain"


def bench_changes(rounds: int, latency_ms: float) -> dict:
    import requests
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from bench.common import sandbox_process
    from entitlements.models import Entitlement, Product
    from entitlements.services import change_product
    from tests.fixtures.sandbox import CATALOGUE

    count = 2 * rounds + 5
    entitlements = [
        {"entitlementId": f"BENCH-{i:04d}", "accountId": f"ACC-B{i:04d}",
         "productId": "Netflix_EU_B_BUNDLE_STANDARD", "status": "ACTIVE"}
        for i in range(count)
    ]  # fmt: skip
    _load_world(entitlements)
    agent = get_user_model().objects.create_user("bench-agent")
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    by_id = Entitlement.objects.in_bulk(field_name="opf_id")
    with sandbox_process(entitlements, products=CATALOGUE, latency_ms=latency_ms) as sandbox:
        settings.OPF_BASE_URL, settings.OPF_TOKEN_URL = sandbox.url, sandbox.token_url
        bare = requests.Session()
        token = bare.post(sandbox.token_url, timeout=5, data={
            "grant_type": "password", "client_id": settings.OPF_CLIENT_ID,
            "username": settings.OPF_USERNAME, "password": settings.OPF_PASSWORD,
        }).json()["access_token"]  # fmt: skip

        def change(i: int, sealing: bool) -> float:
            settings.AUDIT_SEALING = sealing
            start = time.perf_counter()
            attempt = change_product(
                entitlement=by_id[f"BENCH-{i:04d}"], new_product=premium, user=agent,
                reason_code="customer_upgrade",
            )  # fmt: skip
            elapsed = time.perf_counter() - start
            assert attempt.outcome == "completed", attempt.outcome
            return elapsed

        def bare_post() -> float:
            start = time.perf_counter()
            response = bare.post(
                sandbox.change_product_url(f"BENCH-{count - 1:04d}"),
                json={"productId": "Netflix_EU_B_BUNDLE_BASIC"},
                headers={"Authorization": f"Bearer {token}", "x-correlation-id": str(uuid.uuid4())},
                timeout=5,
            )
            assert response.status_code == 200, response.status_code
            return time.perf_counter() - start

        change(2 * rounds, True), change(2 * rounds + 1, False), bare_post()  # warm up
        sealed, unsealed, plain = [], [], []
        for i in range(rounds):  # interleaved, alternating which goes first
            first, second = (True, False) if i % 2 == 0 else (False, True)
            for sealing, index in ((first, 2 * i), (second, 2 * i + 1)):
                (sealed if sealing else unsealed).append(change(index, sealing))
            plain.append(bare_post())
        settings.AUDIT_SEALING = True
    return {"sealed": sealed, "unsealed": unsealed, "bare": plain}


def seed_chain(seals: int) -> float:
    """seals / 2 finished change records and their two seals each, written in bulk."""
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from entitlements.audit_chain import GENESIS, cell, link_hash
    from entitlements.audit_rows import rendered_rows
    from entitlements.models import ChainHead, ChangeAttempt, Entitlement, Product

    started = time.perf_counter()
    _load_world([{"entitlementId": "SEED-1", "accountId": "ACC-S1",
                  "productId": "Netflix_EU_B_BUNDLE_STANDARD", "status": "ACTIVE"}])  # fmt: skip
    # Seeded first, so the change_product part then runs on a long chain, as in production.
    first_pk = (ChangeAttempt.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    head = ChainHead.objects.filter(id=1).first()
    sequence, prev = (head.sequence, head.hash) if head else (0, GENESIS)
    entitlement = Entitlement.objects.filter(provider_id="Netflix_EU_B").first()
    to = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    now = timezone.now()
    records = [
        (f"bench-{n:08d}", now, now, "portal", "agent", "", "Agent Smith", entitlement.pk,
         entitlement.opf_id, entitlement.account_id, "Netflix_EU_B", entitlement.product_id, to.pk,
         "customer_upgrade", "", f"bench record {n}", "completed", 200,
         '{"productId": "Netflix_EU_B_BUNDLE_PREMIUM"}', "", "", '[{"http_status": 200}]', 21,
         b"", "", "", "", "")
        for n in range(seals // 2)
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(  # a list of 500,000 short tuples: ~200 MB, once
            "INSERT INTO entitlements_changeattempt (correlation_id, created_at, finished_at,"
            " origin, actor_username, actor_subject, actor_name, entitlement_id,"
            " entitlement_opf_id, account_id, provider_id, from_product_id, to_product_id,"
            " reason_code, ticket, comment, outcome, http_status, response_body, opf_message,"
            " detail,"
            " http_attempts, duration_ms, response_bytes, settlement, settled_by,"
            " settlement_opf_state, settlement_note) VALUES (" + ", ".join(["%s"] * 28) + ")",
            records,
        )
    rows, before, sealed_at = [], prev, cell(now)
    for pk, fact_json in rendered_rows("entitlements_changeattempt", _columns(), first_pk):
        for kind in ("change.created", "change.finished"):
            sequence += 1
            # content_of()'s four lines; fact_json is already the fact's canonical JSON.
            content = f"{kind}\nentitlements_changeattempt:{pk}\n{sealed_at}\n{fact_json}"
            digest = link_hash(prev, content)
            rows.append((sequence, kind, "entitlements_changeattempt", pk, now, content, prev,
                         digest))  # fmt: skip
            before, prev = prev, digest
        if len(rows) >= 50_000:  # bounded memory at a million seals
            _insert_seals(rows)
            rows = []
    _insert_seals(rows)
    with connection.cursor() as cursor:  # the statistics autovacuum would have gathered
        cursor.execute("ANALYZE")
    ChainHead.objects.update_or_create(
        id=1, defaults={"sequence": sequence, "prev_hash": before, "hash": prev}
    )
    return time.perf_counter() - started


def _load_world(entitlements: list[dict]) -> None:
    """The test suite's catalogue (once) and these entitlements."""
    from entitlements.models import Entitlement, Product
    from tests.fixtures.sandbox import CATALOGUE, load_world_into_portal

    if not Product.objects.exists():
        load_world_into_portal(CATALOGUE, entitlements)
        return
    products = Product.objects.in_bulk(field_name="opf_id")
    Entitlement.objects.bulk_create(
        Entitlement(opf_id=e["entitlementId"], account_id=e["accountId"],
                    provider_id=products[e["productId"]].provider_id,
                    product=products[e["productId"]], status=e["status"])
        for e in entitlements
    )  # fmt: skip


def _columns():
    from entitlements.audit_chain import CHANGE_FACT

    return CHANGE_FACT


def _insert_seals(rows: list[tuple]) -> None:
    from django.db import connection

    columns = "sequence, kind, subject_table, subject_pk, sealed_at, content, prev_hash, hash"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY entitlements_seal ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                f"INSERT INTO entitlements_seal ({columns}) VALUES ({', '.join(['%s'] * 8)})",
                [(*row[:4], adapt(row[4]), *row[5:]) for row in rows],
            )


def bench_verify(seals: int) -> dict:
    from entitlements.audit_verify import verify

    seeded = seed_chain(seals)
    cpu = time.process_time()
    runs = [verify() for _ in range(3)]
    cpu = (time.process_time() - cpu) / 3  # this process only: PostgreSQL's share is not in it
    assert all(r.first_break is None for r in runs), runs[0].first_break
    seals = runs[0].seals
    seconds = statistics.median(r.seconds for r in runs)
    return {"seeded_s": seeded, "seconds": seconds, "records": runs[0].records, "seals": seals,
            "cpu_s": cpu}  # fmt: skip


def worker(rounds: int, latency_ms: float, seals: int) -> None:
    """One database, in this process: both measurements, printed."""
    with tempfile.TemporaryDirectory(prefix="careportal-bench-chain-") as tmp:
        from bench.change_product import setup_django
        from bench.common import throwaway_database

        setup_django(Path(tmp))
        with throwaway_database(Path(tmp)) as connection:
            vendor = connection.vendor
            if seals:
                figures = bench_verify(seals)
                walked, seconds = figures["seals"], figures["seconds"]
                print(f"{vendor}: verify_audit {walked:,} seals + {figures['records']:,} records "
                      f"in {seconds:.2f} s = {walked / seconds:,.0f} seals/s (target > 50,000; "
                      f"median of 3; seeded in {figures['seeded_s']:.0f} s); this process's "
                      f"CPU {figures['cpu_s']:.2f} s = {walked / figures['cpu_s']:,.0f} "
                      "seals/CPU-s")  # fmt: skip
            if rounds:
                times = bench_changes(rounds, latency_ms)
                med = {k: statistics.median(v) * 1000 for k, v in times.items()}
                print(f"{vendor}: change_product sealed {med['sealed']:.2f} ms, unsealed "
                      f"{med['unsealed']:.2f} ms, bare POST {med['bare']:.2f} ms; sealed/unsealed "
                      f"{med['sealed'] / med['unsealed']:.3f} (target <= 1.05), sealed/bare "
                      f"{med['sealed'] / med['bare']:.3f} (target <= 1.25), unsealed/bare "
                      f"{med['unsealed'] / med['bare']:.3f}; {rounds} rounds")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=40, help="0: skip the change_product part")
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--seals", type=int, default=1_000_000, help="0: skip verify_audit")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.rounds, args.latency_ms, args.seals)
        return
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        env = {**os.environ, "LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        if db == "postgres":
            env["DATABASE_URL"] = os.environ.get("DATABASE_URL", PG_URL)
        command = [sys.executable, __file__, "--worker", "--rounds", str(args.rounds),
                   "--latency-ms", str(args.latency_ms), "--seals", str(args.seals)]  # fmt: skip
        subprocess.run(command, env=env, check=True)


if __name__ == "__main__":
    main()
