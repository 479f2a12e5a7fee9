"""When nothing can reach OPF: rows O5 (OPF unreachable) and O10 (token endpoint trouble).

Both are "not sent": safe to try again, and the sandbox must have received 0 changeProduct POSTs
(or, for quick connect retries, only the one that finally connected).
"""

import logging
import time

import pytest

from entitlements.opf import NotSent, TokenUnavailable
from entitlements.opf_sandbox.server import Sandbox
from entitlements.outcomes import Outcome

from .conftest import CREDENTIALS, ENTITLEMENTS, NETFLIX_PREMIUM, PRODUCTS, new_correlation_id


def change(client, correlation_id=None):
    return client.change_product(
        entitlement_id="ENT-NF-1",
        product_id=NETFLIX_PREMIUM,
        correlation_id=correlation_id or new_correlation_id(),
    )


def posts(sandbox):
    return sandbox.requests(kind="change_product")


# --- O5: OPF unreachable ---------------------------------------------------------------------


def test_o5_connection_refused_retries_quickly_then_not_sent(
    make_client, sandbox, closed_port, opf_logs
):
    client = make_client(base_url=f"http://127.0.0.1:{closed_port}")

    started = time.monotonic()
    result = change(client, "corr-o5")
    elapsed = time.monotonic() - started

    assert result.outcome is Outcome.NOT_SENT
    assert result.http_status is None
    assert [(a.http_status, a.note) for a in result.attempts] == [(None, "connect refused")] * 3
    assert "nothing was sent" in result.detail
    assert 0.4 <= elapsed < 2  # backoff 0.1 s + 0.3 s, no long waits
    assert posts(sandbox) == []
    assert len(sandbox.requests(kind="token")) == 1
    retries = [r for r in opf_logs.records if "retrying" in r.getMessage()]
    assert len(retries) == 2
    assert all(r.correlation_id == "corr-o5" for r in retries)


def test_o5_connect_retries_can_be_switched_off(make_client, sandbox, closed_port):
    client = make_client(base_url=f"http://127.0.0.1:{closed_port}", connect_retries=0)

    result = change(client)

    assert result.outcome is Outcome.NOT_SENT
    assert len(result.attempts) == 1


def test_o5_connect_timeout_is_not_sent(make_client, sandbox, silent_port):
    client = make_client(
        base_url=f"http://127.0.0.1:{silent_port}", connect_timeout=0.3, connect_retries=1
    )

    result = change(client)

    assert result.outcome is Outcome.NOT_SENT
    assert [a.note for a in result.attempts] == ["connect timeout"] * 2
    assert all(250 <= a.duration_ms < 1500 for a in result.attempts)
    assert posts(sandbox) == []


def test_o5_a_retry_that_connects_carries_the_same_correlation_id(
    make_client, sandbox, closed_port
):
    # OPF comes up on the refused port between the first try and the quick retry: the retry
    # warning (logged before the pause) is the cue.
    late = Sandbox(port=closed_port, credentials=CREDENTIALS)
    late.load(products=PRODUCTS, entitlements=ENTITLEMENTS)
    late.tokens = sandbox.tokens  # it accepts the tokens the first sandbox issues
    client = make_client(base_url=late.url)

    class StartOnRetry(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "retrying" in record.getMessage():
                late.start()

    cue = StartOnRetry()
    logger = logging.getLogger("entitlements.opf")
    logger.addHandler(cue)
    try:
        result = change(client, "corr-o5-late")
    finally:
        logger.removeHandler(cue)
        late.stop()

    assert result.outcome is Outcome.COMPLETED
    assert [a.note for a in result.attempts] == ["connect refused", "200 completed"]
    (post,) = late.requests(kind="change_product")
    assert post.correlation_id == "corr-o5-late"


# --- O10: the token endpoint is down or refusing ---------------------------------------------


def _assert_not_sent_without_posts(result, sandbox, words):
    assert result.outcome is Outcome.NOT_SENT
    assert result.attempts == ()
    assert result.http_status is None
    assert words in result.detail
    assert "nothing was sent" in result.detail
    assert posts(sandbox) == []


def test_o10_token_endpoint_refusing_connections(make_client, sandbox, closed_port):
    client = make_client(token_url=f"http://127.0.0.1:{closed_port}/token")

    result = change(client)

    _assert_not_sent_without_posts(result, sandbox, "OPF token endpoint unreachable")


@pytest.mark.parametrize(
    ("fault", "params", "words"),
    [
        ("refuse_token", {}, "answered HTTP 503"),
        ("refuse_token", {"status": 500}, "answered HTTP 500"),
        ("hang", {"seconds": 3}, "unreachable (read timeout)"),
        ("reset", {}, "unreachable (connection reset)"),
        ("truncate", {}, "unreachable (truncated reply)"),
        ("status", {"status": 200, "body": "<html>login</html>"}, "unusable token response"),
        ("status", {"status": 200, "body": {"access_token": "a b"}}, "unusable token response"),
        ("status", {"status": 200, "body": {"token": "x"}}, "unusable token response"),
        ("status", {"status": 200, "body": [1, 2]}, "unusable token response"),
        ("status", {"status": 302, "headers": {"Location": "/elsewhere"}}, "answered HTTP 302"),
    ],
)
def test_o10_token_endpoint_trouble_is_not_sent(client, sandbox, fault, params, words):
    sandbox.inject("token", fault, **params)

    result = change(client)

    _assert_not_sent_without_posts(result, sandbox, words)
    assert len(sandbox.requests(kind="token")) == 1
    assert sandbox.requests(kind="other") == []


def test_o10_wrong_password_is_not_sent_and_never_echoed(make_client, sandbox, opf_logs):
    wrong = "wrong-pw-c0ffee-never-logged"
    client = make_client(password=wrong)

    result = change(client)

    _assert_not_sent_without_posts(result, sandbox, "answered HTTP 401 (invalid_grant)")
    assert wrong not in repr(result)
    assert not any(wrong in r.getMessage() for r in opf_logs.records)


def test_token_unavailable_is_a_not_sent_error_with_a_plain_message(make_client, closed_port):
    client = make_client(token_url=f"http://127.0.0.1:{closed_port}/token")

    with pytest.raises(TokenUnavailable) as caught:
        client.tokens.get_token()

    assert isinstance(caught.value, NotSent)
    assert str(caught.value) == "OPF token endpoint unreachable (connect refused)"
    assert caught.value.__cause__ is None  # the original holds the request, secrets included
    assert CREDENTIALS.password not in str(caught.value)
