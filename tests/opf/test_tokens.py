"""Keycloak tokens: reuse across calls, clients and processes; refresh; grants; invalidation."""

import hashlib
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.core.cache.backends.filebased import FileBasedCache

from entitlements.opf import OpfClient, OpfConfig, TokenUnavailable
from entitlements.outcomes import Outcome

from .conftest import CREDENTIALS, NETFLIX_PREMIUM, new_cache, new_correlation_id

REPO = Path(__file__).resolve().parents[2]


def change(client, entitlement_id="ENT-NF-1"):
    return client.change_product(
        entitlement_id=entitlement_id,
        product_id=NETFLIX_PREMIUM,
        correlation_id=new_correlation_id(),
    )


def token_requests(sandbox):
    return [parse_qs(r.body) for r in sandbox.requests(kind="token")]


def grants(sandbox):
    return [form["grant_type"][0] for form in token_requests(sandbox)]


def bearer(record):
    return record.header("authorization").removeprefix("Bearer ")


# --- reuse -----------------------------------------------------------------------------------


def test_many_changes_need_one_token(client, sandbox):
    outcomes = {change(client).outcome for _ in range(5)}

    assert outcomes == {Outcome.COMPLETED}
    assert grants(sandbox) == ["password"]
    assert len({bearer(p) for p in sandbox.requests(kind="change_product")}) == 1


def test_clients_sharing_a_cache_share_the_token(make_client, sandbox):
    cache = new_cache()
    first, second = make_client(cache=cache), make_client(cache=cache)

    change(first)
    change(second)

    assert grants(sandbox) == ["password"]


def test_a_different_user_gets_its_own_token(make_client, sandbox):
    cache = new_cache()
    change(make_client(cache=cache))
    other = make_client(cache=cache, username="someone-else")

    assert change(other).outcome is Outcome.NOT_SENT  # the sandbox knows only one user
    assert grants(sandbox) == ["password", "password"]


def test_concurrent_changes_fetch_one_token(client, sandbox):
    sandbox.inject("token", "latency", ms=200)  # keeps the first fetch in flight a while
    results = []
    threads = [threading.Thread(target=lambda: results.append(change(client))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.outcome for r in results] == [Outcome.COMPLETED] * 8
    assert grants(sandbox) == ["password"]
    assert len(sandbox.requests(kind="change_product")) == 8


def test_file_cache_shares_the_token_between_client_instances(make_client, sandbox, tmp_path):
    first = make_client(cache=FileBasedCache(str(tmp_path), {}))
    second = make_client(cache=FileBasedCache(str(tmp_path), {}))

    change(first)
    change(second)

    assert grants(sandbox) == ["password"]


_WORKER = """
import hashlib, sys
from django.core.cache.backends.filebased import FileBasedCache
from entitlements.opf import OpfClient, OpfConfig
base_url, token_url, cache_dir, password = sys.argv[1:5]
config = OpfConfig(base_url=base_url, token_url=token_url, token_grant="password",
                   client_id="opf-operator", username="careportal", password=password,
                   connect_timeout=2, read_timeout=5)
client = OpfClient(config, FileBasedCache(cache_dir, {}))
print("ready", flush=True)
sys.stdin.readline()
token = client.tokens.get_token()
print(hashlib.sha256(token.encode()).hexdigest(), flush=True)
"""


def _start_worker(sandbox, cache_dir):
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            _WORKER,
            sandbox.url,
            sandbox.token_url,
            cache_dir,
            CREDENTIALS.password,
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_processes_share_one_token_fetch_through_the_file_cache(sandbox, tmp_path):
    """Two real processes: the second waits for the first one's fetch instead of its own."""
    sandbox.inject("token", "latency", ms=700)
    workers = [_start_worker(sandbox, str(tmp_path)) for _ in range(2)]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        workers[0].stdin.write("go\n")
        workers[0].stdin.flush()
        # The first process now holds the lock and waits on the slow token endpoint.
        _wait_for(lambda: len(sandbox.requests(kind="token")) == 1)
        workers[1].stdin.write("go\n")
        workers[1].stdin.flush()
        hashes = [worker.communicate(timeout=15)[0].strip() for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    assert [w.returncode for w in workers] == [0, 0]
    assert hashes[0] == hashes[1] and len(hashes[0]) == 64
    assert grants(sandbox) == ["password"]
    # The parent sees the same token without asking Keycloak either.
    config = OpfConfig(
        base_url=sandbox.url,
        token_url=sandbox.token_url,
        token_grant="password",
        client_id=CREDENTIALS.client_id,
        username=CREDENTIALS.username,
        password=CREDENTIALS.password,
    )
    with OpfClient(config, FileBasedCache(str(tmp_path), {})) as parent:
        token = parent.tokens.get_token()
    assert hashlib.sha256(token.encode()).hexdigest() == hashes[0]
    assert grants(sandbox) == ["password"]


# --- expiry and refresh ----------------------------------------------------------------------


def test_expired_access_token_is_renewed_with_the_refresh_token(client, sandbox):
    sandbox.configure(token_lifetime=2)
    change(client)
    time.sleep(1.9)  # past expires_in minus the 10 % margin

    assert change(client).outcome is Outcome.COMPLETED
    assert grants(sandbox) == ["password", "refresh_token"]
    refresh_form = token_requests(sandbox)[1]
    assert "password" not in refresh_form and "username" not in refresh_form
    first, second = sandbox.requests(kind="change_product")
    assert bearer(first) != bearer(second)


def test_a_refused_refresh_falls_back_to_the_full_grant(client, sandbox):
    sandbox.configure(token_lifetime=2)
    change(client)
    sandbox.inject("token", "status", status=400, body={"error": "invalid_grant"})
    time.sleep(1.9)

    assert change(client).outcome is Outcome.COMPLETED
    assert grants(sandbox) == ["password", "refresh_token", "password"]


def test_an_expired_refresh_token_is_not_even_tried(client, sandbox):
    sandbox.configure(token_lifetime=1, refresh_token_lifetime=2)
    change(client)
    time.sleep(2.0)

    assert change(client).outcome is Outcome.COMPLETED
    assert grants(sandbox) == ["password", "password"]


# --- grants ----------------------------------------------------------------------------------


def test_client_credentials_grant(make_client, sandbox):
    client = make_client(
        token_grant="client_credentials",
        client_secret=CREDENTIALS.client_secret,
        username="",
        password="",
    )

    assert change(client).outcome is Outcome.COMPLETED
    assert change(client).outcome is Outcome.COMPLETED
    (form,) = token_requests(sandbox)
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": [CREDENTIALS.client_id],
        "client_secret": [CREDENTIALS.client_secret],
    }
    # Form-body client authentication only: no Basic header (and none from a ~/.netrc).
    assert sandbox.requests(kind="token")[0].header("authorization") is None


def test_client_credentials_with_a_wrong_secret_is_not_sent(make_client, sandbox, opf_logs):
    wrong = "wrong-secret-9d1e-never-logged"
    client = make_client(token_grant="client_credentials", client_secret=wrong)

    result = change(client)

    assert result.outcome is Outcome.NOT_SENT
    assert "HTTP 401 (unauthorized_client)" in result.detail
    assert wrong not in repr(result)
    assert not any(wrong in r.getMessage() for r in opf_logs.records)
    assert sandbox.requests(kind="change_product") == []


def test_password_grant_of_a_confidential_client_sends_the_secret(make_client, sandbox):
    client = make_client(client_secret=CREDENTIALS.client_secret)

    change(client)

    (form,) = token_requests(sandbox)
    assert form["grant_type"] == ["password"]
    assert form["username"] == [CREDENTIALS.username]
    assert form["client_secret"] == [CREDENTIALS.client_secret]


# --- invalidation and the fetch lock ---------------------------------------------------------


def test_invalidate_drops_only_the_token_still_cached(client, sandbox):
    token = client.tokens.get_token()

    client.tokens.invalidate("some-older-token")
    assert client.tokens.get_token() == token
    assert grants(sandbox) == ["password"]

    client.tokens.invalidate(token)
    assert client.tokens.get_token() != token
    assert grants(sandbox) == ["password", "password"]


def test_concurrent_refusals_fetch_one_new_token(client, sandbox):
    client.tokens.get_token()
    sandbox.inject("token", "expire_tokens")  # every change below first gets a 403
    results = []
    threads = [threading.Thread(target=lambda: results.append(change(client))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.outcome for r in results] == [Outcome.COMPLETED] * 6
    assert grants(sandbox) == ["password", "password"]  # not one per refused change
    assert len(sandbox.requests(kind="change_product")) <= 12


def test_a_dead_lock_holder_is_waited_for_briefly_then_ignored(client, sandbox):
    # Another process took the fetch lock and died: its lock would live for a minute.
    client.tokens._cache.add(client.tokens.lock_key, "dead-worker", timeout=60)

    started = time.monotonic()
    token = client.tokens.get_token()
    waited = time.monotonic() - started

    assert token
    assert 1.5 <= waited < 4  # about one token request's timeouts (0.5 + 0.5) + 1 s
    assert grants(sandbox) == ["password"]


def test_waiters_share_the_lock_holders_failure(client, sandbox):
    sandbox.inject("token", "hang", seconds=3)  # the holder's fetch times out after 0.5 s
    errors = []

    def fetch():
        try:
            client.tokens.get_token()
        except TokenUnavailable as exc:
            errors.append(str(exc))

    holder = threading.Thread(target=fetch)
    holder.start()
    _wait_for(lambda: len(sandbox.requests(kind="token")) == 1)
    waiter = threading.Thread(target=fetch)
    waiter.start()
    holder.join()
    waiter.join()

    assert errors == ["OPF token endpoint unreachable (read timeout)"] * 2
    assert len(sandbox.requests(kind="token")) == 1


# --- secrets ---------------------------------------------------------------------------------


def test_config_repr_hides_secrets():
    config = OpfConfig(
        base_url="http://127.0.0.1:1",
        token_url="http://127.0.0.1:1/token",
        token_grant="password",
        client_id="opf-operator",
        client_secret="cs-secret-value",
        username="careportal",
        password="pw-secret-value",
    )

    assert "cs-secret-value" not in repr(config)
    assert "pw-secret-value" not in repr(config)
    assert "careportal" in repr(config)


def test_cache_keys_carry_no_secret(client):
    for key in (client.tokens.cache_key, client.tokens.lock_key):
        assert CREDENTIALS.password not in key
        assert CREDENTIALS.username not in key


@pytest.mark.parametrize("grant", ["implicit", ""])
def test_unknown_grants_are_refused_at_configuration(grant):
    with pytest.raises(ValueError):
        OpfConfig(base_url="http://x", token_url="http://x/t", token_grant=grant, client_id="c")
