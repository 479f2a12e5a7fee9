"""Log lines as text and as JSON (LOG_FORMAT=json): a change's lines carry its correlation id,
user, entitlement and outcome; no token, password or secret on any line, in either format."""

import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from entitlements.outcomes import Outcome
from tests.factories import change

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(params=["text", "json"])
def portal_log(request):
    """The project's console handler (its formatter and filter from settings.LOGGING, in the
    format asked for), writing to a buffer, on the portal's loggers."""
    config = settings.LOGGING
    formatter = (
        logging.config.DictConfigurator({}).configure_custom(dict(config["formatters"]["json"]))
        if request.param == "json"
        else logging.Formatter(config["formatters"]["text"]["format"])
    )
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    from careportal.logs import ChangeContextFilter

    handler.addFilter(ChangeContextFilter())
    loggers = [logging.getLogger(name) for name in ("entitlements", "careportal")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    buffer.format = request.param
    yield buffer
    for lg, (level, propagate) in zip(loggers, saved, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)
        lg.propagate = propagate


@pytest.mark.django_db
def test_change_lines_carry_the_change_and_no_secret_in_either_format(
    portal_log, sandbox, world, agent
):
    sandbox.inject("change_product", "reject_auth")  # a 401 first: token refreshed, resent
    completed = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    awaiting = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    assert completed.outcome == Outcome.COMPLETED
    assert awaiting.outcome == Outcome.AWAITING_CONFIRMATION
    text = portal_log.getvalue()
    lines = text.splitlines()
    assert len(lines) >= 8

    tokens = {
        p.header("authorization").removeprefix("Bearer ")
        for p in sandbox.requests()
        if p.header("authorization")
    }
    assert tokens and all(len(token) > 10 for token in tokens)
    for secret in (*tokens, settings.OPF_PASSWORD, settings.OPF_CLIENT_SECRET):
        assert secret not in text

    if portal_log.format == "text":
        assert not lines[0].startswith("{")
        assert sum(completed.correlation_id in line for line in lines) >= 4
        return
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
    for attempt in (completed, awaiting):
        about = [e for e in entries if e.get("correlation_id") == attempt.correlation_id]
        # the service's, the OPF client's and the token provider's lines
        loggers = {e["logger"] for e in about}
        assert "entitlements.services.changes" in loggers
        assert any(name.startswith("entitlements.opf.") for name in loggers), loggers
        for entry in about:
            assert entry["user"] == "agent"
            assert entry["entitlement"] == attempt.entitlement_opf_id
        assert about[-1]["outcome"] == attempt.outcome
        assert "outcome" not in about[0]  # not known when the change starts
    assert any(e["logger"] == "entitlements.opf.tokens" and "correlation_id" in e for e in entries)
    assert {e["level"] for e in entries} >= {"INFO"}


def test_json_log_lines_from_the_settings(tmp_path):
    """LOG_FORMAT=json as the portal starts: one JSON object per line, exceptions included."""
    probe = """
import logging
import django
django.setup()
from careportal.logs import change_log_context
log = logging.getLogger("entitlements.services")
log.info("plain line")
with change_log_context(correlation_id="c-1", user="agent", entitlement="ENT-1"):
    log.warning("about a change\\nwith a second line")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
log.info("after the change")
"""
    env = {
        **os.environ,
        "DEBUG": "true",
        "LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "careportal.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["message"] for e in entries] == [
        "plain line",
        "about a change\nwith a second line",
        "failed",
        "after the change",
    ]
    assert "correlation_id" not in entries[0] and "correlation_id" not in entries[3]
    assert entries[1]["correlation_id"] == "c-1" and entries[1]["user"] == "agent"
    assert entries[1]["entitlement"] == "ENT-1" and entries[1]["level"] == "WARNING"
    assert "ValueError: boom" in entries[2]["exception"]
    assert entries[0]["logger"] == "entitlements.services"
    assert entries[0]["time"].endswith("+00:00")

    env["LOG_FORMAT"] = "xml"
    refused = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0 and "LOG_FORMAT must be" in refused.stderr
