"""--state FILE: a restarted sandbox goes on where it stopped (bin/demo's restart)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import requests

from entitlements.opf_sandbox.data import DataError
from entitlements.opf_sandbox.server import Sandbox

from .helpers import DATA, DISNEY_PREMIUM, ENTITLEMENTS, PASSWORD_GRANT, PRODUCTS, ROOT, STANDARD


def _start(state, *extra):
    command = [sys.executable, "-m", "entitlements.opf_sandbox", "--port", "0", "--state", state]
    command += ["--catalogue", str(DATA / "catalogue.csv")]
    command += ["--entitlements", str(DATA / "entitlements.csv"), *extra]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    match = re.fullmatch(r"OPF sandbox listening on (http://127\.0\.0\.1:\d+)\n", first)
    assert match, first
    return process, match.group(1)


def _stop(process):
    process.terminate()
    assert process.wait(timeout=5) == 0


def _change(url, entitlement_id, product_id):
    token_url = f"{url}/keycloak/auth/realms/opf/protocol/openid-connect/token"
    token = requests.post(token_url, data=PASSWORD_GRANT, timeout=5).json()["access_token"]
    return requests.post(
        f"{url}/tpes/v1/operator/entitlements/{entitlement_id}/actions/changeProduct",
        json={"productId": product_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def _held(url):
    listed = requests.get(f"{url}/_sandbox/entitlements", timeout=5).json()
    return {e["entitlementId"]: (e["productId"], e["pendingProductId"]) for e in listed}


def test_a_restart_with_the_same_state_file_keeps_the_changes(tmp_path):
    state = str(tmp_path / "opf-state.json")
    process, url = _start(state, "--confirm-later", "DisneyPlus_EU")
    try:
        assert _change(url, "ent-netflix-1", STANDARD).status_code == 200
        assert _change(url, "ent-disney-1", DISNEY_PREMIUM).status_code == 202
    finally:
        _stop(process)

    # Started again from the same demo files: the state file wins over them.
    process, url = _start(state)
    try:
        held = _held(url)
    finally:
        _stop(process)
    assert held["ent-netflix-1"] == (STANDARD, None)
    assert held["ent-disney-1"] == ("DisneyPlus_EU_STANDARD", DISNEY_PREMIUM)  # still waiting
    assert held["ent-cancelled"] == ("Netflix_EU_B_BUNDLE_STANDARD", None)


def test_without_a_state_file_yet_the_data_files_are_loaded_and_saved(tmp_path):
    state = tmp_path / "opf-state.json"
    with Sandbox(products=PRODUCTS, entitlements=ENTITLEMENTS, state_file=state) as sandbox:
        sandbox.emit_status_change("ent-netflix-1", "SUSPENDED")
    saved = json.loads(state.read_text())
    assert len(saved["products"]) == len(PRODUCTS)
    assert len(saved["entitlements"]) == len(ENTITLEMENTS)
    netflix = next(e for e in saved["entitlements"] if e["entitlementId"] == "ent-netflix-1")
    assert netflix["status"] == "SUSPENDED"
    # Written by a rename: no temporary file is left beside it.
    assert [p.name for p in tmp_path.iterdir()] == ["opf-state.json"]


def test_a_broken_state_file_is_refused_not_replaced(tmp_path):
    state = tmp_path / "opf-state.json"
    state.write_text('{"products": []}')
    with pytest.raises(DataError, match="entitlements"):
        Sandbox(products=PRODUCTS, entitlements=ENTITLEMENTS, state_file=state)
    assert state.read_text() == '{"products": []}'
