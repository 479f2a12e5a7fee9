"""The production server set-up (gunicorn.conf.py): a hanging OPF stalls no other page.

gunicorn runs in its own process on the test database, as in production; the OPF sandbox
hangs on changeProduct while a change is submitted through the real form.
"""

import html
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.urls import reverse

from entitlements.models import ChangeAttempt, Entitlement, Product
from tests.fixtures.outages import database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def serve(sandbox):
    """serve(*gunicorn_args) -> (base URL, log lines): gunicorn -c gunicorn.conf.py, 1 worker."""
    started = []

    def start(*args: str):
        env = dict(
            os.environ,
            DEBUG="true",
            DJANGO_SETTINGS_MODULE="careportal.settings",
            DATABASE_URL=database_url(),
            CACHE_URL="locmemcache://",
            OPF_BASE_URL=sandbox.url,
            OPF_TOKEN_URL=sandbox.token_url,
            GUNICORN_BIND="127.0.0.1:0",
            GUNICORN_WORKERS="1",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *args, "careportal.wsgi"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        started.append(proc)
        lines: list[str] = []
        for line in proc.stdout:  # bounded: gunicorn prints these lines at once, or exits
            lines.append(line)
            if "Booting worker" in line:
                break
        [url] = [m[1] for li in lines if (m := re.search(r"Listening at: (\S+)", li))]
        threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
        return url, lines

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=30)
    _wait_for_its_database_sessions_to_end()


def _wait_for_its_database_sessions_to_end() -> None:
    # PostgreSQL ends a dead client's session a moment later; the test database is dropped next.
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


def _signed_in(client, user) -> requests.Session:
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    return session


def _submit_change(session, base: str, opf_id: str, product_opf_id: str) -> requests.Response:
    """The change-product form, its confirmation, then the confirmed POST (which calls OPF)."""
    entitlement = Entitlement.objects.get(opf_id=opf_id)
    url = base + reverse("admin:entitlements_entitlement_change_product", args=[entitlement.pk])
    form = session.get(url, timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    data = {
        "csrfmiddlewaretoken": csrf,
        "new_product": str(Product.objects.get(opf_id=product_opf_id).pk),
        "reason": "customer_upgrade",
        "comment": "",
        "version": str(entitlement.version),
    }
    confirmation = session.post(url, data, timeout=30, headers={"Referer": url})
    data["submission_id"] = html.unescape(
        re.search(r'name="submission_id" value="([^"]+)"', confirmation.text)[1]
    )
    return session.post(url, {**data, "step": "confirm"}, timeout=60, headers={"Referer": url})


def _list_while_opf_hangs(serve, sandbox, world, client, agent, *args) -> float:
    base, _ = serve(*args)
    session = _signed_in(client, agent)
    sandbox.inject("change_product", "hang", seconds=6)
    change = threading.Thread(
        target=_submit_change, args=(session, base, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    )
    change.start()
    deadline = time.monotonic() + 15
    while not sandbox.requests("change_product") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.requests("change_product"), "the change never reached OPF"

    started = time.monotonic()
    page = session.get(base + reverse("admin:entitlements_entitlement_changelist"), timeout=30)
    took = time.monotonic() - started
    change.join(timeout=30)

    assert page.status_code == 200 and "ENT-NFX-2" in page.text
    assert ChangeAttempt.objects.get().outcome == "outcome_unknown"  # the hang, recorded
    return took


def test_a_hanging_opf_call_does_not_stall_the_entitlement_list(
    serve, sandbox, world, client, agent
):
    assert _list_while_opf_hangs(serve, sandbox, world, client, agent) < 1.0


def test_with_sync_workers_the_list_waits_for_opf(serve, sandbox, world, client, agent):
    """The set-up the README documented before: the same hang holds the only worker.

    (gunicorn turns sync workers with threads into gthread, hence --threads 1.)
    """
    took = _list_while_opf_hangs(
        serve, sandbox, world, client, agent, "--worker-class", "sync", "--threads", "1"
    )
    assert took > 4.0


def test_the_access_log_has_no_query_string(serve, sandbox, world, client, agent):
    base, lines = serve()
    session = _signed_in(client, agent)

    session.get(base + "/admin/entitlements/entitlement/?q=ACC-1001-secret-search", timeout=30)
    session.get(base + "/oidc/callback/?code=a-sign-in-code&state=a-state", timeout=30)
    time.sleep(0.5)  # the log line is written after the answer

    text = "".join(lines)
    assert '"GET /admin/entitlements/entitlement/ HTTP/1.1" 200' in text
    assert '"GET /oidc/callback/ HTTP/1.1"' in text
    assert "secret-search" not in text and "a-sign-in-code" not in text and "a-state" not in text
    assert "Using worker: gthread" in text
