"""How much does the portal add to OPF's unavoidable round trip?

Runs against the OPF sandbox with 20 ms of added latency and prints, measured side by side in
one run, the median time of `services.change_product` (validation, the audit record before and
after, the mirror update, token from the cache) against a bare keep-alive `requests.post` to the
same sandbox, and their ratio (target <= 1.25), with production settings (DEBUG off), and the
database round trips of one change.

    .venv/bin/python bench/change_product.py [--rounds 40] [--latency-ms 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careportal .venv/bin/python bench/...
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import sandbox_process, throwaway_database  # noqa: E402


def setup_django(tmp: Path) -> None:
    """Production settings (DEBUG off: no query log, no debug cursor; the documented file
    cache; persistent connections on PostgreSQL), pointed at the sandbox once it runs."""
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="careportal.settings", DEBUG="false",
        SECRET_KEY="bench-" + "k" * 60, ALLOWED_HOSTS="127.0.0.1",
        CACHE_URL=f"filecache://{tmp / 'cache'}", STATIC_ROOT=str(tmp / "static"),
        OPF_BASE_URL="http://127.0.0.1:9", OPF_TOKEN_URL="http://127.0.0.1:9/token",
        # The sandbox's demo client (entitlements/opf_sandbox/tokens.py).
        OPF_CLIENT_ID="opf-operator", OPF_USERNAME="careportal",
        OPF_PASSWORD="careportal-sandbox-password",
        OIDC_ISSUER="https://sso.invalid/realms/careportal", OIDC_RP_CLIENT_ID="care-portal",
        OIDC_RP_CLIENT_SECRET="bench",
        OPF_NOTIFICATION_SECRETS="whsec_YmVuY2gtbm90LWEtc2VjcmV0LWJlbmNoLW5vdA==",
    )  # fmt: skip
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--latency-ms", type=float, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="careportal-bench-") as tmp:
        setup_django(Path(tmp))
        with throwaway_database(Path(tmp)):
            run(args.rounds, args.latency_ms)


def run(rounds: int, latency_ms: float) -> None:
    import requests
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from entitlements.models import Entitlement, Product
    from entitlements.services import change_product
    from tests.fixtures.round_trips import round_trips
    from tests.fixtures.sandbox import CATALOGUE, load_world_into_portal

    entitlements = [
        {
            "entitlementId": f"BENCH-{i:04d}",
            "accountId": f"ACC-B{i:04d}",
            "productId": "Netflix_EU_B_BUNDLE_STANDARD",
            "status": "ACTIVE",
        }
        for i in range(rounds + 5)
    ]
    load_world_into_portal(CATALOGUE, entitlements)
    agent = get_user_model().objects.create_user("bench-agent")
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")

    with sandbox_process(entitlements, products=CATALOGUE, latency_ms=latency_ms) as sandbox:
        settings.OPF_BASE_URL = sandbox.url
        settings.OPF_TOKEN_URL = sandbox.token_url

        bare = requests.Session()
        token = bare.post(
            sandbox.token_url,
            data={
                "grant_type": "password",
                "client_id": settings.OPF_CLIENT_ID,
                "username": settings.OPF_USERNAME,
                "password": settings.OPF_PASSWORD,
            },
            timeout=5,
        ).json()["access_token"]

        def bare_post(i: int) -> None:
            response = bare.post(
                sandbox.change_product_url(f"BENCH-{i:04d}"),
                json={"productId": "Netflix_EU_B_BUNDLE_BASIC"},
                headers={"Authorization": f"Bearer {token}", "x-correlation-id": str(uuid.uuid4())},
                timeout=5,
            )
            assert response.status_code == 200, response.status_code

        # The caller (the admin view) has the entitlement already; load them up front.
        by_id = Entitlement.objects.in_bulk(field_name="opf_id")

        def portal_change(i: int) -> None:
            attempt = change_product(
                entitlement=by_id[f"BENCH-{i:04d}"],
                new_product=premium,
                user=agent,
                reason_code="customer_upgrade",
            )
            assert attempt.outcome == "completed", attempt.outcome

        # Warm both paths (the portal's first call fetches its token and opens its connection).
        portal_change(rounds + 1)
        bare_post(rounds + 2)
        with round_trips() as sent:
            portal_change(rounds + 4)

        portal, plain = [], []
        for i in range(rounds):  # interleaved, so machine noise hits both alike
            start = time.perf_counter()
            portal_change(i)
            portal.append(time.perf_counter() - start)
            start = time.perf_counter()
            bare_post(rounds + 3)
            plain.append(time.perf_counter() - start)

    portal_ms = statistics.median(portal) * 1000
    plain_ms = statistics.median(plain) * 1000
    ratio = portal_ms / plain_ms
    print(f"database: {connection.vendor}; sandbox latency: {latency_ms:g} ms; rounds: {rounds}")
    print(f"{'':28}{'median ms':>10}{'p90 ms':>10}")
    for name, samples in (("change_product (portal)", portal), ("bare requests.post", plain)):
        p90 = statistics.quantiles(samples, n=10)[-1] * 1000
        print(f"{name:28}{statistics.median(samples) * 1000:10.2f}{p90:10.2f}")
    verdict = "OK" if ratio <= 1.25 else "OVER"
    print(f"ratio portal / bare: {ratio:.3f} (target <= 1.25) -> {verdict}")
    quartiles = statistics.quantiles([p / b for p, b in zip(portal, plain, strict=True)], n=4)
    print("per-round ratio quartiles: " + " / ".join(f"{q:.3f}" for q in quartiles))
    print(f"database round trips per change: {len(sent)} ({' '.join(sent)})")


if __name__ == "__main__":
    main()
