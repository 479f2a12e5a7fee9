"""Verifiable exports: the audit CSV with seals, checked offline by docs/verify_export.py."""

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from entitlements.models import ChangeAttempt, Seal
from tests.factories import change

from .conftest import make_change

pytestmark = pytest.mark.django_db

EXPORT = "/admin/entitlements/changeattempt/export/"
SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_export.py"


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


def download(client, query="?seals=1") -> str:
    response = client.get(EXPORT + query)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def offline_verify(tmp_path, text: str, *args) -> subprocess.CompletedProcess:
    path = tmp_path / "audit-log.csv"
    path.write_text(text, encoding="utf-8", newline="")
    # A bare interpreter (-I: no site-packages, no project on the path): standard library only.
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(path), *args],
        capture_output=True, text=True, timeout=30, cwd=tmp_path,
    )


@pytest.fixture
def sealed_log(sandbox, world, agent, supervisor):
    make_change(agent, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    make_change(agent, "ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC")
    # Awaiting confirmation (202), with a comment that looks like a formula and non-ASCII text.
    change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent, comment='=SUM(A1) "Zoë", line\r\nbreak')


def test_a_real_export_verifies_offline(supervisor_client, sealed_log, tmp_path):
    text = download(supervisor_client)
    rows = list(csv.reader(io.StringIO(text)))
    head = Seal.objects.order_by("-sequence").first()
    assert rows[-1] == ["chain head", str(head.sequence), head.hash]
    assert len(rows) == 2 + ChangeAttempt.objects.count()
    result = offline_verify(tmp_path, text, "--head", f"{head.sequence}:{head.hash}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == (
        f"export intact: 3 records match their seals, chain head {head.sequence}:{head.hash}"
    )


def test_an_edited_export_fails_offline(supervisor_client, sealed_log, tmp_path):
    text = download(supervisor_client)
    rows = list(csv.reader(io.StringIO(text)))
    outcome = rows[0].index("outcome")
    edited = [row[:] for row in rows]
    edited[1][outcome] = "rejected" if edited[1][outcome] != "rejected" else "completed"
    out = io.StringIO()
    csv.writer(out).writerows(edited)
    result = offline_verify(tmp_path, out.getvalue())
    assert result.returncode == 1
    assert result.stdout.startswith(f"BROKEN: line 2: record {rows[1][0]} does not match its seal")


def test_a_dropped_row_or_another_head_fails_offline(supervisor_client, sealed_log, tmp_path):
    text = download(supervisor_client)
    assert offline_verify(tmp_path, text, "--head", "1:" + "0" * 64).returncode == 1
    rows = list(csv.reader(io.StringIO(text)))
    forged_head = [*rows[:-1], ["chain head", "2", rows[-1][2]]]
    out = io.StringIO()
    csv.writer(out).writerows(forged_head)
    result = offline_verify(tmp_path, out.getvalue())
    assert result.returncode == 1 and "comes after the chain head 2" in result.stdout


def test_the_plain_export_is_unchanged_by_seals(supervisor_client, sealed_log, tmp_path):
    rows = list(csv.reader(io.StringIO(download(supervisor_client, ""))))
    assert "seal hash" not in rows[0] and rows[-1][0] != "chain head"
    assert offline_verify(tmp_path, download(supervisor_client, "")).returncode == 1
    # Filters still apply beside ?seals=1.
    rows = list(csv.reader(io.StringIO(download(supervisor_client, "?seals=1&q=ENT-NFX-2"))))
    assert [r[rows[0].index("entitlement id")] for r in rows[1:-1]] == ["ENT-NFX-2"]
