"""Errors are logged as errors, with the id the page shows; refused requests are not errors.

The log is read from the portal's real log handler (its filter and formatter as configured in
settings.LOGGING), not from a test capture beside it.
"""

import io
import logging
import re

import pytest
from django.urls import reverse

from tests.fixtures.outages import database_unreachable


@pytest.fixture
def portal_log():
    """What the portal's configured log handlers write, as text."""
    handlers = {
        handler
        for name in ("", "careportal", "django.request")
        for handler in logging.getLogger(name).handlers
        if isinstance(handler, logging.StreamHandler) and handler.get_name() == "console"
    }
    assert handlers, "settings.LOGGING has no console handler"
    stream = io.StringIO()
    previous = [(handler, handler.setStream(stream)) for handler in handlers]
    yield stream.getvalue
    for handler, old in previous:
        handler.setStream(old)


def _error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "ERROR" in line]


def test_an_agent_refused_the_audit_log_is_not_an_error(client, agent, portal_log):
    client.force_login(agent)

    response = client.get(reverse("admin:entitlements_changeattempt_changelist"))

    assert response.status_code == 403
    assert _error_lines(portal_log()) == []
    assert "Traceback" not in portal_log()


def test_break_glass_when_off_is_a_404_not_an_error(client, settings, portal_log, db):
    settings.BREAK_GLASS_LOGIN = False

    assert client.get("/break-glass/login/").status_code == 404
    assert client.get("/no-such-page/").status_code == 404

    assert _error_lines(portal_log()) == []
    assert "Traceback" not in portal_log()


def test_a_forged_host_header_is_a_warning_without_traceback(client, portal_log, db):
    response = client.get("/admin/", HTTP_HOST="attacker.example")

    assert response.status_code == 400
    text = portal_log()
    assert _error_lines(text) == []
    assert "Traceback" not in text
    [line] = [line for line in text.splitlines() if "attacker.example" in line]
    assert "WARNING" in line and "django.security.DisallowedHost" in line


def _error_id(response) -> str:
    match = re.search(r'id="error-id">([0-9a-f]{12})<', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_with_the_database_down_the_page_and_the_log_show_the_same_id(client, agent, portal_log):
    client.force_login(agent)  # a session the middleware must read from the database
    client.raise_request_exception = False
    with database_unreachable():
        response = client.get("/admin/")

    assert response.status_code == 500
    error_id = _error_id(response)
    text = portal_log()
    [line] = _error_lines(text)  # one line per 500: Django's own repeat is dropped
    assert f"error_id={error_id}" in line and "path=/admin/" in line
    assert "OperationalError" in text  # the traceback is in the log, not on the page
    assert "Traceback" not in response.content.decode()


def test_an_error_in_a_view_logs_the_id_the_page_shows(client, portal_log, db, failing_view):
    client.raise_request_exception = False
    response = client.get(failing_view)

    assert response.status_code == 500
    [line] = _error_lines(portal_log())
    assert f"error_id={_error_id(response)}" in line
