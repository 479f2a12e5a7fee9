"""Row R3: a change awaiting confirmation past CONFIRMATION_DEADLINE is flagged for
supervisors, and `manage.py report_overdue` reports it with a non-zero exit status."""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from entitlements.models import ChangeAttempt
from entitlements.outcomes import Outcome
from entitlements.selectors import (
    notifications_for_review,
    overdue_changes,
    unknown_outcome_changes,
)
from tests.factories import change

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def awaiting(sandbox, world, agent):
    return change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)


@pytest.fixture
def unknown(sandbox, world, agent):
    sandbox.inject("change_product", "status", status=504)
    return change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)


def test_r3_a_change_is_overdue_only_after_the_deadline(awaiting, settings):
    settings.CONFIRMATION_DEADLINE = 24 * 3600
    now = timezone.now()
    assert awaiting.outcome == Outcome.AWAITING_CONFIRMATION
    assert list(overdue_changes(now=now)) == []
    assert awaiting not in overdue_changes(now=now)

    later = now + timedelta(hours=24, seconds=1)
    assert list(overdue_changes(now=later)) == [awaiting]
    assert awaiting in overdue_changes(now=later)

    settings.CONFIRMATION_DEADLINE = 60
    assert list(overdue_changes(now=now + timedelta(seconds=61))) == [awaiting]


def test_r3_a_confirmed_or_declined_change_is_never_overdue(awaiting, settings):
    settings.CONFIRMATION_DEADLINE = 60
    ChangeAttempt.objects.filter(pk=awaiting.pk).update(outcome=Outcome.CONFIRMED)
    assert list(overdue_changes(now=timezone.now() + timedelta(days=30))) == []


def test_supervisor_lists_are_newest_first(sandbox, world, agent, unknown):
    sandbox.inject("change_product", "status", status=504)
    second = change("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", agent)
    assert list(unknown_outcome_changes()) == [second, unknown]
    assert list(notifications_for_review()) == []


def test_report_exits_0_when_nothing_needs_attention(world, capsys):
    call_command("report_overdue")
    out = capsys.readouterr().out
    assert "Awaiting confirmation for more than 24h00m: 0" in out
    assert "Outcome unknown: 0" in out


def test_report_lists_overdue_and_unknown_changes_and_exits_1(awaiting, unknown, settings, capsys):
    settings.CONFIRMATION_DEADLINE = 1
    time.sleep(1.1)
    with pytest.raises(CommandError) as failed:
        call_command("report_overdue")
    assert failed.value.returncode == 1
    out = capsys.readouterr().out
    assert "Awaiting confirmation for more than 0h00m: 1" in out
    assert awaiting.correlation_id in out and "entitlement ENT-DSN-1" in out
    assert "DisneyPlus_EU_STANDARD -> DisneyPlus_EU_PREMIUM" in out and "agent agent" in out
    assert "Outcome unknown: 1" in out and unknown.correlation_id in out


def test_report_as_json(awaiting, unknown, settings, capsys):
    settings.CONFIRMATION_DEADLINE = 1
    time.sleep(1.1)
    with pytest.raises(CommandError):
        call_command("report_overdue", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["confirmation_deadline_seconds"] == 1
    [overdue] = report["overdue"]
    assert overdue["correlation_id"] == awaiting.correlation_id
    assert overdue["entitlement"] == "ENT-DSN-1" and overdue["agent"] == "agent"
    assert overdue["age_seconds"] >= 1
    assert [r["correlation_id"] for r in report["outcome_unknown"]] == [unknown.correlation_id]


@pytest.mark.parametrize(
    "value, seconds",
    [("86400", 86400), ("90m", 5400), ("24h", 86400), ("2d", 172800), (" 30S ", 30)],
)
def test_confirmation_deadline_accepts_seconds_or_a_unit(value, seconds):
    from careportal.settings.env import parse_duration

    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "0", "-5", "1.5h", "24 h", "h", "1w"])
def test_confirmation_deadline_refuses_anything_else(value):
    from careportal.settings.env import parse_duration

    with pytest.raises(ValueError):
        parse_duration(value)


def _settings_in_a_fresh_process(**env):
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import careportal.settings as s; print(s.CONFIRMATION_DEADLINE)"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_deadline_stops_the_portal_at_start():
    result = _settings_in_a_fresh_process(DEBUG="true", CONFIRMATION_DEADLINE="soon")
    assert result.returncode != 0 and "CONFIRMATION_DEADLINE" in result.stderr


def test_production_needs_real_notification_secrets():
    production = {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "OPF_BASE_URL": "https://opf.example",
        "OPF_TOKEN_URL": "https://opf.example/token",
        "OPF_CLIENT_ID": "c",
        "OPF_USERNAME": "u",
        "OPF_PASSWORD": "p",
        "OIDC_ISSUER": "https://sso.example/realms/x",
        "OIDC_RP_CLIENT_ID": "c",
        "OIDC_RP_CLIENT_SECRET": "s",
    }
    missing = _settings_in_a_fresh_process(**production, OPF_NOTIFICATION_SECRETS="")
    assert missing.returncode != 0 and "OPF_NOTIFICATION_SECRETS" in missing.stderr
    demo = "whsec_Y2FyZS1wb3J0YWwtZGVtby1ub3RpZmljYXRpb24ta2V5LTMyYiE="
    reused = _settings_in_a_fresh_process(**production, OPF_NOTIFICATION_SECRETS=demo)
    assert reused.returncode != 0 and "OPF_NOTIFICATION_SECRETS" in reused.stderr
    bad = _settings_in_a_fresh_process(**production, OPF_NOTIFICATION_SECRETS="whsec_!!")
    assert bad.returncode != 0 and "OPF_NOTIFICATION_SECRETS" in bad.stderr
    good = "whsec_" + "cHJvZHVjdGlvbi1ub3RpZmljYXRpb24ta2V5"
    ok = _settings_in_a_fresh_process(**production, OPF_NOTIFICATION_SECRETS=f"{good}, {good}")
    assert ok.returncode == 0, ok.stderr
