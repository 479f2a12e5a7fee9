"""changeProduct against the sandbox over real HTTP: rows O1-O4, O6-O9, O11-O13.

Every test asserts how many changeProduct requests the sandbox received ("POSTs").
"""

import json

import pytest

from entitlements.opf import InvalidIdentifier
from entitlements.outcomes import Outcome

from .conftest import (
    CREDENTIALS,
    DISNEY_BASIC,
    NETFLIX_BASIC,
    NETFLIX_PREMIUM,
    NETFLIX_STANDARD,
    new_correlation_id,
)


def posts(sandbox):
    return sandbox.requests(kind="change_product")


def change(client, entitlement_id="ENT-NF-1", product_id=NETFLIX_PREMIUM, correlation_id=None):
    return client.change_product(
        entitlement_id=entitlement_id,
        product_id=product_id,
        correlation_id=new_correlation_id() if correlation_id is None else correlation_id,
    )


# --- O1-O4: the documented answers ---------------------------------------------------------


def test_o1_200_is_completed_with_one_post(client, sandbox):
    result = change(client)

    assert result.outcome is Outcome.COMPLETED
    assert result.http_status == 200
    assert result.opf_message == ""
    assert result.credentials_refused is False
    assert [(a.http_status, a.note) for a in result.attempts] == [(200, "200 completed")]
    assert json.loads(result.response_body)["productId"] == NETFLIX_PREMIUM
    assert len(posts(sandbox)) == 1
    assert sandbox.entitlement("ENT-NF-1")["productId"] == NETFLIX_PREMIUM


def test_o1_request_shape(client, sandbox):
    result = change(client, correlation_id="corr-shape-1")

    (post,) = posts(sandbox)
    assert post.method == "POST"
    assert post.path == "/tpes/v1/operator/entitlements/ENT-NF-1/actions/changeProduct"
    assert post.entitlement_id == "ENT-NF-1"
    assert post.json() == {"productId": NETFLIX_PREMIUM}
    assert post.header("content-type") == "application/json"
    assert post.header("accept") == "application/json"
    assert post.correlation_id == "corr-shape-1" == result.correlation_id
    assert post.header("authorization").startswith("Bearer ")
    assert post.tenant_id is None  # only sent when configured


def test_tenant_id_is_sent_when_configured(make_client, sandbox):
    change(make_client(tenant_id="tenant-42"))

    assert posts(sandbox)[0].tenant_id == "tenant-42"


def test_base_url_with_trailing_slash(make_client, sandbox):
    result = change(make_client(base_url=sandbox.url + "/"))

    assert result.outcome is Outcome.COMPLETED
    assert posts(sandbox)[0].entitlement_id == "ENT-NF-1"


def test_o2_202_is_awaiting_confirmation_never_completed(client, sandbox):
    sandbox.configure(confirm_later=["Netflix_EU_B"])

    result = change(client)

    assert result.outcome is Outcome.AWAITING_CONFIRMATION
    assert result.http_status == 202
    assert len(posts(sandbox)) == 1
    assert sandbox.entitlement("ENT-NF-1")["productId"] == NETFLIX_BASIC
    assert sandbox.entitlement("ENT-NF-1")["pendingProductId"] == NETFLIX_PREMIUM


@pytest.mark.parametrize(
    ("entitlement_id", "product_id", "words"),
    [
        ("ENT-NF-1", DISNEY_BASIC, "not offered by the entitlement's provider"),
        ("ENT-NF-1", "Netflix_EU_B_BUNDLE_ULTRA", "does not exist"),
        ("ENT-NF-CANCELLED", NETFLIX_STANDARD, "is CANCELLED"),
    ],
)
def test_o3_400_is_rejected_with_opfs_message_and_no_retry(
    client, sandbox, entitlement_id, product_id, words
):
    result = change(client, entitlement_id, product_id)

    assert result.outcome is Outcome.REJECTED
    assert result.http_status == 400
    assert words in result.opf_message
    assert result.opf_message == json.loads(result.response_body)["message"]
    assert result.credentials_refused is False
    assert len(posts(sandbox)) == 1


def test_o3_opf_message_from_a_plain_text_400(client, sandbox):
    sandbox.inject("change_product", "status", status=400, body="Tier <b>unknown</b>")

    result = change(client)

    assert result.outcome is Outcome.REJECTED
    assert result.opf_message == "Tier <b>unknown</b>"  # escaping is the template's job
    assert len(posts(sandbox)) == 1


def test_o4_404_is_not_found_with_no_retry(client, sandbox):
    result = change(client, "ENT-DOES-NOT-EXIST")

    assert result.outcome is Outcome.NOT_FOUND
    assert result.http_status == 404
    assert len(posts(sandbox)) == 1


def test_response_bodies_are_bounded(client, sandbox):
    sandbox.inject("change_product", "status", status=400, body={"message": "m" * 100_000})

    result = change(client)

    assert result.outcome is Outcome.REJECTED
    assert len(result.response_body) == 4000
    assert len(result.opf_message) <= 1000
    assert len(posts(sandbox)) == 1


# --- O6-O7: the request may have reached OPF: outcome unknown, exactly one POST ---------------


@pytest.mark.parametrize("apply", [False, True])
def test_o6_read_timeout_is_unknown_and_never_resent(client, sandbox, apply):
    sandbox.inject("change_product", "hang", seconds=3, apply=apply)

    result = change(client)

    assert result.outcome is Outcome.OUTCOME_UNKNOWN
    assert result.http_status is None
    assert [a.note for a in result.attempts] == ["read timeout"]
    assert "must not be resent" in result.detail
    assert len(posts(sandbox)) == 1
    # With apply, OPF did change it: exactly the case reconciliation exists for.
    expected = NETFLIX_PREMIUM if apply else NETFLIX_BASIC
    assert sandbox.entitlement("ENT-NF-1")["productId"] == expected


def test_o6_connection_reset_is_unknown_and_never_resent(client, sandbox):
    sandbox.inject("change_product", "reset", apply=True)

    result = change(client)

    assert result.outcome is Outcome.OUTCOME_UNKNOWN
    assert [a.note for a in result.attempts] == ["connection reset"]
    assert len(posts(sandbox)) == 1


@pytest.mark.parametrize("status", [200, 400])
def test_o6_truncated_reply_is_unknown_and_never_resent(client, sandbox, status):
    sandbox.inject("change_product", "truncate", status=status)

    result = change(client)

    assert result.outcome is Outcome.OUTCOME_UNKNOWN
    assert result.http_status == status  # the status line came, the body did not
    assert [a.note for a in result.attempts] == ["truncated reply"]
    assert len(posts(sandbox)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 204, 201, 409, 429])
def test_o7_unexpected_status_is_unknown_and_never_resent(client, sandbox, status):
    sandbox.inject("change_product", "status", status=status)

    result = change(client)

    assert result.outcome is Outcome.OUTCOME_UNKNOWN
    assert result.http_status == status
    assert len(result.attempts) == 1
    assert len(posts(sandbox)) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_o7_redirects_are_never_followed(client, sandbox, status):
    elsewhere = sandbox.change_product_url("ENT-NF-2")
    sandbox.inject("change_product", "status", status=status, headers={"Location": elsewhere})

    result = change(client)

    assert result.outcome is Outcome.OUTCOME_UNKNOWN
    assert result.http_status == status
    assert [a.note for a in result.attempts] == [f"{status} redirect not followed"]
    assert len(posts(sandbox)) == 1
    assert sandbox.requests(kind="other") == []
    assert sandbox.entitlement("ENT-NF-2")["productId"] == NETFLIX_STANDARD


# --- O8-O9: refused tokens -------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_o8_expired_token_is_refreshed_and_resent_once(client, sandbox, status):
    sandbox.configure(auth_failure_status=status)
    change(client, "ENT-NF-2", NETFLIX_PREMIUM)  # caches a token
    sandbox.inject("token", "expire_tokens")  # OPF now refuses it

    result = change(client, correlation_id="corr-o8")

    assert result.outcome is Outcome.COMPLETED
    assert [(a.http_status, a.note) for a in result.attempts] == [
        (status, f"{status} -> token refreshed"),
        (200, "200 completed"),
    ]
    first, second = posts(sandbox)[1:]
    assert first.correlation_id == second.correlation_id == "corr-o8"
    assert first.header("authorization") != second.header("authorization")
    assert len(posts(sandbox)) == 3  # one earlier change + the refused POST + the resend


def test_o9_credentials_refused_twice_are_not_resent_again(client, sandbox, opf_logs):
    sandbox.inject("change_product", "reject_auth", count=5)

    result = change(client, correlation_id="corr-o9")

    assert result.outcome is Outcome.REJECTED
    assert result.credentials_refused is True
    assert [a.http_status for a in result.attempts] == [403, 403]
    assert len(posts(sandbox)) == 2
    alerts = [r for r in opf_logs.records if "OPF refused the portal's credentials" in r.message]
    assert alerts and all(r.levelname == "ERROR" for r in alerts)
    assert all("correlation_id=corr-o9" in r.getMessage() for r in alerts)


# --- O11-O12: correlation id everywhere, credentials nowhere ---------------------------------


def _secrets_seen(sandbox, client):
    """Every token and secret the exchange involved, read from the sandbox and the cache."""
    found = {CREDENTIALS.password, CREDENTIALS.client_secret}
    for post in posts(sandbox):
        found.add(post.header("authorization").removeprefix("Bearer "))
    entry = client.tokens._cache.get(client.tokens.cache_key) or {}
    found.update(v for k, v in entry.items() if k.endswith("token") and v)
    return found


def test_o11_correlation_id_arrives_and_is_in_every_log_line(client, sandbox, opf_logs):
    ids = ["corr-o11-a", "corr-o11-b"]
    results = [change(client, correlation_id=cid) for cid in ids]

    assert [p.correlation_id for p in posts(sandbox)] == ids
    assert [r.correlation_id for r in results] == ids
    records = [r for r in opf_logs.records if r.name.startswith("entitlements.opf")]
    assert records
    for record in records:
        assert record.correlation_id in ids
        assert f"correlation_id={record.correlation_id}" in record.getMessage()
    for cid in ids:
        assert any(r.correlation_id == cid for r in records)


def test_o11_correlation_id_in_logs_on_failure_paths(client, sandbox, opf_logs):
    sandbox.inject("change_product", "reject_auth", count=1)
    change(client, correlation_id="corr-o11-retry")
    sandbox.inject("change_product", "status", status=503, body="down")
    change(client, correlation_id="corr-o11-unknown")

    records = [r for r in opf_logs.records if r.name.startswith("entitlements.opf")]
    assert {r.correlation_id for r in records} == {"corr-o11-retry", "corr-o11-unknown"}
    assert all(f"correlation_id={r.correlation_id}" in r.getMessage() for r in records)


def test_o12_token_and_secrets_never_logged_nor_in_results(client, sandbox, opf_logs):
    results = [change(client)]
    sandbox.inject("token", "expire_tokens")
    results.append(change(client))  # 403, new token, resend
    sandbox.inject("change_product", "status", status=500, body="boom")
    results.append(change(client))
    sandbox.inject("change_product", "reject_auth", count=2)
    results.append(change(client))

    assert all(p.header("authorization").startswith("Bearer ") for p in posts(sandbox))
    secrets = _secrets_seen(sandbox, client)
    assert len(secrets) >= 5  # password, client secret, at least 3 tokens (incl. refresh)
    texts = [r.getMessage() for r in opf_logs.records]
    texts += [repr(r.__dict__) for r in opf_logs.records]
    texts += [repr(result) for result in results]
    for secret in secrets:
        assert not any(secret in text for text in texts)
    assert all("Bearer" not in text for text in texts)


def test_o12_a_body_echoing_the_token_is_scrubbed(client, sandbox):
    token = client.tokens.get_token()
    sandbox.inject("change_product", "status", status=400, body={"message": f"bad {token}"})

    result = change(client)

    assert token not in repr(result)
    assert result.opf_message == "bad [token]"


# --- O13: awkward ids: one encoded path segment, or refused before any request ----------------


AWKWARD_IDS = ["a/b", "../ENT-NF-2", "%2F", "%2e%2e", "with space", "Ünïcødé-Ω-名", "a?b#c", "..."]


@pytest.mark.parametrize("entitlement_id", AWKWARD_IDS)
def test_o13_awkward_ids_travel_as_one_path_segment(client, sandbox, entitlement_id):
    sandbox.load(
        entitlements=[
            {"entitlementId": entitlement_id, "accountId": "ACC-9", "productId": NETFLIX_BASIC},
            {"entitlementId": "ENT-NF-2", "accountId": "ACC-2", "productId": NETFLIX_STANDARD},
        ]
    )

    result = change(client, entitlement_id, NETFLIX_PREMIUM)

    assert result.outcome is Outcome.COMPLETED
    (post,) = posts(sandbox)
    assert post.entitlement_id == entitlement_id
    assert sandbox.entitlement(entitlement_id)["productId"] == NETFLIX_PREMIUM
    assert sandbox.entitlement("ENT-NF-2")["productId"] == NETFLIX_STANDARD
    assert sandbox.requests(kind="other") == []


@pytest.mark.parametrize("product_id", ["a/b", "Ünïcødé", '"quoted"\\'])
def test_o13_awkward_product_ids_travel_intact_in_the_body(client, sandbox, product_id):
    result = change(client, "ENT-NF-1", product_id)

    assert result.outcome is Outcome.REJECTED  # not in the catalogue
    (post,) = posts(sandbox)
    assert post.json() == {"productId": product_id}


@pytest.mark.parametrize(
    ("entitlement_id", "product_id"),
    [
        (".", NETFLIX_PREMIUM),
        ("..", NETFLIX_PREMIUM),
        ("", NETFLIX_PREMIUM),
        ("x" * 10_240, NETFLIX_PREMIUM),
        ("ENT\r\nX-Injected: 1", NETFLIX_PREMIUM),
        ("ENT-NF-1", ""),
        ("ENT-NF-1", "p" * 10_240),
        ("ENT-NF-1", "P\x00"),
    ],
)
def test_o13_unsafe_ids_are_refused_before_any_request(client, sandbox, entitlement_id, product_id):
    with pytest.raises(InvalidIdentifier):
        change(client, entitlement_id, product_id)

    assert sandbox.requests() == []  # not even a token request


@pytest.mark.parametrize("correlation_id", ["", "x\r\nX-Injected: 1", "é", "c" * 129])
def test_unsafe_correlation_ids_are_refused_before_any_request(client, sandbox, correlation_id):
    with pytest.raises(InvalidIdentifier):
        change(client, correlation_id=correlation_id)

    assert sandbox.requests() == []


# --- the pooled connection --------------------------------------------------------------------


def test_one_keep_alive_connection_serves_consecutive_calls(client, sandbox):
    outcomes = [change(client, f"ENT-NF-{n}", NETFLIX_PREMIUM).outcome for n in (1, 2, 1)]

    assert outcomes == [Outcome.COMPLETED, Outcome.COMPLETED, Outcome.COMPLETED]
    records = sandbox.requests()
    assert len(posts(sandbox)) == 3
    assert len({r.connection for r in records}) == 1  # the token request shares it too
    assert len({r.peer for r in records}) == 1


def test_a_connection_is_reused_after_error_answers(client, sandbox):
    change(client, "ENT-NF-1", DISNEY_BASIC)  # 400
    change(client, "ENT-UNKNOWN")  # 404
    change(client)  # 200

    assert len({r.connection for r in posts(sandbox)}) == 1
