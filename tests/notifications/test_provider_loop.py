"""The whole loop over real HTTP both ways: portal -> OPF sandbox (changeProduct, 202), then
sandbox -> portal (signed notification). Rows N1-N4, and out-of-order deliveries."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from entitlements.models import ChangeAttempt, Entitlement, NotificationDelivery
from entitlements.outcomes import Outcome
from tests.factories import change

from .conftest import OTHER_SECRET, iso, notification

pytestmark = pytest.mark.django_db(transaction=True)


def mirror(entitlement_id="ENT-DSN-1"):
    return Entitlement.objects.select_related("product", "pending_product").get(
        opf_id=entitlement_id
    )


def fresh(attempt):
    return ChangeAttempt.objects.get(pk=attempt.pk)


# --- N1: valid signature, awaited change --------------------------------------------------


def test_n1_the_providers_confirmation_completes_the_awaited_change(
    notifying_sandbox, world, agent
):
    sandbox = notifying_sandbox
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    assert attempt.outcome == Outcome.AWAITING_CONFIRMATION
    assert mirror().pending_product.opf_id == "DisneyPlus_EU_PREMIUM"

    assert sandbox.release_notifications() == 1
    [sent] = sandbox.wait_for_deliveries()

    assert sent["state"] == "delivered" and sent["status"] == 200
    assert '"applied"' in sent["attempts"][-1]["answer"]
    assert sent["payload"]["eventType"] == "CHANGE_CONFIRMED"
    assert sent["payload"]["correlationId"] == attempt.correlation_id
    attempt = fresh(attempt)
    assert attempt.outcome == Outcome.CONFIRMED and attempt.finished_at is not None
    assert attempt.http_status == 202  # the 202 bookkeeping is kept
    assert attempt.detail.startswith("Confirmed by the provider at 20")
    e = mirror()
    assert e.product.opf_id == "DisneyPlus_EU_PREMIUM"
    assert (e.pending_product, e.pending_since, e.version) == (None, None, 3)
    # Audited with the raw delivery, linked to the change it confirmed.
    delivery = NotificationDelivery.objects.get()
    assert delivery.change == attempt and delivery.result == "applied"
    assert delivery.webhook_id == sent["webhook_id"]
    assert attempt.correlation_id in delivery.body
    assert delivery.occurred_at is not None
    # OPF holds the same, and was called once.
    assert sandbox.entitlement("ENT-DSN-1")["productId"] == "DisneyPlus_EU_PREMIUM"
    assert len(sandbox.requests("change_product")) == 1


def test_n1_a_decline_clears_the_pending_change_and_keeps_the_tier(notifying_sandbox, world, agent):
    sandbox = notifying_sandbox
    sandbox.configure(notify_decision={"DisneyPlus_EU": "decline"})
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    sandbox.release_notifications()
    [sent] = sandbox.wait_for_deliveries()

    assert sent["payload"]["eventType"] == "CHANGE_DECLINED" and sent["status"] == 200
    assert fresh(attempt).outcome == Outcome.DECLINED
    e = mirror()
    assert e.product.opf_id == "DisneyPlus_EU_STANDARD"
    assert (e.pending_product, e.pending_since, e.version) == (None, None, 3)
    assert sandbox.entitlement("ENT-DSN-1")["pendingProductId"] is None
    # The entitlement can change again.
    assert change("ENT-DSN-1", "DisneyPlus_EU_BASIC", agent).outcome == (
        Outcome.AWAITING_CONFIRMATION
    )


def test_n1_a_confirmation_without_correlation_id_matches_the_awaited_product(
    sandbox, world, agent, deliver
):
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    answer = deliver(
        notification("CHANGE_CONFIRMED", "ENT-DSN-1", productId="DisneyPlus_EU_PREMIUM")
    )
    assert answer.json() == {"result": "applied"}
    assert fresh(attempt).outcome == Outcome.CONFIRMED
    assert mirror().product.opf_id == "DisneyPlus_EU_PREMIUM"


def test_n1_a_confirmation_that_matches_no_change_is_kept_for_review(
    sandbox, world, agent, deliver
):
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    for body in (
        notification(
            "CHANGE_CONFIRMED", "ENT-DSN-1", productId="DisneyPlus_EU_PREMIUM", correlationId="x"
        ),
        notification("CHANGE_CONFIRMED", "ENT-DSN-1", productId="DisneyPlus_EU_BASIC"),
        notification(
            "CHANGE_CONFIRMED",
            "ENT-NFX-1",
            productId="DisneyPlus_EU_PREMIUM",
            correlationId=attempt.correlation_id,
        ),
    ):
        assert deliver(body).json() == {"result": "unmatched"}
    assert fresh(attempt).outcome == Outcome.AWAITING_CONFIRMATION
    assert NotificationDelivery.objects.filter(needs_review=True).count() == 3
    assert mirror().version == 2


def test_n1_a_confirmation_settles_a_change_of_unknown_outcome(notifying_sandbox, world, agent):
    """OPF did the change but the portal never heard (502 after applying): the notification
    tells the truth that reconciliation was waiting for."""
    sandbox = notifying_sandbox
    sandbox.inject("change_product", "status", status=502, apply=True)
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    assert attempt.outcome == Outcome.OUTCOME_UNKNOWN

    sandbox.release_notifications()
    [sent] = sandbox.wait_for_deliveries()
    assert sent["status"] == 200
    assert fresh(attempt).outcome == Outcome.CONFIRMED
    assert mirror().product.opf_id == "DisneyPlus_EU_PREMIUM"


# --- N2: the notification arrives before the portal recorded the 202 -------------------------


@pytest.mark.parametrize("decision", ["confirm", "decline"])
def test_n2_a_notification_before_the_202_is_recorded_still_settles_the_change(
    notifying_sandbox, world, agent, caplog, decision
):
    sandbox = notifying_sandbox
    # 0: the sandbox delivers from inside the changeProduct request, before answering 202.
    sandbox.configure(notify_delay=0, notify_decision=decision)
    with caplog.at_level(logging.INFO, logger="entitlements"):
        attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)

    [post] = sandbox.requests("change_product")
    [sent] = sandbox.deliveries()
    assert post.status == 202 and sent["status"] == 200
    assert sent["attempts"][-1]["time"] < post.time + 5
    expected = Outcome.CONFIRMED if decision == "confirm" else Outcome.DECLINED
    assert attempt.outcome == expected == fresh(attempt).outcome
    assert "late answer ignored" in caplog.text
    e = mirror()
    assert e.pending_product is None and e.pending_since is None
    tier = "DisneyPlus_EU_PREMIUM" if decision == "confirm" else "DisneyPlus_EU_STANDARD"
    assert e.product.opf_id == tier
    delivery = NotificationDelivery.objects.get()
    assert "in flight -> " in delivery.detail


# --- N3 through the sandbox: OPF retries the same delivery -----------------------------------


def test_n3_a_redelivery_by_opf_changes_nothing_more(notifying_sandbox, world, agent):
    sandbox = notifying_sandbox
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    sandbox.release_notifications()
    [sent] = sandbox.wait_for_deliveries()

    again = sandbox.redeliver(sent["webhook_id"])
    assert again["status"] == 200 and '"duplicate"' in again["attempts"][-1]["answer"]
    assert fresh(attempt).outcome == Outcome.CONFIRMED
    assert mirror().version == 3
    assert NotificationDelivery.objects.count() == 1


def test_n6_the_sandbox_signing_with_a_wrong_secret_is_refused_and_retried(
    notifying_sandbox, world, agent
):
    sandbox = notifying_sandbox
    sandbox.configure(notify_secret=OTHER_SECRET)
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    sandbox.release_notifications()
    [sent] = sandbox.wait_for_deliveries()

    assert sent["state"] == "failed"
    assert [a["status"] for a in sent["attempts"]] == [401, 401, 401]
    assert fresh(attempt).outcome == Outcome.AWAITING_CONFIRMATION
    assert NotificationDelivery.objects.count() == 0


# --- N4: a change made by the customer at the provider ----------------------------------------


def test_n4_a_provider_side_change_updates_the_mirror_without_calling_opf(notifying_sandbox, world):
    sandbox = notifying_sandbox
    sent = sandbox.emit_provider_change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")

    assert sent["status"] == 200 and '"applied"' in sent["attempts"][-1]["answer"]
    e = mirror("ENT-NFX-1")
    assert e.product.opf_id == "Netflix_EU_B_BUNDLE_PREMIUM" and e.version == 2
    change_record = ChangeAttempt.objects.get()
    assert change_record.origin == "provider"
    assert change_record.user is None and change_record.actor_username == "provider"
    assert change_record.outcome == Outcome.COMPLETED
    assert change_record.from_product.opf_id == "Netflix_EU_B_BUNDLE_STANDARD"
    assert change_record.to_product.opf_id == "Netflix_EU_B_BUNDLE_PREMIUM"
    assert change_record.reason_code == "provider_change"
    assert "nothing was sent to OPF" in change_record.detail
    assert NotificationDelivery.objects.get().change == change_record
    assert sandbox.requests("change_product") == []  # never a call back to OPF


def test_n4_a_provider_side_change_leaves_an_awaited_change_to_its_own_notification(
    notifying_sandbox, world, agent
):
    sandbox = notifying_sandbox
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    sandbox.emit_provider_change("ENT-DSN-1", "DisneyPlus_EU_BASIC")

    e = mirror()
    assert e.product.opf_id == "DisneyPlus_EU_BASIC"
    assert e.pending_product.opf_id == "DisneyPlus_EU_PREMIUM"
    assert fresh(attempt).outcome == Outcome.AWAITING_CONFIRMATION

    sandbox.release_notifications()
    sandbox.wait_for_deliveries()
    assert fresh(attempt).outcome == Outcome.CONFIRMED
    assert mirror().product.opf_id == "DisneyPlus_EU_PREMIUM"  # the newer event wins
    assert len(sandbox.requests("change_product")) == 1


def test_n4_a_product_unknown_to_the_portal_is_kept_for_review(world, deliver):
    answer = deliver(
        notification("PRODUCT_CHANGED_AT_PROVIDER", "ENT-NFX-1", productId="Netflix_NEW_TIER")
    )
    assert answer.json() == {"result": "unmatched"}
    e = mirror("ENT-NFX-1")
    assert e.product.opf_id == "Netflix_EU_B_BUNDLE_STANDARD" and e.needs_review
    assert NotificationDelivery.objects.get().needs_review


def test_a_status_change_in_opf_updates_the_mirror(notifying_sandbox, world):
    sent = notifying_sandbox.emit_status_change("ENT-NFX-1", "SUSPENDED")
    assert sent["status"] == 200
    e = mirror("ENT-NFX-1")
    assert (e.status, e.version) == ("SUSPENDED", 2)


# --- late and out-of-order deliveries never move anything backwards ---------------------------


def _at(minutes_ago: int) -> str:
    return iso(datetime.now(UTC) - timedelta(minutes=minutes_ago))


def test_an_older_status_change_arriving_late_is_ignored(world, deliver):
    newer = notification("STATUS_CHANGED", "ENT-NFX-1", status="SUSPENDED", occurredAt=_at(1))
    older = notification("STATUS_CHANGED", "ENT-NFX-1", status="ACTIVE", occurredAt=_at(5))
    assert deliver(newer).json() == {"result": "applied"}
    assert deliver(older).json() == {"result": "stale"}
    e = mirror("ENT-NFX-1")
    assert (e.status, e.version) == ("SUSPENDED", 2)


def test_an_older_provider_side_change_arriving_late_is_ignored(world, deliver):
    newer = notification(
        "PRODUCT_CHANGED_AT_PROVIDER",
        "ENT-NFX-1",
        productId="Netflix_EU_B_BUNDLE_BASIC",
        occurredAt=_at(1),
    )
    older = notification(
        "PRODUCT_CHANGED_AT_PROVIDER",
        "ENT-NFX-1",
        productId="Netflix_EU_B_BUNDLE_PREMIUM",
        occurredAt=_at(5),
    )
    assert deliver(newer).json() == {"result": "applied"}
    assert deliver(older).json() == {"result": "stale"}
    assert mirror("ENT-NFX-1").product.opf_id == "Netflix_EU_B_BUNDLE_BASIC"
    assert ChangeAttempt.objects.count() == 1


def test_a_provider_side_change_older_than_a_completed_portal_change_is_ignored(
    sandbox, world, agent, deliver
):
    before = _at(5)
    change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)  # OPF answered 200
    late = notification(
        "PRODUCT_CHANGED_AT_PROVIDER",
        "ENT-NFX-1",
        productId="Netflix_EU_B_BUNDLE_BASIC",
        occurredAt=before,
    )
    assert deliver(late).json() == {"result": "stale"}
    assert mirror("ENT-NFX-1").product.opf_id == "Netflix_EU_B_BUNDLE_PREMIUM"


def test_a_confirmation_older_than_a_later_provider_side_change_keeps_the_newer_tier(
    sandbox, world, agent, deliver
):
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    provider_change = notification(
        "PRODUCT_CHANGED_AT_PROVIDER", "ENT-DSN-1", productId="DisneyPlus_EU_BASIC"
    )
    confirmation = notification(
        "CHANGE_CONFIRMED",
        "ENT-DSN-1",
        productId="DisneyPlus_EU_PREMIUM",
        correlationId=attempt.correlation_id,
        occurredAt=_at(3),
    )
    assert deliver(provider_change).json() == {"result": "applied"}
    assert deliver(confirmation).json() == {"result": "applied"}
    assert fresh(attempt).outcome == Outcome.CONFIRMED
    e = mirror()
    assert e.product.opf_id == "DisneyPlus_EU_BASIC" and e.pending_product is None


def test_a_decline_after_a_confirmation_never_moves_the_change_back(sandbox, world, agent, deliver):
    attempt = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    fields = {"productId": "DisneyPlus_EU_PREMIUM", "correlationId": attempt.correlation_id}
    assert deliver(notification("CHANGE_CONFIRMED", "ENT-DSN-1", **fields)).json() == {
        "result": "applied"
    }
    assert deliver(notification("CHANGE_CONFIRMED", "ENT-DSN-1", **fields)).json() == {
        "result": "already_applied"
    }
    assert deliver(notification("CHANGE_DECLINED", "ENT-DSN-1", **fields)).json() == {
        "result": "unmatched"
    }
    assert fresh(attempt).outcome == Outcome.CONFIRMED
    e = mirror()
    assert (e.product.opf_id, e.version) == ("DisneyPlus_EU_PREMIUM", 3)
    assert NotificationDelivery.objects.filter(needs_review=True).count() == 1


def test_n2_notifications_racing_the_202_bookkeeping_always_end_settled(
    notifying_sandbox, world, agent, caplog
):
    """The notification lands while the portal records the 202, again and again: whichever
    commits first, the change ends confirmed and nothing deadlocks or answers 503."""
    sandbox = notifying_sandbox
    tiers = ["DisneyPlus_EU_PREMIUM", "DisneyPlus_EU_BASIC", "DisneyPlus_EU_STANDARD"]
    for round_number in range(24):
        sandbox.configure(notify_delay=(round_number % 8) / 1000)  # 0 to 7 ms
        target = tiers[round_number % 3]
        attempt = change("ENT-DSN-1", target, agent)
        sandbox.wait_for_deliveries()
        assert fresh(attempt).outcome == Outcome.CONFIRMED, round_number
        e = mirror()
        assert (e.product.opf_id, e.pending_product) == (target, None)
    statuses = {a["status"] for d in sandbox.deliveries() for a in d["attempts"]}
    assert statuses == {200}
    assert "deadlock" not in caplog.text.lower()


def test_a_confirmation_of_a_change_opf_completed_at_once_changes_nothing(
    sandbox, world, agent, deliver
):
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)  # OPF answered 200
    fields = {"productId": "Netflix_EU_B_BUNDLE_PREMIUM", "correlationId": attempt.correlation_id}
    assert deliver(notification("CHANGE_CONFIRMED", "ENT-NFX-1", **fields)).json() == {
        "result": "already_applied"
    }
    assert deliver(notification("CHANGE_DECLINED", "ENT-NFX-1", **fields)).json() == {
        "result": "unmatched"
    }
    assert fresh(attempt).outcome == Outcome.COMPLETED
    assert mirror("ENT-NFX-1").version == 2
