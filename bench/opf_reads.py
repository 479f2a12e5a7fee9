"""How much does the OPF client add to the entitlements read, and how fast does it page?

Runs the OPF sandbox in its own process with N entitlements and 20 ms of added latency, and
prints, measured side by side in one run, the median time of one page read by
`OpfClient.read_entitlements` (token from the cache, headers, bounded read, the adapter's
parsing into typed records) against a bare keep-alive `requests.get` of the same page and
`json.loads`, their ratio, and the rate of reading every page with `entitlement_reads.all_pages`.

    .venv/bin/python bench/opf_reads.py [--entitlements 20000] [--page-size 1000] [--latency-ms 20]
"""

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import sandbox_process  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entitlements", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=20)
    args = parser.parse_args()

    product = json.loads((ROOT / "entitlements/demo_data/catalogue.json").read_text())[0]
    rows = [
        {
            "entitlementId": f"BENCH-{i:06d}",
            "accountId": f"ACC-{i // 3:06d}",
            "productId": product["productId"],
        }
        for i in range(args.entitlements)
    ]
    with sandbox_process(rows, latency_ms=args.latency_ms) as sandbox:
        run(sandbox.url, args)


def run(url: str, args: argparse.Namespace) -> None:
    import requests
    from django.core.cache.backends.locmem import LocMemCache

    from entitlements.opf import OpfClient, OpfConfig, entitlement_reads

    token_url = f"{url}/keycloak/auth/realms/opf/protocol/openid-connect/token"
    config = OpfConfig(
        base_url=url,
        token_url=token_url,
        token_grant="password",
        client_id="opf-operator",
        username="careportal",
        password="careportal-sandbox-password",
    )
    client = OpfClient(config, LocMemCache(f"bench-{uuid.uuid4().hex}", {}))
    bare = requests.Session()
    grant = {
        "grant_type": "password",
        "client_id": "opf-operator",
        "username": "careportal",
        "password": "careportal-sandbox-password",
    }
    token = bare.post(token_url, data=grant, timeout=5).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    size = args.page_size
    params = entitlement_reads.query(account_id=None, page_index=1, page_size=size)

    def bare_page() -> int:
        answer = bare.get(
            url + config.entitlements_path, params=params, headers=headers, timeout=30
        )
        return len(answer.json()["entitlements"])

    def client_page() -> int:
        page = client.read_entitlements(page_index=1, page_size=size, correlation_id="bench")
        return len(page.entitlements)

    bare_page(), client_page()  # warm: connections, token
    timings: dict[str, list[float]] = {"bare": [], "client": []}
    for _ in range(args.rounds):  # interleaved, so both see the same machine
        for name, read in (("bare", bare_page), ("client", client_page)):
            started = time.perf_counter()
            assert read() == size
            timings[name].append((time.perf_counter() - started) * 1000)
    bare_ms, client_ms = (statistics.median(timings[n]) for n in ("bare", "client"))

    started = time.perf_counter()
    pages = entitlement_reads.all_pages(client, correlation_id="bench-all", page_size=size)
    total = sum(len(page.entitlements) for page in pages)
    elapsed = time.perf_counter() - started
    assert total == args.entitlements

    print(
        f"{args.entitlements} entitlements, page size {size}, "
        f"sandbox latency {args.latency_ms:g} ms"
    )
    print(f"one page, median of {args.rounds}:  bare GET + json {bare_ms:7.1f} ms")
    print(f"                          OpfClient read  {client_ms:7.1f} ms")
    print(f"                          ratio            {client_ms / bare_ms:7.2f}")
    print(
        f"all pages (all_pages): {total} in {elapsed:.2f} s = {total / elapsed:,.0f} entitlements/s"
    )


if __name__ == "__main__":
    main()
