"""Provider-side changes are ordered by what OPF says happened (occurredAt), never by when the
portal received them (issue 9, item 1; docs/notifications.md "Never backwards")."""

from datetime import UTC, datetime, timedelta

import pytest

from entitlements.models import ChangeAttempt, Entitlement, NotificationDelivery
from tests.factories import change

from .conftest import iso, notification

pytestmark = pytest.mark.django_db(transaction=True)

STANDARD, PREMIUM, BASIC = (
    "Netflix_EU_B_BUNDLE_STANDARD",
    "Netflix_EU_B_BUNDLE_PREMIUM",
    "Netflix_EU_B_BUNDLE_BASIC",
)


def _provider_change(product_id: str, occurred_at: datetime) -> bytes:
    return notification(
        "PRODUCT_CHANGED_AT_PROVIDER",
        "ENT-NFX-1",
        productId=product_id,
        occurredAt=iso(occurred_at),
    )


def _product() -> str:
    return Entitlement.objects.select_related("product").get(opf_id="ENT-NFX-1").product.opf_id


def test_a_newer_provider_change_delivered_after_an_older_one_is_applied(world, deliver):
    t = datetime.now(UTC) - timedelta(minutes=1)  # both in the past, received "now"
    assert deliver(_provider_change(PREMIUM, t)).json() == {"result": "applied"}
    assert deliver(_provider_change(BASIC, t + timedelta(seconds=10))).json() == {
        "result": "applied"
    }
    assert _product() == BASIC
    assert ChangeAttempt.objects.filter(origin="provider").count() == 2


def test_the_same_provider_change_under_a_new_webhook_id_is_already_applied(world, deliver):
    t = datetime.now(UTC) - timedelta(minutes=1)
    assert deliver(_provider_change(PREMIUM, t)).json() == {"result": "applied"}
    # OPF resends the same fact under another webhook-id: nothing to do, and not "stale".
    assert deliver(_provider_change(PREMIUM, t)).json() == {"result": "already_applied"}
    assert _product() == PREMIUM
    assert ChangeAttempt.objects.count() == 1
    assert NotificationDelivery.objects.filter(result="already_applied").count() == 1


def test_an_older_provider_change_after_a_newer_one_is_still_stale(world, deliver):
    t = datetime.now(UTC) - timedelta(minutes=1)
    assert deliver(_provider_change(BASIC, t + timedelta(seconds=10))).json() == {
        "result": "applied"
    }
    assert deliver(_provider_change(PREMIUM, t)).json() == {"result": "stale"}
    assert _product() == BASIC


def test_a_portal_change_orders_by_the_time_opf_answered_it(sandbox, world, agent, deliver):
    before = datetime.now(UTC) - timedelta(seconds=30)
    attempt = change("ENT-NFX-1", PREMIUM, agent)  # OPF answered 200
    # Made at the provider before OPF answered the portal's change: older, ignored.
    assert deliver(_provider_change(BASIC, before)).json() == {"result": "stale"}
    assert _product() == PREMIUM
    # Made at the provider after OPF answered it: the newer fact, applied.
    after = attempt.finished_at + timedelta(seconds=1)
    assert deliver(_provider_change(BASIC, after)).json() == {"result": "applied"}
    assert _product() == BASIC
