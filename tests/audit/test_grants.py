"""The database enforces its part (PostgreSQL): the app's role cannot rewrite the audit.

Migrations and the suite run as the owner (pytest-django creates the test database); these
tests apply docs/audit-grants.sql to that database for a restricted role (AUDIT_APP_ROLE,
default careportal_app, created here if missing) and then act as that role: its refusals, a
real change made through it, and check_audit_grants passing for it and failing for the owner.
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from entitlements.models import Seal

from .conftest import make_change, verify_audit

ROOT = Path(__file__).resolve().parents[2]
ROLE = os.environ.get("AUDIT_APP_ROLE", "careportal_app")

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("grants and triggers are PostgreSQL's")


def test_on_sqlite_it_says_it_only_applies_to_postgresql(db, capsys):
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite answer")
    call_command("check_audit_grants")
    assert "only applies to PostgreSQL" in capsys.readouterr().out


def _app_role_url() -> str:
    settings = connection.settings_dict
    return f"postgres://{ROLE}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


@pytest.fixture
def app_role(postgres, transactional_db):
    """The restricted role, granted as docs/audit-grants.sql says, on the test database."""
    sql = (ROOT / "docs" / "audit-grants.sql").read_text()
    grants = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE ROLE "{ROLE}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        cursor.execute(grants.replace(':"app_role"', f'"{ROLE}"'))
    return _app_role_url()


def test_the_owner_fails_the_check_naming_what_is_wrong(postgres, db):
    with pytest.raises(CommandError) as refused:
        call_command("check_audit_grants")
    assert "is a superuser" in str(refused.value)
    assert "owns entitlements_seal: an owner can disable its triggers" in str(refused.value)
    assert "has UPDATE on entitlements_seal" in str(refused.value)


def test_a_disabled_or_missing_trigger_is_named(postgres, db):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE entitlements_seal DISABLE TRIGGER entitlements_seal_append_only"
        )
        cursor.execute("DROP TRIGGER entitlements_chainhead_forward_only ON entitlements_chainhead")
    with pytest.raises(CommandError) as refused:
        call_command("check_audit_grants")
    assert "trigger entitlements_seal_append_only on entitlements_seal is disabled" in str(
        refused.value
    )
    assert "trigger entitlements_chainhead_forward_only on entitlements_chainhead is missing" in (
        str(refused.value)
    )


def _manage(url: str, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": url, "LOG_LEVEL": "WARNING", **env},
    )


def test_the_app_role_passes_the_check(app_role):
    result = _manage(app_role, "check_audit_grants")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"audit grants OK: role {ROLE} owns no audit table")


def test_the_app_role_is_refused_every_rewrite(app_role, sandbox, world, agent):
    change = make_change(agent)
    with psycopg.connect(app_role.replace("postgres://", "postgresql://"), autocommit=True) as db:
        for sql in (
            f"DELETE FROM entitlements_changeattempt WHERE id = {change.pk}",
            "TRUNCATE entitlements_changeattempt CASCADE",
            "UPDATE entitlements_seal SET content = 'x'",
            "DELETE FROM entitlements_seal",
            "TRUNCATE entitlements_seal",
            "DELETE FROM entitlements_chainhead",
            "ALTER TABLE entitlements_changeattempt DISABLE TRIGGER USER",
            "ALTER TABLE entitlements_seal DISABLE TRIGGER USER",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute(sql)
        # What the triggers refuse even where a grant allows it: editing a finished record.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="finished"):
            db.execute(
                f"UPDATE entitlements_changeattempt SET comment = 'x' WHERE id = {change.pk}"
            )
    assert Seal.objects.count() == 2 and verify_audit().startswith("audit chain intact: 2 seals")


def test_a_change_made_through_the_app_role_is_sealed(app_role, sandbox, world, agent):
    result = _manage(
        app_role, "change_product", "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM",
        "--user", "agent", "--reason", "customer_upgrade",
        OPF_BASE_URL=sandbox.url, OPF_TOKEN_URL=sandbox.token_url, OPF_TOKEN_GRANT="password",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "completed" in result.stdout
    assert list(Seal.objects.values_list("kind", flat=True)) == [
        "change.created", "change.finished"
    ]
    checked = _manage(app_role, "verify_audit")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("audit chain intact: 2 seals from 1, 1 records match")
