"""The demo's buttons, end to end over real HTTP: a newcomer presses a button on the sandbox's
page (the form, posted as a browser posts it), an agent changes a tier in the portal, and the
portal records the outcome the button promised; for "202 ... later" the provider's decision then
reaches the portal as a signed notification.

Netflix changes are normally answered 200: every outcome below comes from the button alone.
"""

import pytest
import requests

from entitlements.models import ChangeAttempt, Entitlement
from entitlements.outcomes import Outcome
from tests.factories import change

pytestmark = pytest.mark.django_db(transaction=True)

NETFLIX_STANDARD, NETFLIX_PREMIUM = "Netflix_EU_B_BUNDLE_STANDARD", "Netflix_EU_B_BUNDLE_PREMIUM"


def press(sandbox, answer: str, **fields: str) -> None:
    with requests.Session() as browser:
        browser.trust_env = False
        landed = browser.post(
            f"{sandbox.url}/_sandbox/next-change", data={"answer": answer, **fields}, timeout=5
        )
    assert landed.status_code == 200 and landed.url.endswith("/_sandbox/")


def change_netflix(agent) -> ChangeAttempt:
    return change("ENT-NFX-1", NETFLIX_PREMIUM, agent)


def current_product() -> str:
    return Entitlement.objects.get(opf_id="ENT-NFX-1").product.opf_id


def test_400_button_rejects_with_the_reason_shown(notifying_sandbox, world, agent):
    press(notifying_sandbox, "rejected", reason="Premium is not sold in this region")

    attempt = change_netflix(agent)

    assert attempt.outcome == Outcome.REJECTED and attempt.http_status == 400
    assert attempt.opf_message == "Premium is not sold in this region"
    assert current_product() == NETFLIX_STANDARD


@pytest.mark.parametrize(
    ("button", "outcome", "status"),
    [("not_found", Outcome.NOT_FOUND, 404), ("server_error", Outcome.OUTCOME_UNKNOWN, 500)],
)
def test_404_and_500_buttons(notifying_sandbox, world, agent, button, outcome, status):
    press(notifying_sandbox, button)

    attempt = change_netflix(agent)

    assert (attempt.outcome, attempt.http_status) == (outcome, status)
    assert current_product() == NETFLIX_STANDARD


def test_timeout_button_leaves_the_outcome_unknown(notifying_sandbox, world, agent):
    press(notifying_sandbox, "timeout")

    attempt = change_netflix(agent)  # the fixture's OPF_READ_TIMEOUT is 2 s

    assert attempt.outcome == Outcome.OUTCOME_UNKNOWN and "read timeout" in attempt.detail
    assert len(notifying_sandbox.requests("change_product")) == 1  # never resent


@pytest.mark.parametrize(
    ("button", "settled", "product_after"),
    [
        ("confirmed_later", Outcome.CONFIRMED, NETFLIX_PREMIUM),
        ("declined_later", Outcome.DECLINED, NETFLIX_STANDARD),
    ],
)
def test_202_buttons_wait_then_the_provider_decides(
    notifying_sandbox, world, agent, button, settled, product_after
):
    sandbox = notifying_sandbox
    press(sandbox, button)

    attempt = change_netflix(agent)
    assert attempt.outcome == Outcome.AWAITING_CONFIRMATION and attempt.http_status == 202
    assert current_product() == NETFLIX_STANDARD

    assert sandbox.release_notifications() == 1
    [sent] = sandbox.wait_for_deliveries()

    assert sent["status"] == 200
    assert ChangeAttempt.objects.get(pk=attempt.pk).outcome == settled
    assert current_product() == product_after
    assert sandbox.entitlement("ENT-NFX-1")["productId"] == product_after
