"""bin/demo's options, short of starting the servers (the demo's restart: test_demo_restart)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _demo(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "bin" / "demo"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_help_names_the_ports_the_reset_and_what_is_kept():
    done = _demo("--help")
    assert done.returncode == 0
    for words in ("PORTAL_PORT", "8000", "SANDBOX_PORT", "8099", "OIDC_PORT", "9400", "--reset"):
        assert words in done.stdout
    assert "var/opf-sandbox-state.json" in done.stdout and "CONFIRMATION_DEADLINE" in done.stdout


def test_an_unknown_option_is_refused_before_anything_starts():
    done = _demo("--rest")
    assert done.returncode == 2
    assert "unknown option --rest" in done.stderr and "Usage: bin/demo" in done.stderr


def test_reset_refuses_a_database_it_does_not_own(tmp_path):
    database = tmp_path / "other.sqlite3"
    database.write_text("not the demo's")
    done = _demo("--reset", DATABASE_URL=f"sqlite:///{database}")
    assert done.returncode == 2
    assert "unset DATABASE_URL" in done.stderr
    assert database.read_text() == "not the demo's"
