"""The OPF entitlements read against the sandbox over real HTTP: the adapter's answer shapes,
paging, the account filter, the token rules and the errors. No read ever sends a changeProduct.

Answer shapes the sandbox does not itself produce are served by its `status` fault with a body
of our choosing, so they still cross a real socket and the client's whole path.
"""

import json
from urllib.parse import parse_qs

import pytest
from django.conf import settings as django_settings

from entitlements.opf import (
    CredentialsRefused,
    OpfClient,
    OpfEntitlement,
    OpfUnreachable,
    UnexpectedAnswer,
    entitlement_reads,
)
from entitlements.opf_sandbox.server import Sandbox
from entitlements.outcomes import Outcome
from entitlements.services import get_opf_client

from .conftest import CREDENTIALS, NETFLIX_BASIC, NETFLIX_PREMIUM, PRODUCTS, new_correlation_id


def reads(sandbox: Sandbox):
    return sandbox.requests(kind="entitlements")


def read(client: OpfClient, account_id=None, correlation_id=None, **kwargs):
    return client.read_entitlements(
        account_id=account_id,
        correlation_id=correlation_id or new_correlation_id(),
        **kwargs,
    )


def serve(sandbox: Sandbox, body, status=200, count=1):
    """The next read(s) answered with exactly this body."""
    text = body if isinstance(body, str) else json.dumps(body)
    sandbox.inject("entitlements", "status", count=count, status=status, body=text)


def record(ident="E-1", **fields):
    return {
        "entitlementId": ident,
        "accountId": "ACC-9",
        "productId": NETFLIX_BASIC,
        "status": "ACTIVE",
        **fields,
    }


def many(account_id: str, count: int):
    return [
        {
            "entitlementId": f"{account_id}-E{n:02}",
            "accountId": account_id,
            "productId": NETFLIX_BASIC,
        }
        for n in range(count)
    ]


# --- the request -----------------------------------------------------------------------------


def test_one_account_read_request_shape_and_answer(client, sandbox):
    page = read(client, "ACC-1", correlation_id="corr-read-1", page_size=50)

    assert page.entitlements == (OpfEntitlement("ENT-NF-1", "ACC-1", NETFLIX_BASIC, "ACTIVE"),)
    assert (page.total, page.page_index, page.page_size, page.skipped) == (1, 0, 50, ())
    (get,) = reads(sandbox)
    assert get.method == "GET" and get.correlation_id == "corr-read-1"
    assert get.header("authorization").startswith("Bearer ")
    assert get.header("accept") == "application/json"
    path, _, query = get.path.partition("?")
    assert path == "/crm-gateway/v1/rmg/v1/entitlements"
    params = {k: v[0] for k, v in parse_qs(query).items()}
    assert json.loads(params["filter"]) == {"productType": "THIRDPARTY", "accountId": "ACC-1"}
    assert (params["limit"], params["page"]) == ("50", "1")  # OPF counts pages from 1
    assert sandbox.requests("change_product") == []


def test_tenant_id_and_configured_path(make_client, sandbox):
    client = make_client(tenant_id="tenant-7", entitlements_path="/crm-gateway/v2/elsewhere")
    with pytest.raises(UnexpectedAnswer, match="HTTP 404"):
        read(client)
    (other,) = sandbox.requests("other")
    assert other.path.startswith("/crm-gateway/v2/elsewhere?")
    assert other.tenant_id == "tenant-7"


def test_page_base_is_the_adapters_constant(client, sandbox, monkeypatch):
    monkeypatch.setattr(entitlement_reads, "FIRST_PAGE", 0)
    with pytest.raises(UnexpectedAnswer, match="HTTP 400"):  # the sandbox counts from 1
        read(client, page_index=0)
    assert "page=0" in reads(sandbox)[-1].path


# --- the adapter's answer shapes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "total"),
    [
        ([record("E-1"), record("E-2")], None),
        ({"entitlements": [record("E-1"), record("E-2")], "totalRecords": 2}, 2),
        ({"data": [record("E-1"), record("E-2")], "totalRecords": 7}, 7),
        ({"items": [record("E-1"), record("E-2")]}, None),
        ({"totalRecords": "2", "entitlements": [record("E-1"), record("E-2")]}, None),
        ({"meta": {}, "entitlements": None, "items": [record("E-1"), record("E-2")]}, None),
    ],
)
def test_list_under_any_of_the_known_shapes(client, sandbox, body, total):
    serve(sandbox, body)
    page = read(client)
    assert [e.entitlement_id for e in page.entitlements] == ["E-1", "E-2"]
    assert page.total == total


def test_record_id_from_entitlement_id_or_id_or__id(client, sandbox):
    plain = {k: v for k, v in record().items() if k != "entitlementId"}
    serve(
        sandbox, [{**plain, "id": "by-id"}, {**plain, "_id": "by-underscore"}, {**plain, "id": 42}]
    )
    page = read(client)
    assert [e.entitlement_id for e in page.entitlements] == ["by-id", "by-underscore", "42"]


def test_records_that_do_not_parse_are_reported_not_crashed_on(client, sandbox, opf_logs):
    no_product = {k: v for k, v in record("E-2").items() if k != "productId"}
    serve(
        sandbox,
        [
            record("E-1"),
            no_product,
            "just text",
            {"accountId": "ACC-9", "productId": NETFLIX_BASIC, "status": "ACTIVE"},
            record("E-5", status=["ACTIVE"]),
            record("E-6"),
        ],
    )

    page = read(client)

    assert [e.entitlement_id for e in page.entitlements] == ["E-1", "E-6"]
    assert [(s.position, s.entitlement_id) for s in page.skipped] == [
        (1, "E-2"),
        (2, None),
        (3, None),
        (4, "E-5"),
    ]
    assert "productId" in page.skipped[0].reason and "object" in page.skipped[1].reason
    assert page.records == 6
    warnings = [r for r in opf_logs.records if r.levelname == "WARNING"]
    assert any("4 skipped" in r.getMessage() for r in warnings)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("<html>gateway</html>", "not JSON"),
        ({"entitlements": "none", "total": 0}, "no list"),
        (42, "neither a list nor an object"),
    ],
)
def test_an_answer_that_is_no_page_is_an_unexpected_answer(client, sandbox, body, words):
    serve(sandbox, body)
    with pytest.raises(UnexpectedAnswer, match=words) as caught:
        read(client)
    assert caught.value.http_status == 200 and not caught.value.credentials_refused
    assert sandbox.requests("change_product") == []


@pytest.mark.parametrize("status", [400, 404, 500, 503, 302])
def test_other_statuses_are_unexpected_answers_with_opfs_words(client, sandbox, status):
    serve(sandbox, {"code": "X", "message": "filter not allowed here"}, status=status)
    with pytest.raises(UnexpectedAnswer, match=f"HTTP {status}.*filter not allowed") as caught:
        read(client)
    assert caught.value.http_status == status
    assert len(reads(sandbox)) == 1 and sandbox.requests("change_product") == []


# --- paging ------------------------------------------------------------------------------------


def test_account_pages_reads_every_page_of_one_account(client, sandbox):
    sandbox.load(entitlements=many("ACC-7", 7) + many("ACC-8", 3))

    pages = list(entitlement_reads.account_pages(client, "ACC-7", correlation_id="c", page_size=3))

    assert [len(p.entitlements) for p in pages] == [3, 3, 1]
    assert [e.entitlement_id for p in pages for e in p.entitlements] == [
        f"ACC-7-E{n:02}" for n in range(7)
    ]
    assert [json.loads(_param(r, "filter"))["accountId"] for r in reads(sandbox)] == ["ACC-7"] * 3
    assert [_param(r, "page") for r in reads(sandbox)] == ["1", "2", "3"]


def test_an_exact_multiple_stops_on_the_total_without_an_empty_page(client, sandbox):
    sandbox.load(entitlements=many("ACC-7", 6))
    pages = list(entitlement_reads.account_pages(client, "ACC-7", correlation_id="c", page_size=3))
    assert [len(p.entitlements) for p in pages] == [3, 3]
    assert len(reads(sandbox)) == 2


def test_all_pages_reads_everything_and_resumes_from_a_page(client, sandbox):
    sandbox.load(entitlements=many("ACC-1", 4) + many("ACC-2", 5))

    everything = list(entitlement_reads.all_pages(client, correlation_id="c", page_size=4))
    resumed = list(
        entitlement_reads.all_pages(client, correlation_id="c", page_size=4, start_page_index=1)
    )

    assert sum(len(p.entitlements) for p in everything) == 9
    assert [p.page_index for p in everything] == [0, 1, 2]
    assert [p.page_index for p in resumed] == [1, 2]
    assert [e.entitlement_id for p in resumed for e in p.entitlements] == [
        e.entitlement_id for p in everything[1:] for e in p.entitlements
    ]
    assert "accountId" not in json.loads(_param(reads(sandbox)[0], "filter"))


def test_a_bare_list_stops_at_the_first_short_page(client, sandbox):
    serve(sandbox, [record("E-1"), record("E-2")])
    serve(sandbox, [record("E-3")])
    pages = list(entitlement_reads.all_pages(client, correlation_id="c", page_size=2))
    assert [len(p.entitlements) for p in pages] == [2, 1]


def test_an_opf_that_ignores_page_is_caught_not_read_forever(client, sandbox):
    serve(sandbox, [record("E-1"), record("E-2")], count=5)
    with pytest.raises(UnexpectedAnswer, match="same entitlements"):
        list(entitlement_reads.all_pages(client, correlation_id="c", page_size=2))
    assert len(reads(sandbox)) == 2


def test_an_opf_that_caps_the_page_size_lower_is_caught(client, sandbox):
    serve(sandbox, {"totalRecords": 10, "entitlements": [record("E-1"), record("E-2")]})
    with pytest.raises(UnexpectedAnswer, match="smaller"):
        list(entitlement_reads.all_pages(client, correlation_id="c", page_size=5))


def test_bad_page_arguments_are_refused_before_any_request(client, sandbox):
    for kwargs in ({"page_index": -1}, {"page_size": 0}, {"page_size": 1001}):
        with pytest.raises(ValueError):
            read(client, **kwargs)
    with pytest.raises(ValueError):
        read(client, account_id="..")
    assert sandbox.requests() == []


# --- the read reflects OPF's state -----------------------------------------------------------


def test_the_read_shows_a_change_product_the_sandbox_applied(client, sandbox):
    change = client.change_product(
        entitlement_id="ENT-NF-1", product_id=NETFLIX_PREMIUM, correlation_id="corr-change"
    )
    assert change.outcome is Outcome.COMPLETED

    (entitlement,) = read(client, "ACC-1").entitlements
    assert entitlement.product_id == NETFLIX_PREMIUM


def test_the_read_shows_a_change_made_behind_the_portals_back(client, sandbox):
    sandbox.set_entitlement("ENT-NF-2", product_id=NETFLIX_PREMIUM, status="SUSPENDED")
    (entitlement,) = read(client, "ACC-2").entitlements
    assert (entitlement.product_id, entitlement.status) == (NETFLIX_PREMIUM, "SUSPENDED")


# --- token, connection, errors ---------------------------------------------------------------


def test_reads_reuse_the_token_and_the_connection(client, sandbox):
    client.change_product(entitlement_id="ENT-NF-1", product_id=NETFLIX_PREMIUM, correlation_id="c")
    for account in ("ACC-1", "ACC-2", "ACC-3"):
        read(client, account)

    assert len(sandbox.requests("token")) == 1  # one token for the change and every read
    assert len({r.connection for r in sandbox.requests()}) == 1


@pytest.mark.parametrize("refusal", ["expire_tokens", "reject_auth"])
def test_a_refused_token_is_refreshed_once_and_the_read_resent(client, sandbox, refusal):
    read(client, "ACC-1")
    sandbox.inject("entitlements", refusal)

    page = read(client, "ACC-1")

    assert len(page.entitlements) == 1
    assert [r.status for r in reads(sandbox)] == [200, 403, 200]
    assert len(sandbox.requests("token")) == 2
    assert sandbox.requests("change_product") == []


def test_credentials_refused_twice_is_credentials_refused_and_not_resent_again(
    client, sandbox, opf_logs
):
    sandbox.inject("entitlements", "reject_auth", count=5)

    with pytest.raises(CredentialsRefused) as caught:
        read(client, "ACC-1", correlation_id="corr-refused")

    assert caught.value.credentials_refused is True and caught.value.http_status == 403
    assert caught.value.correlation_id == "corr-refused"
    assert [r.status for r in reads(sandbox)] == [403, 403]
    assert sandbox.requests("change_product") == []
    errors = [r for r in opf_logs.records if r.levelname == "ERROR"]
    assert errors and all("correlation_id=corr-refused" in r.getMessage() for r in errors)


def test_401_is_refused_credentials_too(make_client):
    with Sandbox(port=0, credentials=CREDENTIALS, auth_failure_status=401) as sandbox:
        sandbox.load(products=PRODUCTS, entitlements=[record("E-1", accountId="ACC-1")])
        client = make_client(base_url=sandbox.url, token_url=sandbox.token_url)
        sandbox.inject("entitlements", "reject_auth", count=2)
        with pytest.raises(CredentialsRefused):
            read(client, "ACC-1")
        assert [r.status for r in reads(sandbox)] == [401, 401]


def test_unreachable_opf_is_opf_unreachable(make_client, sandbox, closed_port):
    client = make_client(base_url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(OpfUnreachable, match="connect refused") as caught:
        read(client, "ACC-1")
    assert caught.value.http_status is None
    assert len(sandbox.requests("token")) == 1  # Keycloak answered; OPF never did


def test_unreachable_keycloak_is_opf_unreachable(make_client, sandbox, closed_port):
    client = make_client(token_url=f"http://127.0.0.1:{closed_port}/token")
    with pytest.raises(OpfUnreachable, match="token endpoint unreachable"):
        read(client, "ACC-1")
    assert reads(sandbox) == []


def test_a_hanging_read_is_a_timeout_error(client, sandbox):
    sandbox.inject("entitlements", "hang", seconds=3)
    with pytest.raises(OpfUnreachable, match="read timeout"):
        read(client, "ACC-1")  # read_timeout is 0.5 s
    assert len(reads(sandbox)) == 1  # a read that reached OPF is not retried by the client
    assert sandbox.requests("change_product") == []


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_a_broken_answer_is_opf_unreachable(client, sandbox, fault):
    sandbox.inject("entitlements", fault)
    with pytest.raises(OpfUnreachable):
        read(client, "ACC-1")


def test_no_token_or_secret_in_logs_errors_or_pages(client, sandbox, opf_logs):
    seen = [read(client, "ACC-1")]
    sandbox.inject("token", "expire_tokens")
    seen.append(read(client, "ACC-1"))
    errors = []
    for fault, params in (("reject_auth", {"count": 2}), ("status", {"status": 500})):
        sandbox.inject("entitlements", fault, **params)
        with pytest.raises((CredentialsRefused, UnexpectedAnswer)) as caught:
            read(client, "ACC-1")
        errors.append(caught.value)
    # A body that echoes the token back must not carry it into an error.
    token = reads(sandbox)[-1].header("authorization").removeprefix("Bearer ")
    serve(sandbox, {"message": f"bad token {token}"}, status=400)
    with pytest.raises(UnexpectedAnswer) as echoed:
        read(client, "ACC-1")
    errors.append(echoed.value)

    secrets = {CREDENTIALS.password, CREDENTIALS.client_secret}
    secrets |= {r.header("authorization").removeprefix("Bearer ") for r in reads(sandbox)}
    assert len(secrets) >= 4
    texts = [r.getMessage() for r in opf_logs.records] + [
        repr(r.__dict__) for r in opf_logs.records
    ]
    texts += [repr(p) for p in seen] + [f"{e!r} {e} {e.__dict__}" for e in errors]
    for secret in secrets:
        assert not any(secret in text for text in texts)
    assert "[token]" in str(errors[-1])


def _param(recorded, name):
    return parse_qs(recorded.path.partition("?")[2])[name][0]


def test_the_portals_client_reads_at_opf_entitlements_path(sandbox, settings):
    assert django_settings.OPF_ENTITLEMENTS_PATH == "/crm-gateway/v1/rmg/v1/entitlements"
    settings.OPF_BASE_URL, settings.OPF_TOKEN_URL = sandbox.url, sandbox.token_url
    settings.OPF_TOKEN_GRANT, settings.OPF_CLIENT_ID = "password", CREDENTIALS.client_id
    settings.OPF_USERNAME, settings.OPF_PASSWORD = CREDENTIALS.username, CREDENTIALS.password
    settings.OPF_ENTITLEMENTS_PATH = "/gateway/entitlements"

    with pytest.raises(UnexpectedAnswer, match="HTTP 404"):
        read(get_opf_client(), "ACC-1")
    assert [r.path.partition("?")[0] for r in sandbox.requests("other")] == [
        "/gateway/entitlements"
    ]
