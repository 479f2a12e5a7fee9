"""Write the demo data set: catalogue.json and entitlements.json beside this script.

    python entitlements/demo_data/generate.py            # rewrite the committed files
    python entitlements/demo_data/generate.py --check    # exit 1 if they are out of date

Deterministic (fixed seed, no clock): running it again gives the same bytes, so the committed
output is what the portal and the OPF sandbox both load. The first entitlements are written by
hand for demos and tests (see README.md); the rest are random but realistic.
Standard library only: the sandbox and CI can run it without Django.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20260601
ENTITLEMENT_COUNT = 300

# (providerId, providerResourceId, name, tier, active). Product id = providerId_providerResourceId.
CATALOGUE = [
    ("Netflix_EU_B", "BUNDLE_MOBILE", "Netflix Mobile (legacy)", 0, False),
    ("Netflix_EU_B", "BUNDLE_BASIC", "Netflix Basic", 1, True),
    ("Netflix_EU_B", "BUNDLE_STANDARD", "Netflix Standard", 2, True),
    ("Netflix_EU_B", "BUNDLE_PREMIUM", "Netflix Premium", 3, True),
    ("DisneyPlus_EU", "BASIC", "Disney+ Basic", 1, True),
    ("DisneyPlus_EU", "STANDARD", "Disney+ Standard", 2, True),
    ("DisneyPlus_EU", "PREMIUM", "Disney+ Premium", 3, True),
    ("Max_EU", "BASIC_ADS", "Max Basic with Ads", 1, True),
    ("Max_EU", "STANDARD", "Max Standard", 2, True),
    ("Max_EU", "PREMIUM", "Max Premium", 3, True),
    ("Spotify_EU", "PREMIUM_INDIVIDUAL", "Spotify Premium Individual", 1, True),
    ("Spotify_EU", "PREMIUM_DUO", "Spotify Premium Duo", 2, True),
    ("Spotify_EU", "PREMIUM_FAMILY", "Spotify Premium Family", 3, True),
]

# What care staff call each provider (the catalogue's optional providerName).
PROVIDER_NAMES = {
    "Netflix_EU_B": "Netflix", "DisneyPlus_EU": "Disney+", "Max_EU": "Max", "Spotify_EU": "Spotify",
}  # fmt: skip

# The memorable ones, documented in README.md: (entitlementId, accountId, productId, status).
MEMORABLE = [
    # The upgrade demo: Standard -> Premium, answered 200 by OPF. The account has several services.
    ("ENT-000001", "ACC-10001", "Netflix_EU_B_BUNDLE_STANDARD", "ACTIVE"),
    # Disney+ changes are confirmed later by the provider (the sandbox answers 202).
    ("ENT-000002", "ACC-10001", "DisneyPlus_EU_STANDARD", "ACTIVE"),
    ("ENT-000003", "ACC-10001", "Spotify_EU_PREMIUM_DUO", "ACTIVE"),
    # Final statuses: the portal refuses to change them.
    ("ENT-000004", "ACC-10002", "Max_EU_STANDARD", "CANCELLED"),
    ("ENT-000005", "ACC-10003", "Netflix_EU_B_BUNDLE_BASIC", "REVOKED"),
    # On the inactive legacy tier: can move up, nobody can move onto it.
    ("ENT-000006", "ACC-10004", "Netflix_EU_B_BUNDLE_MOBILE", "ACTIVE"),
    # The downgrade demo: Premium -> Standard or Basic.
    ("ENT-000007", "ACC-10005", "Netflix_EU_B_BUNDLE_PREMIUM", "ACTIVE"),
    # Not changeable by default (CHANGEABLE_STATUSES).
    ("ENT-000008", "ACC-10006", "DisneyPlus_EU_PREMIUM", "SUSPENDED"),
    ("ENT-000009", "ACC-10007", "Max_EU_BASIC_ADS", "PENDING"),
]

STATUS_WEIGHTS = {
    "ACTIVE": 78,
    "SUBSCRIBED": 5,
    "PENDING": 4,
    "SUSPENDED": 4,
    "ACTIVE-ENDING": 3,
    "UNSUBSCRIBED": 1,
    "CANCELLED": 3,
    "REVOKED": 2,
}
# How many services an account holds.
SERVICES_PER_ACCOUNT = {1: 55, 2: 30, 3: 11, 4: 4}
# Weights of each tier inside a provider: the middle tier sells best; legacy is rare.
TIER_WEIGHTS = {0: 2, 1: 30, 2: 45, 3: 23}


def products() -> list[dict]:
    return [
        {
            "productId": f"{provider}_{resource}",
            "name": name,
            "providerId": provider,
            "providerName": PROVIDER_NAMES[provider],
            "providerResourceId": resource,
            "tier": tier,
            "active": active,
        }
        for provider, resource, name, tier, active in CATALOGUE
    ]


def entitlements() -> list[dict]:
    rng = random.Random(SEED)
    by_provider: dict[str, list[tuple[str, int]]] = {}
    for provider, resource, _name, tier, _active in CATALOGUE:
        by_provider.setdefault(provider, []).append((f"{provider}_{resource}", tier))
    providers = sorted(by_provider)

    rows = [
        {"entitlementId": ent, "accountId": acc, "productId": prod, "status": status}
        for ent, acc, prod, status in MEMORABLE
    ]
    account = max(int(acc.removeprefix("ACC-")) for _e, acc, _p, _s in MEMORABLE)
    while len(rows) < ENTITLEMENT_COUNT:
        account += 1
        (count,) = rng.choices(list(SERVICES_PER_ACCOUNT), weights=SERVICES_PER_ACCOUNT.values())
        # One entitlement per provider per account, as a customer holds one Netflix plan.
        for provider in sorted(rng.sample(providers, count)):
            if len(rows) == ENTITLEMENT_COUNT:
                break
            tiers = by_provider[provider]
            (product,) = rng.choices(
                [product for product, _tier in tiers],
                weights=[TIER_WEIGHTS[tier] for _product, tier in tiers],
            )
            (status,) = rng.choices(list(STATUS_WEIGHTS), weights=STATUS_WEIGHTS.values())
            rows.append(
                {
                    "entitlementId": f"ENT-{len(rows) + 1:06d}",
                    "accountId": f"ACC-{account}",
                    "productId": product,
                    "status": status,
                }
            )
    return rows


def render(items: list[dict]) -> str:
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--output", type=Path, default=HERE, help="directory to write into")
    args = parser.parse_args(argv)
    files = {"catalogue.json": render(products()), "entitlements.json": render(entitlements())}
    stale = []
    for name, text in files.items():
        target = args.output / name
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            target.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date: {', '.join(stale)}; run {Path(__file__).name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
