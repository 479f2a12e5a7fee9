"""python -m entitlements.opf_sandbox, as the demo starts it."""

from __future__ import annotations

import re
import subprocess
import sys

import requests

from .helpers import DATA, DISNEY_PREMIUM, PASSWORD_GRANT, ROOT


def test_command_line_serves_the_given_files(tmp_path):
    command = [
        sys.executable,
        "-m",
        "entitlements.opf_sandbox",
        "--port",
        "0",
        "--catalogue",
        str(DATA / "catalogue.csv"),
        "--entitlements",
        str(DATA / "entitlements.csv"),
        "--confirm-later",
        "DisneyPlus_EU",
        "--token-lifetime",
        "60",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        match = re.fullmatch(r"OPF sandbox listening on (http://127\.0\.0\.1:\d+)\n", first)
        assert match, first
        url = match.group(1)
        token_url = f"{url}/keycloak/auth/realms/opf/protocol/openid-connect/token"
        tokens = requests.post(token_url, data=PASSWORD_GRANT, timeout=5).json()
        assert tokens["expires_in"] == 60
        answer = requests.post(
            f"{url}/tpes/v1/operator/entitlements/ent-disney-1/actions/changeProduct",
            json={"productId": DISNEY_PREMIUM},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            timeout=5,
        )
        assert answer.status_code == 202
        records = requests.get(f"{url}/_sandbox/requests", timeout=5).json()
        assert [r["kind"] for r in records] == ["token", "change_product"]
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


def test_command_line_reports_bad_data_files(tmp_path):
    bad = tmp_path / "catalogue.json"
    bad.write_text('{"not": "a list"}')
    done = subprocess.run(
        [sys.executable, "-m", "entitlements.opf_sandbox", "--port", "0", "--catalogue", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 2
    assert "expected a JSON list" in done.stderr and "Traceback" not in done.stderr
