"""The change form reads OPF as it opens: a stale tier is caught before the agent starts."""

import pytest

from entitlements.models import ChangeAttempt, ChangeOrigin, Entitlement
from tests.admin.conftest import change_product_url

from .conftest import BASIC, PREMIUM

pytestmark = pytest.mark.django_db


def offered(page: str) -> str:
    return page.split('id="change-product-form"', 1)[1]


def test_a_stale_change_form_is_caught_when_it_opens(sandbox, world, agent_client):
    sandbox.set_entitlement("ENT-NFX-1", product_id=PREMIUM)  # behind the portal's back

    response = agent_client.get(change_product_url("ENT-NFX-1"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="opf-check-changed"' in page and "OPF already showed another state" in page
    assert 'id="current-product">Netflix Premium<' in page  # the fresh state
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.product.opf_id == PREMIUM
    assert f'name="version" value="{entitlement.version}"' in page
    form = offered(page)
    assert "Netflix Premium" not in form and "Netflix Standard (downgrade)" in form
    assert ChangeAttempt.objects.filter(origin=ChangeOrigin.REFRESH).count() == 1
    assert sandbox.requests("change_product") == []


def test_a_form_opened_on_opfs_state_says_so(sandbox, world, agent_client):
    page = agent_client.get(change_product_url("ENT-NFX-1")).content.decode()
    assert 'id="opf-check-confirmed"' in page
    assert Entitlement.objects.get(opf_id="ENT-NFX-1").confirmed_by_opf_at is not None


def test_an_unreadable_opf_changes_nothing_and_the_form_says_why(sandbox, world, agent_client):
    sandbox.set_entitlement("ENT-NFX-1", product_id=BASIC)
    sandbox.inject("entitlements", "reject_auth", count=2)
    version = Entitlement.objects.get(opf_id="ENT-NFX-1").version

    page = agent_client.get(change_product_url("ENT-NFX-1")).content.decode()

    assert 'id="opf-check-unread"' in page
    assert "OPF could not be read when this form opened" in page
    assert "refused the portal&#x27;s credentials" in page and "never" in page
    assert 'id="current-product">Netflix Standard<' in page  # the mirror's, unchanged
    assert Entitlement.objects.get(opf_id="ENT-NFX-1").version == version
    assert not ChangeAttempt.objects.exists()


def test_without_the_read_configured_the_form_never_reads_opf(
    sandbox, world, agent_client, settings
):
    settings.OPF_ENTITLEMENTS_PATH = ""
    sandbox.set_entitlement("ENT-NFX-1", product_id=PREMIUM)
    page = agent_client.get(change_product_url("ENT-NFX-1")).content.decode()
    assert "opf-check" not in page and sandbox.requests("entitlements") == []
    entitlement_page = agent_client.get(
        change_product_url("ENT-NFX-1").replace("change-product/", "change/")
    ).content.decode()
    assert "Refresh from OPF" not in entitlement_page
