"""Two portal instances (two gunicorn processes on two ports) on one PostgreSQL database and one
Redis, with the OPF sandbox: what a deployment on several machines relies on.

The instances run with production settings (DEBUG off, collected static files, secure cookies,
the HTTPS redirect on: requests carry X-Forwarded-Proto as the TLS proxy would send it). Agents
are signed in by a session cookie made here (force_login, the same SECRET_KEY), since SSO needs
a Keycloak; everything after that goes over HTTP to the instances.
"""

import html
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.test import Client

from entitlements.models import ChangeAttempt, Entitlement
from entitlements.outcomes import Outcome
from tests.admin.conftest import change_form_data
from tests.notifications.conftest import SECRET, notification, signed_headers
from tests.ops.conftest import REDIS_URL, closed_port

ROOT = Path(__file__).resolve().parent.parent.parent
SECRET_KEY = "two-instances-" + "x7Kq" * 12  # production-shaped: 50+ characters
NETFLIX_PREMIUM = "Netflix_EU_B_BUNDLE_PREMIUM"

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_services(redis_cache):
    if connection.vendor != "postgresql":
        pytest.skip("several instances share one PostgreSQL database; SQLite is the demo's")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # this suite's own Redis database: no old token
    return redis_cache


def _environment(sandbox, static_root: Path) -> dict[str, str]:
    database = connection.settings_dict
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPF_", "OIDC_", "DJANGO"))},
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CACHE_URL": f"{REDIS_URL}?socket_connect_timeout=2&socket_timeout=2",
        "OPF_BASE_URL": sandbox.url,
        "OPF_TOKEN_URL": sandbox.token_url,
        "OPF_CLIENT_ID": "opf-operator",
        "OPF_CLIENT_SECRET": "careportal-sandbox-secret",
        "OPF_USERNAME": "careportal",
        "OPF_PASSWORD": "careportal-sandbox-password",
        "OPF_READ_TIMEOUT": "5",
        # Never contacted: the agents' sessions are break-glass ones (not refreshed at SSO).
        "OIDC_ISSUER": "https://sso.invalid/realms/careportal",
        "OIDC_RP_CLIENT_ID": "care-portal",
        "OIDC_RP_CLIENT_SECRET": "not-used-here",
        "OPF_NOTIFICATION_SECRETS": SECRET,
        "STATIC_ROOT": str(static_root),
        "DJANGO_SETTINGS_MODULE": "careportal.settings",
    }


def _gunicorn(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    config = ROOT / "gunicorn.conf.py"
    command = [
        sys.executable, "-m", "gunicorn", "careportal.wsgi",
        "-c", str(config) if config.exists() else "python:careportal.metrics.gunicorn_hooks",
        "--bind", f"127.0.0.1:{port}", "--workers", "2",
        "--worker-class", "gthread", "--threads", "4",
        # gunicorn's control socket has one default path per user: two instances on one
        # machine would take it from each other.
        "--no-control-socket",
        "--graceful-timeout", "5",
    ]  # fmt: skip
    # Its own process group: the master and its workers are stopped together at the end.
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


@pytest.fixture
def instances(shared_services, sandbox, world, tmp_path):
    static_root = tmp_path / "static"
    env = _environment(sandbox, static_root)
    # Before the workers start: whitenoise lists the files and the storage reads the manifest
    # once, at start.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT, env=env, check=True, timeout=60,
    )  # fmt: skip
    ports = [closed_port(), closed_port()]
    processes = [_gunicorn(port, env, tmp_path / f"gunicorn-{port}.log") for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_until_ready(
                f"http://127.0.0.1:{port}", process, tmp_path / f"gunicorn-{port}.log"
            )
        yield urls
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)  # quick shutdown; nothing is left in flight
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # a worker stuck on a busy machine
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _wait_until_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited at start: {log.read_text()[-3000:]}"
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # still starting
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready in 30 s: {log.read_text()[-3000:]}")


class Agent:
    """One signed-in browser session against one instance, over real HTTP."""

    def __init__(self, base_url: str, session_key: str) -> None:
        self.base_url = base_url
        self.cookies = {"sessionid": session_key}
        self.http = requests.Session()
        self.http.trust_env = False

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {
            # What the TLS proxy adds; secure cookies are sent by hand (requests keeps them
            # for https:// URLs only).
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Origin": f"https://{self.base_url.removeprefix('http://')}",
            "Referer": f"https://{self.base_url.removeprefix('http://')}{path}",
        }
        response = self.http.request(
            method, self.base_url + path, headers=headers, allow_redirects=False, timeout=30,
            **kwargs,
        )  # fmt: skip
        self.cookies.update(response.cookies.get_dict())
        return response

    def review(self, entitlement_id: str, product_id: str) -> dict[str, str]:
        """Open the change form, fill it in; returns what "Confirm change" posts."""
        entitlement = Entitlement.objects.get(opf_id=entitlement_id)
        path = f"/admin/entitlements/entitlement/{entitlement.pk}/change-product/"
        page = self.request("GET", path)
        assert page.status_code == 200, page.status_code
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        form = {
            "csrfmiddlewaretoken": csrf,
            **change_form_data(entitlement_id, product_id, comment="two instances"),
        }
        confirmation = self.request("POST", path, data=form)
        assert confirmation.status_code == 200, confirmation.status_code
        held = confirmation.text.split('id="confirm-change-form"', 1)[1].split("</form>", 1)[0]
        fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', held)
        return {"path": path, **{name: html.unescape(value) for name, value in fields}}

    def confirm(self, reviewed: dict[str, str]) -> requests.Response:
        data = {k: v for k, v in reviewed.items() if k != "path"}
        return self.request("POST", reviewed["path"], data=data)


def _session_key(agent_user, settings) -> str:
    settings.SECRET_KEY = SECRET_KEY  # the instances' key: their session checks must agree
    browser = Client()
    browser.force_login(agent_user)
    return browser.cookies["sessionid"].value


def _notify(base_url: str, body: bytes, headers: dict | None = None) -> requests.Response:
    return requests.post(
        f"{base_url}/opf/notifications",
        data=body,
        headers={**(headers or signed_headers(body)), "X-Forwarded-Proto": "https"},
        timeout=30,
    )


def _latest(entitlement_id: str) -> ChangeAttempt:
    return ChangeAttempt.objects.filter(entitlement_opf_id=entitlement_id).latest("created_at")


def test_two_instances_share_one_database_one_cache_and_one_token(
    instances, sandbox, agent, settings
):
    first, second = (Agent(url, _session_key(agent, settings)) for url in instances)

    # Changes through both instances.
    assert first.confirm(first.review("ENT-NFX-1", NETFLIX_PREMIUM)).status_code == 302
    assert second.confirm(second.review("ENT-DSN-1", "DisneyPlus_EU_PREMIUM")).status_code == 302
    assert _latest("ENT-NFX-1").outcome == Outcome.COMPLETED
    awaited = _latest("ENT-DSN-1")
    assert awaited.outcome == Outcome.AWAITING_CONFIRMATION
    # One token for both instances (and their four worker processes): the shared Redis cache.
    assert len(sandbox.requests("token")) == 1

    # Notifications to both: the confirmation applied by one, its redelivery recognised by the
    # other; a status change to the second.
    body = notification(
        "CHANGE_CONFIRMED", "ENT-DSN-1", productId="DisneyPlus_EU_PREMIUM",
        correlationId=awaited.correlation_id,
    )  # fmt: skip
    headers = signed_headers(body)
    applied = _notify(first.base_url, body, headers)
    assert (applied.status_code, applied.json()["result"]) == (200, "applied")
    again = _notify(second.base_url, body, headers)
    assert (again.status_code, again.json()["result"]) == (200, "duplicate")
    status = _notify(second.base_url, notification("STATUS_CHANGED", "ENT-NFX-1", status="PENDING"))
    assert (status.status_code, status.json()["result"]) == (200, "applied")
    awaited.refresh_from_db()
    assert awaited.outcome == Outcome.CONFIRMED
    assert Entitlement.objects.get(opf_id="ENT-NFX-1").status == "PENDING"

    # One open change per entitlement across both: two agents confirm the same change at once,
    # one on each instance, while OPF is slow to answer.
    reviews = [first.review("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC"),
               second.review("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC")]  # fmt: skip
    sandbox.inject("change_product", "latency", count=2, ms=800)
    answers: list[requests.Response] = []
    threads = [
        threading.Thread(target=lambda a=a, r=r: answers.append(a.confirm(r)))
        for a, r in zip((first, second), reviews, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [a.status_code for a in answers] == [302, 302]  # both back on the entitlement page
    posts = sandbox.requests("change_product")
    assert [p.entitlement_id for p in posts].count("ENT-NFX-2") == 1
    assert ChangeAttempt.objects.filter(entitlement_opf_id="ENT-NFX-2").count() == 1

    # No lost audit record: every request OPF received is one audit record, and the reverse.
    portal_changes = ChangeAttempt.objects.filter(origin="portal")
    assert sorted(p.correlation_id for p in posts) == sorted(
        portal_changes.values_list("correlation_id", flat=True)
    )
    assert len(posts) == 3
    assert len(sandbox.requests("token")) == 1
