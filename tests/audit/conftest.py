"""Fixtures for the audit chain tests: sealed changes, and tampering as the tables' owner."""

import contextlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.factories import change

AUDIT_TABLES = ("entitlements_changeattempt", "entitlements_seal", "entitlements_chainhead")


def make_change(user, entitlement_id="ENT-NFX-1", product_id="Netflix_EU_B_BUNDLE_PREMIUM"):
    return change(entitlement_id, product_id, user)


@pytest.fixture
def sealed_changes(sandbox, world, agent):
    """Three finished changes: six seals (created, finished) in the chain."""
    return [
        make_change(agent, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM"),
        make_change(agent, "ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC"),
        make_change(agent, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_BASIC"),
    ]


@contextlib.contextmanager
def triggers_disabled():
    """What the tables' owner can do: switch the append-only triggers off (PostgreSQL)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        # The test's transaction holds deferred foreign-key checks; ALTER TABLE wants none.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def tamper(*statements):
    with triggers_disabled(), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def verify_audit(*args) -> str:
    """Run manage.py verify_audit; its output line, or 'BROKEN ' + its error."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as exc:
        return f"BROKEN {exc}"
    return out.getvalue().strip()
