"""The change service against the OPF sandbox over real HTTP: rows O1-O15 of docs/reliability.md."""

import logging
import socket

import pytest

from entitlements.exceptions import ChangeRefused, StaleEntitlement
from entitlements.models import ChangeAttempt, Entitlement, Product
from entitlements.outcomes import Outcome
from entitlements.services import change_product
from tests.factories import change, change_attempt

pytestmark = pytest.mark.django_db


def posts(sandbox):
    return sandbox.requests("change_product")


def test_o1_200_completes_and_updates_the_mirror(sandbox, world, agent):
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent, comment="asked by phone")

    assert attempt.outcome == Outcome.COMPLETED
    assert attempt.http_status == 200
    assert "Netflix_EU_B_BUNDLE_PREMIUM" in attempt.response_body
    assert attempt.finished_at is not None and attempt.duration_ms is not None
    assert (attempt.actor_username, attempt.reason_code) == ("agent", "customer_upgrade")
    assert attempt.account_id == "ACC-1001" and attempt.comment == "asked by phone"
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.product.opf_id == "Netflix_EU_B_BUNDLE_PREMIUM"
    assert entitlement.version == 2
    [post] = posts(sandbox)
    assert post.entitlement_id == "ENT-NFX-1"
    assert post.json() == {"productId": "Netflix_EU_B_BUNDLE_PREMIUM"}
    assert post.header("content-type") == "application/json"
    assert sandbox.entitlement("ENT-NFX-1")["productId"] == "Netflix_EU_B_BUNDLE_PREMIUM"


def test_o2_202_awaits_confirmation_and_keeps_the_product(sandbox, world, agent):
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)

    assert attempt.outcome == Outcome.AWAITING_CONFIRMATION
    assert attempt.http_status == 202
    entitlement = Entitlement.objects.get(opf_id="ENT-DSN-1")
    assert entitlement.product.opf_id == "DisneyPlus_EU_STANDARD"
    assert entitlement.pending_product.opf_id == "DisneyPlus_EU_PREMIUM"
    assert entitlement.pending_since is not None
    assert len(posts(sandbox)) == 1
    # and it blocks another change until the provider answers (O15)
    with pytest.raises(ChangeRefused, match="awaiting provider confirmation"):
        change("ENT-DSN-1", "DisneyPlus_EU_BASIC", agent)
    assert len(posts(sandbox)) == 1


def test_o3_400_is_rejected_with_opfs_message_and_no_retry(sandbox, world, agent):
    sandbox.inject(
        "change_product", "status", status=400,
        body='{"code": "BAD", "message": "Product <b>not allowed</b> for this offer"}',
    )
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)

    assert attempt.outcome == Outcome.REJECTED
    assert attempt.opf_message == "Product <b>not allowed</b> for this offer"
    assert len(posts(sandbox)) == 1
    assert Entitlement.objects.get(opf_id="ENT-NFX-1").product.opf_id.endswith("STANDARD")


def test_sandbox_own_400_for_a_product_it_does_not_know(sandbox, world, agent):
    Product.objects.create(
        opf_id="Netflix_EU_B_BUNDLE_ULTRA", name="Netflix Ultra", provider_id="Netflix_EU_B",
        provider_resource_id="BUNDLE_ULTRA", tier=4,
    )
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_ULTRA", agent)
    assert attempt.outcome == Outcome.REJECTED and attempt.http_status == 400
    assert attempt.opf_message


def test_o4_404_not_found_flags_the_entitlement(sandbox, world, agent):
    sandbox.load(entitlements=[])
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)

    assert attempt.outcome == Outcome.NOT_FOUND
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.needs_review is True
    assert entitlement.product.opf_id.endswith("STANDARD")
    assert len(posts(sandbox)) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_o5_connection_refused_is_not_sent(sandbox, world, agent, settings):
    settings.OPF_BASE_URL = f"http://127.0.0.1:{_closed_port()}"
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)

    assert attempt.outcome == Outcome.NOT_SENT
    assert attempt.http_status is None
    # a few quick retries, all refused
    assert 1 < len(attempt.http_attempts) <= 4
    assert posts(sandbox) == []
    assert Entitlement.objects.get(opf_id="ENT-NFX-1").version == 1
    # not sent is final and harmless: the agent may simply try again
    settings.OPF_BASE_URL = sandbox.url
    assert change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent).outcome == Outcome.COMPLETED


@pytest.mark.parametrize("fault", ["hang", "reset", "truncate"])
def test_o6_no_clear_answer_is_outcome_unknown_and_never_resent(
    sandbox, world, agent, settings, fault
):
    settings.OPF_READ_TIMEOUT = 0.5
    sandbox.inject("change_product", fault, seconds=3) if fault == "hang" else sandbox.inject(
        "change_product", fault
    )
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)

    assert attempt.outcome == Outcome.OUTCOME_UNKNOWN
    assert len(posts(sandbox)) == 1
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.product.opf_id.endswith("STANDARD") and entitlement.needs_review
    # blocked until a supervisor reconciles: a new attempt could repeat what OPF already did
    with pytest.raises(ChangeRefused, match="unknown outcome"):
        change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_BASIC", agent)
    assert len(posts(sandbox)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 302, 301, 204, 418])
def test_o7_5xx_3xx_204_are_outcome_unknown(sandbox, world, agent, status):
    headers = {"Location": sandbox.url + "/elsewhere"} if 300 <= status < 400 else {}
    sandbox.inject("change_product", "status", status=status, body="", headers=headers)
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)

    assert attempt.outcome == Outcome.OUTCOME_UNKNOWN
    assert attempt.http_status == status
    assert len(sandbox.requests()) - len(sandbox.requests("token")) == 1  # redirect not followed


@pytest.mark.parametrize("auth_status", [401, 403])
def test_o8_expired_token_is_refreshed_and_resent_once(sandbox, world, agent, auth_status):
    sandbox.configure(auth_failure_status=auth_status)
    change("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", agent)  # caches a token
    sandbox.inject("change_product", "expire_tokens")
    sandbox.reset_requests()

    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)

    assert attempt.outcome == Outcome.COMPLETED
    assert [a["http_status"] for a in attempt.http_attempts] == [auth_status, 200]
    first, second = posts(sandbox)
    assert first.correlation_id == second.correlation_id == attempt.correlation_id
    assert first.header("authorization") != second.header("authorization")
    assert len(sandbox.requests("token")) == 1


def test_o9_refused_again_after_refresh_stops_and_alerts(sandbox, world, agent, caplog):
    sandbox.inject("change_product", "reject_auth", count=5)
    with caplog.at_level(logging.INFO):
        attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)

    assert attempt.outcome == Outcome.REJECTED
    assert len(posts(sandbox)) == 2
    from entitlements.messages import change_message

    assert "refused the portal's credentials" in change_message(attempt)
    alerts = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("credentials" in r.getMessage() for r in alerts)


@pytest.mark.parametrize("status", [503, 401])
def test_o10_token_endpoint_down_is_not_sent(sandbox, world, agent, status):
    sandbox.inject("token", "refuse_token", count=10, status=status)
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)

    assert attempt.outcome == Outcome.NOT_SENT
    assert "token" in attempt.detail.lower()  # the audit says why nothing was sent
    assert posts(sandbox) == []


def test_o10_token_endpoint_unreachable_is_not_sent(sandbox, world, agent, settings):
    settings.OPF_TOKEN_URL = f"http://127.0.0.1:{_closed_port()}/token"
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    assert attempt.outcome == Outcome.NOT_SENT
    assert posts(sandbox) == []


def test_o11_o12_correlation_id_in_header_audit_and_logs_token_nowhere(
    sandbox, world, agent, caplog
):
    with caplog.at_level(logging.DEBUG):
        first = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
        second = change("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", agent)

    sent = posts(sandbox)
    assert [p.correlation_id for p in sent] == [first.correlation_id, second.correlation_id]
    assert first.correlation_id != second.correlation_id
    token = sent[0].header("authorization").removeprefix("Bearer ")
    assert len(token) > 10
    change_lines = [r.getMessage() for r in caplog.records if r.name.startswith("entitlements")]
    assert any(first.correlation_id in line for line in change_lines)
    for line in change_lines:
        assert first.correlation_id in line or second.correlation_id in line, line
        assert token not in line
    everything = " ".join(r.getMessage() for r in caplog.records)
    assert token not in everything and "careportal-sandbox-password" not in everything
    for attempt in ChangeAttempt.objects.all():
        stored = " ".join(str(v) for v in attempt.__dict__.values())
        assert token not in stored


def test_tenant_header_is_sent_when_configured(sandbox, world, agent, settings):
    settings.OPF_TENANT_ID = "tenant-42"
    change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    assert posts(sandbox)[0].tenant_id == "tenant-42"


def test_tenant_header_is_absent_when_not_configured(sandbox, world, agent):
    change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    assert posts(sandbox)[0].tenant_id is None


@pytest.mark.parametrize(
    "entitlement_id",
    ["a/b", "..", ".", "a%2Fb", "with space", "ünïcødé-ĕnt", "x" * 10_000, "../../admin"],
)
def test_o13_hostile_ids_never_reach_another_path(sandbox, world, agent, entitlement_id):
    netflix_standard = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_STANDARD")
    Entitlement.objects.create(
        opf_id=entitlement_id[:200], account_id="ACC-X", provider_id="Netflix_EU_B",
        product=netflix_standard, status="ACTIVE",
    )
    sandbox.load(
        entitlements=[
            {"entitlementId": entitlement_id[:200], "accountId": "ACC-X",
             "productId": "Netflix_EU_B_BUNDLE_STANDARD", "status": "ACTIVE"}
        ]
    )
    try:
        attempt = change(entitlement_id[:200], "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    except ChangeRefused:
        assert sandbox.requests() == []
        return
    [post] = posts(sandbox)
    assert post.entitlement_id == entitlement_id[:200]
    assert attempt.outcome == Outcome.COMPLETED
    assert [r for r in sandbox.requests() if r.kind == "other"] == []


@pytest.mark.parametrize(
    "product_id, message",
    [
        ("DisneyPlus_EU_PREMIUM", "another provider"),
        ("Netflix_EU_B_BUNDLE_STANDARD", "already the current product"),
        ("Netflix_EU_B_BUNDLE_LEGACY", "no longer offered"),
    ],
)
def test_o14_products_that_cannot_be_chosen_are_refused(
    sandbox, world, agent, product_id, message
):
    with pytest.raises(ChangeRefused, match=message):
        change("ENT-NFX-1", product_id, agent)
    assert sandbox.requests() == []
    assert ChangeAttempt.objects.count() == 0


def test_o14_product_not_in_the_catalogue_is_refused(sandbox, world, agent):
    with pytest.raises(ChangeRefused, match="not in the catalogue"):
        change_product(
            entitlement=Entitlement.objects.get(opf_id="ENT-NFX-1"),
            new_product=Product(opf_id="Netflix_EU_B_NOPE", provider_id="Netflix_EU_B"),
            user=agent,
            reason_code="customer_upgrade",
        )
    assert sandbox.requests() == []


@pytest.mark.parametrize("entitlement_id", ["ENT-CANCELLED", "ENT-REVOKED"])
def test_o15_cancelled_or_revoked_entitlements_are_refused(
    sandbox, world, agent, entitlement_id
):
    with pytest.raises(ChangeRefused, match="cannot change product"):
        change(entitlement_id, "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    assert sandbox.requests() == []


def test_reason_code_is_required(sandbox, world, agent):
    with pytest.raises(ChangeRefused, match="reason"):
        change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent, reason_code="")
    assert sandbox.requests() == []


def test_x3_stale_version_is_refused(sandbox, world, agent):
    with pytest.raises(StaleEntitlement, match="changed since you opened"):
        change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent, expected_version=0)
    assert sandbox.requests() == []


def test_token_is_reused_across_changes(sandbox, world, agent):
    change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    change("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", agent)
    change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_BASIC", agent)
    assert len(posts(sandbox)) == 3
    assert len(sandbox.requests("token")) == 1
    # one keep-alive TCP connection carried every changeProduct
    assert len({p.connection for p in posts(sandbox)}) == 1


def test_an_open_change_is_enforced_by_the_database(sandbox, world, agent):
    from django.db import IntegrityError, transaction

    change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)  # 202: awaiting confirmation
    existing = ChangeAttempt.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        change_attempt("ENT-DSN-1", existing.from_product.opf_id, Outcome.IN_FLIGHT)
