"""Once the change may have left for OPF, the agent is never told "nothing was sent" (issue 9,
item 3): OPF's answer is stored whatever bytes it holds, and a failure to record it marks the
change "outcome unknown" at once, or (database gone) tells the agent the truth."""

import base64
import threading
import time

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from entitlements.models import ChangeAttempt, Entitlement
from entitlements.opf.results import MAX_BODY_BYTES
from entitlements.outcomes import Outcome

from .conftest import confirm, entitlement_url, messages_of, review

pytestmark = pytest.mark.django_db(transaction=True)
PREMIUM = "Netflix_EU_B_BUNDLE_PREMIUM"


def _answer(sandbox, status: int, body: bytes, **params) -> None:
    encoded = base64.b64encode(body).decode()
    sandbox.inject("change_product", "status", status=status, body_base64=encoded, **params)


def _confirm_change(client):
    return confirm(client, "ENT-NFX-1", review(client, "ENT-NFX-1", PREMIUM))


@pytest.mark.parametrize(
    ("status", "body", "outcome", "opf_message"),
    [
        (200, b'{"result": "done\x00", "note": "\xff\xfe not UTF-8"}', Outcome.COMPLETED, ""),
        (400, b'{"message": "bad \\u0000 product \\ud800"}', Outcome.REJECTED,
         "bad \ufffd product \ufffd"),
        (400, b"bad\x00product \xff", Outcome.REJECTED, "bad\ufffdproduct \ufffd"),
        (200, (b"\x00\xc3(" * 30000)[: MAX_BODY_BYTES + 5000], Outcome.COMPLETED, ""),
    ],
    ids=["NUL and invalid UTF-8", "JSON-escaped NUL and lone surrogate", "raw NUL in a 400",
         "large"],
)  # fmt: skip
def test_opfs_answer_is_stored_whatever_bytes_it_holds(
    agent_client, supervisor, world, sandbox, status, body, outcome, opf_message
):
    _answer(sandbox, status, body, apply=status == 200)
    response = _confirm_change(agent_client)
    assert response.status_code == 302, response.content[:500]
    page = agent_client.get(response["Location"])
    [message] = messages_of(page)
    assert message.startswith("Change completed" if status == 200 else "Change rejected by OPF")

    attempt = ChangeAttempt.objects.get()
    assert attempt.outcome == outcome and attempt.http_status == status
    assert bytes(attempt.response_bytes) == body[:MAX_BODY_BYTES]  # exactly, as OPF sent it
    assert "\x00" not in attempt.response_body
    assert attempt.response_body.encode() == body[:4000] or "\ufffd" in attempt.response_body
    assert attempt.opf_message == opf_message
    # Supervisors read it on the audit record and in the export.
    agent_client.force_login(supervisor)
    record = agent_client.get(reverse("admin:entitlements_changeattempt_change", args=[attempt.pk]))
    assert record.status_code == 200
    if status == 200 and len(body) < 100:
        assert escape(repr(body)) in record.content.decode()  # the exact bytes
    export = agent_client.get(reverse("admin:entitlements_changeattempt_export"))
    assert export.status_code == 200
    assert attempt.correlation_id in b"".join(export.streaming_content).decode()


def _when_opf_has_it(sandbox, then) -> threading.Thread:
    """Run `then()` in a thread as soon as OPF received the change (while it is held)."""

    def wait_then():
        deadline = time.monotonic() + 10
        while not sandbox.requests("change_product") and time.monotonic() < deadline:
            time.sleep(0.01)
        then()

    thread = threading.Thread(target=wait_then)
    thread.start()
    return thread


@pytest.mark.postgres_only
def test_the_database_dying_during_the_call_marks_the_outcome_unknown_at_once(
    agent_client, world, sandbox
):
    if connection.vendor != "postgresql":
        pytest.skip("a backend terminated from another connection is PostgreSQL's")
    # OPF makes the change and answers 200 after 1.5 s; meanwhile the portal's database
    # connection is killed by the server, as in a database restart.
    sandbox.inject("change_product", "latency", ms=1500)
    confirmation = review(agent_client, "ENT-NFX-1", PREMIUM)
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict

    def terminate():
        with psycopg.connect(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
            dbname=db["NAME"], autocommit=True,
        ) as admin:  # fmt: skip
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    killer = _when_opf_has_it(sandbox, terminate)
    response = confirm(agent_client, "ENT-NFX-1", confirmation)
    killer.join(timeout=10)

    assert response.status_code == 302, response.content[:500]
    assert connection.connection.info.backend_pid != pid  # it really was a new connection
    page = agent_client.get(response["Location"])
    [message] = messages_of(page)
    assert "outcome unknown, do not resubmit" in message
    attempt = ChangeAttempt.objects.get()
    assert attempt.outcome == Outcome.OUTCOME_UNKNOWN  # at once, not minutes later
    assert attempt.http_status == 200 and "could not record" in attempt.detail
    assert Entitlement.objects.get(opf_id="ENT-NFX-1").needs_review
    assert len(sandbox.requests("change_product")) == 1  # nothing resent


def test_the_database_gone_for_good_leaves_the_change_for_reconcile_and_tells_the_truth(
    agent_client, world, sandbox
):
    sandbox.inject("change_product", "latency", ms=1500)
    confirmation = review(agent_client, "ENT-NFX-1", PREMIUM)
    wrapper = connections["default"]
    wrapper.ensure_connection()
    saved = dict(wrapper.settings_dict)

    def database_gone():
        if wrapper.vendor == "sqlite":
            wrapper.close()
            wrapper.settings_dict["NAME"] = "/nonexistent-dir/careportal.sqlite3"
        else:
            db, pid = wrapper.settings_dict, wrapper.connection.info.backend_pid
            with psycopg.connect(
                host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                dbname=db["NAME"], autocommit=True,
            ) as admin:  # fmt: skip
                wrapper.settings_dict["PORT"] = "1"
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    wrapper.inc_thread_sharing()
    try:
        killer = _when_opf_has_it(sandbox, database_gone)
        agent_client.raise_request_exception = False
        response = confirm(agent_client, "ENT-NFX-1", confirmation)
        killer.join(timeout=10)
    finally:
        wrapper.dec_thread_sharing()
        wrapper.close()
        wrapper.settings_dict.clear()
        wrapper.settings_dict.update(saved)

    text = response.content.decode()
    assert response.status_code == 503, text[:500]
    assert "outcome unknown, do not resubmit" in text
    assert "nothing was sent" not in text.lower()
    attempt = ChangeAttempt.objects.get()
    assert attempt.outcome == Outcome.IN_FLIGHT  # nothing could be written
    call_command("reconcile_changes", "--older-than", "0")
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.OUTCOME_UNKNOWN
    assert len(sandbox.requests("change_product")) == 1
    page = agent_client.get(entitlement_url("ENT-NFX-1"))
    assert page.status_code == 200


def test_the_error_page_never_claims_nothing_was_sent():
    page = render_to_string("500.html", {"error_id": "abc"})
    assert "nothing was sent" not in page.lower()
    assert "do not resubmit" in page.lower()
