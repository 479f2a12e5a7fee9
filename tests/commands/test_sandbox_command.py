"""`manage.py opf_sandbox` starts the same sandbox as `python -m entitlements.opf_sandbox`."""

import os
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_manage_py_opf_sandbox_serves_on_the_chosen_port():
    env = dict(os.environ, DEBUG="true", DJANGO_SETTINGS_MODULE="careportal.settings")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "opf_sandbox", "--port", "0", "--confirm-later", "X"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("OPF sandbox listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[-1]
        assert requests.get(f"{url}/_sandbox/settings", timeout=5).json()["confirm_later"] == ["X"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
