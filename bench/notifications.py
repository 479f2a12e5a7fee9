"""How many OPF notifications per second does the portal apply, with duplicates among them?

Serves the portal with gunicorn in its own process (on 127.0.0.1), then 8 sender threads post
signed deliveries to /opf/notifications: confirmations of awaited changes, provider-side
changes and status changes, one distinct delivery per entitlement, and a share of exact copies
(OPF's retries, some arriving at the same moment as their original). Prints deliveries and
applied notifications per second (median of the runs), the duplicate share, and checks in the
database that the number of state changes equals the number of distinct deliveries.

    .venv/bin/python bench/notifications.py [--runs 3] [--distinct 600] [--duplicates 0.3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careportal .venv/bin/python bench/...

With SQLite the database is a file in a temporary folder; with PostgreSQL a throwaway
test_<name> database, dropped at the end (so not while the test suite uses the same name).
Every process shares the machine: on 2 cores the senders, gunicorn and the database compete.
"""

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import queue
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENDERS = 8  # the figure the issue asks for; --senders to explore
SECRET = "whsec_" + base64.b64encode(b"bench-notification-secret-32byte").decode()
EVENTS = ("CHANGE_CONFIRMED", "PRODUCT_CHANGED_AT_PROVIDER", "STATUS_CHANGED")


def setup_django(tmp: Path) -> str:
    """Configure Django; return the DATABASE_URL the portal process must use."""
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["CACHE_URL"] = f"filecache://{tmp / 'cache'}"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["OPF_NOTIFICATION_SECRETS"] = SECRET
    os.environ["DJANGO_SETTINGS_MODULE"] = "careportal.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    url = os.environ["DATABASE_URL"]
    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)
        return url
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def portal_process(database_url: str, workers: int, threads: int):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "careportal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/opf/notifications"
    try:
        import requests

        for _ in range(200):
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def sign(body: bytes, webhook_id: str) -> dict[str, str]:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    timestamp = str(int(time.time()))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def prepare_run(prefix: str, distinct: int) -> list[tuple[str, bytes]]:
    """Entitlements for this run, an awaited change for each confirmation; the deliveries."""
    from django.contrib.auth import get_user_model

    from entitlements.models import ChangeAttempt, Entitlement, Product

    standard = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_STANDARD")
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    agent, _ = get_user_model().objects.get_or_create(username="bench-agent")
    entitlements = Entitlement.objects.bulk_create(
        Entitlement(
            opf_id=f"{prefix}-{i:05d}",
            account_id=f"ACC-{prefix}-{i:05d}",
            provider_id=standard.provider_id,
            product=standard,
            status="ACTIVE",
        )
        for i in range(distinct)
    )
    entitlements = list(Entitlement.objects.filter(opf_id__startswith=f"{prefix}-"))
    deliveries = []
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    for i, entitlement in enumerate(sorted(entitlements, key=lambda e: e.opf_id)):
        event = EVENTS[i % len(EVENTS)]
        payload = {"eventType": event, "entitlementId": entitlement.opf_id, "occurredAt": now}
        if event == "CHANGE_CONFIRMED":
            change = ChangeAttempt.objects.create(
                user=agent,
                actor_username=agent.username,
                entitlement=entitlement,
                entitlement_opf_id=entitlement.opf_id,
                account_id=entitlement.account_id,
                provider_id=entitlement.provider_id,
                from_product=standard,
                to_product=premium,
                reason_code="customer_upgrade",
                outcome="awaiting_confirmation",
                http_status=202,
            )
            payload |= {"productId": premium.opf_id, "correlationId": change.correlation_id}
        elif event == "PRODUCT_CHANGED_AT_PROVIDER":
            payload |= {"productId": premium.opf_id}
        else:
            payload |= {"status": "SUSPENDED"}
        deliveries.append((f"msg_{uuid.uuid4().hex}", json.dumps(payload).encode()))
    return deliveries


def send_all(url: str, sends: list[tuple[str, bytes]], senders: int) -> tuple[float, list]:
    import requests

    work: queue.Queue = queue.Queue()
    for item in sends:
        work.put(item)
    answers = []
    lock = threading.Lock()
    start_line = threading.Barrier(senders + 1)

    def sender() -> None:
        with requests.Session() as session:
            session.trust_env = False
            start_line.wait()
            while True:
                try:
                    webhook_id, body = work.get_nowait()
                except queue.Empty:
                    return
                began = time.perf_counter()
                response = session.post(url, data=body, headers=sign(body, webhook_id), timeout=60)
                took = time.perf_counter() - began
                result = response.json().get("result") if response.status_code == 200 else None
                with lock:
                    answers.append((response.status_code, result, took))

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, answers


def count_state_changes(prefix: str) -> dict[str, int]:
    from django.db.models import F, Sum

    from entitlements.models import ChangeAttempt, ChangeOrigin, Entitlement, NotificationDelivery

    ours = Entitlement.objects.filter(opf_id__startswith=f"{prefix}-")
    return {
        # Every applied notification bumps its entitlement's version by exactly one.
        "version_bumps": ours.aggregate(n=Sum(F("version") - 1))["n"] or 0,
        "confirmed": ChangeAttempt.objects.filter(
            entitlement__in=ours, outcome="confirmed"
        ).count(),
        "provider_changes": ChangeAttempt.objects.filter(
            entitlement__in=ours, origin=ChangeOrigin.PROVIDER
        ).count(),
        "status_changes": ours.filter(status="SUSPENDED").count(),
        "deliveries_kept": NotificationDelivery.objects.filter(
            entitlement_opf_id__startswith=f"{prefix}-"
        ).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--senders", type=int, default=SENDERS, help="concurrent senders")
    parser.add_argument("--distinct", type=int, default=600, help="distinct deliveries per run")
    parser.add_argument("--duplicates", type=float, default=0.3, help="share of copies sent")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="careportal-bench-") as tmp:
        database_url = setup_django(Path(tmp))
        from django.db import connection

        vendor = connection.vendor
        try:
            from tests.fixtures.sandbox import CATALOGUE, load_world_into_portal

            load_world_into_portal(CATALOGUE, [])
            with portal_process(database_url, args.workers, args.threads) as url:
                # Warm up: every worker thread opens its database connection, not counted.
                send_all(url, prepare_run("WARMUP", 100), args.senders)
                rates, applied_rates, latencies, shares = [], [], [], []
                for run in range(1, args.runs + 1):
                    prefix = f"R{run}"
                    deliveries = prepare_run(prefix, args.distinct)
                    copies = round(len(deliveries) * args.duplicates / (1 - args.duplicates))
                    sends = deliveries + random.choices(deliveries, k=copies)
                    random.shuffle(sends)
                    seconds, answers = send_all(url, sends, args.senders)

                    statuses = {status for status, _, _ in answers}
                    results = [result for _, result, _ in answers]
                    duplicates = results.count("duplicate")
                    counted = count_state_changes(prefix)
                    state_changes = counted["version_bumps"]
                    assert statuses == {200}, f"answers other than 200: {statuses}"
                    assert results.count("applied") == len(deliveries), results
                    assert duplicates == len(sends) - len(deliveries)
                    assert state_changes == len(deliveries) == counted["deliveries_kept"], counted
                    assert (
                        counted["confirmed"]
                        + counted["provider_changes"]
                        + counted["status_changes"]
                        == state_changes
                    ), counted
                    rates.append(len(sends) / seconds)
                    applied_rates.append(len(deliveries) / seconds)
                    latencies += [took for _, _, took in answers]
                    shares.append(duplicates / len(sends))
                    print(
                        f"run {run}: {len(sends)} deliveries in {seconds:.2f} s "
                        f"({len(sends) / seconds:.0f}/s), {duplicates} duplicates "
                        f"({duplicates / len(sends):.0%}), {len(deliveries)} distinct, "
                        f"{state_changes} state changes "
                        f"({counted['confirmed']} confirmed, {counted['provider_changes']} "
                        f"provider-side, {counted['status_changes']} status)"
                    )
        finally:
            if vendor != "sqlite":
                connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)

    quantiles = statistics.quantiles(latencies, n=100)
    print()
    print(
        f"database: {vendor}; portal: gunicorn {args.workers} workers x {args.threads} threads; "
        f"{args.senders} concurrent senders; {args.runs} runs"
    )
    print(f"deliveries per second (median):            {statistics.median(rates):8.0f}")
    print(f"notifications applied per second (median): {statistics.median(applied_rates):8.0f}")
    print(f"share that were duplicates:                {statistics.median(shares):8.1%}")
    print(
        f"latency per delivery: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {quantiles[94] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )
    print("state changes == distinct deliveries in every run: yes")


if __name__ == "__main__":
    main()
