"""A signed but absurd occurredAt is refused with 400 and never stored (issue 9, item 4).

The window (docs/notifications.md): from 2000-01-01T00:00:00Z to one day after the portal's
clock. A year-1 date became a BC timestamp on PostgreSQL that psycopg could not read back, so the
entitlement's pages and every later notification of it failed; a year-9999 one gave 503, which
OPF retries for ever.
"""

import pytest
from django.urls import reverse

from entitlements.models import ChangeAttempt, Entitlement, NotificationDelivery

from .conftest import notification

pytestmark = pytest.mark.django_db(transaction=True)

ABSURD = [
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59.999999+14:00",
    "1999-12-31T23:59:59Z",
    "2999-01-01T00:00:00Z",
]


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.mark.parametrize("occurred_at", ABSURD)
@pytest.mark.parametrize("event", ["PRODUCT_CHANGED_AT_PROVIDER", "STATUS_CHANGED"])
def test_a_date_outside_the_window_gets_400_and_nothing_is_stored(
    world, deliver, agent_client, event, occurred_at
):
    fields = (
        {"productId": "Netflix_EU_B_BUNDLE_BASIC"}
        if event == "PRODUCT_CHANGED_AT_PROVIDER"
        else {"status": "SUSPENDED"}
    )
    answer = deliver(notification(event, "ENT-NFX-1", occurredAt=occurred_at, **fields))

    assert answer.status_code == 400, answer.text
    assert set(answer.json()["fields"]) == {"occurredAt"}
    assert "2000-01-01" in answer.json()["fields"]["occurredAt"]
    assert not NotificationDelivery.objects.exists() and not ChangeAttempt.objects.exists()
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.version == 1
    # The entitlement stays readable, alone and in the lists.
    page = agent_client.get(reverse("admin:entitlements_entitlement_change", args=[entitlement.pk]))
    assert page.status_code == 200
    listing = agent_client.get(reverse("admin:entitlements_entitlement_changelist") + "?q=ENT-NFX")
    assert listing.status_code == 200 and b"ENT-NFX-1" in listing.content
    # And a later, sane notification of it is applied.
    later = notification("STATUS_CHANGED", "ENT-NFX-1", status="SUSPENDED")
    assert deliver(later).json() == {"result": "applied"}


@pytest.mark.parametrize("occurred_at", ["2000-01-01T00:00:00Z", "2000-01-01T01:00:00+01:00"])
def test_the_first_moment_of_the_window_is_accepted(world, deliver, occurred_at):
    body = notification("STATUS_CHANGED", "ENT-NFX-1", status="SUSPENDED", occurredAt=occurred_at)
    assert deliver(body).json() == {"result": "applied"}
    delivery = NotificationDelivery.objects.get()  # read back from the database
    assert delivery.occurred_at.year == 2000
