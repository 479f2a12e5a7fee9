"""python -m entitlements.opf_sandbox: run the sandbox until Ctrl-C or SIGTERM.

The first line on stdout is always "OPF sandbox listening on <url>", so a script or a test that
starts it with --port 0 can read the port the OS picked.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .data import DataError, read_rows
from .keycloak import Credentials
from .notifier import DEMO_SECRET
from .routing import CHANGE_PREFIX, CHANGE_SUFFIX
from .server import Sandbox


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = Credentials()
    parser = argparse.ArgumentParser(
        prog="python -m entitlements.opf_sandbox",
        description="A stand-in for OPF's TPES changeProduct API and its Keycloak token endpoint.",
    )
    parser.add_argument("--port", type=int, default=8099, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--catalogue", help="products, JSON list or CSV")
    parser.add_argument("--entitlements", help="entitlements, JSON list or CSV")
    parser.add_argument(
        "--confirm-later",
        default="",
        metavar="PROVIDER,...",
        help="providers whose changes are answered 202 (awaiting confirmation)",
    )
    parser.add_argument("--token-lifetime", type=float, default=300, help="seconds")
    parser.add_argument("--refresh-token-lifetime", type=float, default=1800, help="seconds")
    parser.add_argument(
        "--auth-failure-status",
        type=int,
        choices=(401, 403),
        default=403,
        help="the answer to a missing, invalid or expired token",
    )
    parser.add_argument("--realm", default=defaults.realm)
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--username", default=defaults.username)
    parser.add_argument("--password", default=defaults.password)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument(
        "--notify-url",
        help="the portal's notification endpoint, e.g. http://127.0.0.1:8000/opf/notifications; "
        "when set, a 202 is followed by a signed CHANGE_CONFIRMED or CHANGE_DECLINED",
    )
    parser.add_argument(
        "--notify-secret", default=DEMO_SECRET, help="whsec_... (default: the portal's demo one)"
    )
    parser.add_argument(
        "--notify-delay", type=float, default=2.0, help="seconds the provider takes to decide"
    )
    parser.add_argument(
        "--notify-decision",
        default="confirm",
        metavar="DECISION",
        help="confirm or decline, optionally per provider: DisneyPlus_EU=decline,confirm",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="keep OPF's catalogue and entitlements in FILE: read at start when it exists "
        "(instead of --catalogue and --entitlements), rewritten after every change",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        sandbox = Sandbox(
            port=args.port,
            host=args.host,
            products=read_rows(args.catalogue) if args.catalogue else None,
            entitlements=read_rows(args.entitlements) if args.entitlements else None,
            confirm_later=[p.strip() for p in args.confirm_later.split(",") if p.strip()],
            token_lifetime=args.token_lifetime,
            refresh_token_lifetime=args.refresh_token_lifetime,
            auth_failure_status=args.auth_failure_status,
            credentials=Credentials(
                realm=args.realm,
                client_id=args.client_id,
                username=args.username,
                password=args.password,
                client_secret=args.client_secret,
            ),
            verbose=args.verbose,
            state_file=args.state,
            notify_url=args.notify_url,
            notify_secret=args.notify_secret,
            notify_delay=args.notify_delay,
            notify_decision=args.notify_decision,
        )
        sandbox.start()
    except (DataError, ValueError, OSError) as exc:
        print(f"opf_sandbox: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"OPF sandbox listening on {sandbox.url}", flush=True)
    print(f"  token endpoint: {sandbox.token_url}")
    print(f"  changeProduct:  {sandbox.url}{CHANGE_PREFIX}{{entitlementId}}{CHANGE_SUFFIX}")
    print(f"  requests seen:  {sandbox.url}/_sandbox/")
    if args.notify_url:
        print(f"  notifications:  {args.notify_url} after {args.notify_delay:g} s")
    print(
        f"  {len(sandbox.products())} products, {len(sandbox.entitlements())} entitlements",
        flush=True,
    )
    stop.wait()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
