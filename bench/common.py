"""What the benches share: the OPF sandbox in a process of its own, and a throwaway database."""

import contextlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_CATALOGUE = ROOT / "entitlements/demo_data/catalogue.json"


class SandboxProcess:
    def __init__(self, url: str) -> None:
        self.url = url
        self.token_url = f"{url}/keycloak/auth/realms/opf/protocol/openid-connect/token"

    def change_product_url(self, entitlement_id: str) -> str:
        return f"{self.url}/tpes/v1/operator/entitlements/{entitlement_id}/actions/changeProduct"


@contextlib.contextmanager
def sandbox_process(entitlements: list[dict] | Path, *, latency_ms: float, products=None):
    """The sandbox in its own process, as in the demo (it must not share the bench's GIL), with
    `entitlements` (a list, or a JSON file of one) and `products` (default: the demo catalogue),
    `latency_ms` added to every request. Data goes by file: a large world is too big to POST."""
    import requests

    with tempfile.TemporaryDirectory(prefix="careportal-bench-sandbox-") as tmp:
        catalogue = DEMO_CATALOGUE
        if products is not None:
            catalogue = Path(tmp, "catalogue.json")
            catalogue.write_text(json.dumps(products))
        if not isinstance(entitlements, Path):
            Path(tmp, "entitlements.json").write_text(json.dumps(entitlements))
            entitlements = Path(tmp, "entitlements.json")
        proc = subprocess.Popen(
            [sys.executable, "-m", "entitlements.opf_sandbox", "--port", "0",
             "--catalogue", str(catalogue), "--entitlements", str(entitlements)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
            requests.post(
                f"{url}/_sandbox/settings", json={"latency_ms": latency_ms}, timeout=5
            ).raise_for_status()
            yield SandboxProcess(url)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@contextlib.contextmanager
def throwaway_database(tmp: Path, **create):
    """A migrated test database (SQLite: a file in `tmp`, not the test suite's in var/;
    PostgreSQL: test_<name>), dropped at the end. Django must be set up."""
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(tmp / "bench-test.sqlite3")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, **create)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
