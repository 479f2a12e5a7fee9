"""Refresh from OPF over real HTTP: the sandbox changes state behind the portal's back."""

import pytest
from django.urls import reverse
from django.utils import timezone

from entitlements.models import ChangeAttempt, ChangeOrigin, Entitlement, Product
from entitlements.opf import OpfEntitlement
from entitlements.services.refresh import Asker, apply_records
from tests.admin.conftest import entitlement_url, messages_of
from tests.factories import change

from .conftest import BASIC, PREMIUM, STANDARD, refresh_url

pytestmark = pytest.mark.django_db


def test_refresh_shows_and_audits_each_difference(sandbox, world, agent_client):
    sandbox.set_entitlement("ENT-NFX-1", product_id=PREMIUM, status="SUSPENDED")
    before = Entitlement.objects.get(opf_id="ENT-NFX-1")

    response = agent_client.post(refresh_url("ENT-NFX-1"), follow=True)

    [said] = messages_of(response)
    assert said.startswith("Refreshed from OPF: 1 difference(s) applied and audited.")
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.product.opf_id == PREMIUM and entitlement.status == "SUSPENDED"
    assert entitlement.version == before.version + 1  # a form opened before is stale
    assert entitlement.confirmed_by_opf_at is not None
    [refresh] = ChangeAttempt.objects.filter(origin=ChangeOrigin.REFRESH)
    assert (refresh.from_product.opf_id, refresh.to_product.opf_id) == (STANDARD, PREMIUM)
    assert f"The mirror said {STANDARD} (ACTIVE, account ACC-1001)" in refresh.detail
    assert f"OPF says {PREMIUM} (SUSPENDED, account ACC-1001)" in refresh.detail
    assert refresh.actor_username == "agent" and refresh.finished_at is not None
    page = response.content.decode()
    assert 'id="current-product">Netflix Premium<' in page
    assert "refreshed from OPF" in page.split('id="change-history"', 1)[1]
    assert (
        "Last confirmed by OPF" in page and "never" not in page.split("Last confirmed", 1)[1][:80]
    )
    assert sandbox.requests("change_product") == []  # a read only
    assert len(sandbox.requests("entitlements")) == 1


def test_a_refresh_without_difference_only_confirms(sandbox, world, agent_client):
    version = Entitlement.objects.get(opf_id="ENT-NFX-1").version
    response = agent_client.post(refresh_url("ENT-NFX-1"), follow=True)
    assert messages_of(response) == ["Refreshed from OPF: the mirror matches OPF."]
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.version == version and entitlement.confirmed_by_opf_at is not None
    assert not ChangeAttempt.objects.exists()


@pytest.mark.parametrize(
    "fault, why",
    [
        (("reset", {"count": 3}), "OPF could not be read"),
        (("reject_auth", {"count": 2}), "refused the portal's credentials"),
    ],
    ids=["unreachable", "403"],
)
def test_an_unreachable_or_403ing_read_changes_nothing_and_says_why(
    sandbox, world, agent_client, fault, why
):
    sandbox.set_entitlement("ENT-NFX-1", product_id=PREMIUM)
    name, params = fault
    sandbox.inject("entitlements", name, **params)
    before = Entitlement.objects.get(opf_id="ENT-NFX-1")

    response = agent_client.post(refresh_url("ENT-NFX-1"), follow=True)

    [said] = messages_of(response)
    assert said.startswith("OPF could not be read, nothing was changed: ") and why in said
    assert "last confirmed by OPF never" in said
    after = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert (after.product_id, after.version, after.confirmed_by_opf_at) == (
        before.product_id, before.version, None,
    )  # fmt: skip
    assert not ChangeAttempt.objects.exists()
    assert sandbox.requests("change_product") == []


def test_a_product_not_in_the_catalogue_is_reported_and_flagged_not_applied(
    sandbox, world, agent_client
):
    # The portal's catalogue lacks the product OPF now shows.
    Product.objects.filter(opf_id=BASIC).update(opf_id="Netflix_EU_B_BUNDLE_RETIRED")
    sandbox.set_entitlement("ENT-NFX-1", product_id=BASIC)

    response = agent_client.post(refresh_url("ENT-NFX-1"), follow=True)

    [said] = messages_of(response)
    assert f"OPF shows product {BASIC}, which is not in the catalogue" in said
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.product.opf_id == STANDARD and entitlement.needs_review
    assert not ChangeAttempt.objects.exists()


def test_an_account_refresh_applies_every_difference_of_the_account(sandbox, world, agent_client):
    sandbox.set_entitlement("ENT-NFX-1", product_id=BASIC)
    sandbox.set_entitlement("ENT-DSN-1", product_id="DisneyPlus_EU_PREMIUM")
    sandbox.set_entitlement("ENT-NFX-2", product_id=STANDARD)  # another account: untouched
    url = reverse("admin:entitlements_entitlement_refresh_account", args=["ACC-1001"])

    response = agent_client.post(url, {"next": entitlement_url("ENT-NFX-1")}, follow=True)

    assert response.redirect_chain[-1][0] == entitlement_url("ENT-NFX-1")
    [said] = messages_of(response)
    assert "2 difference(s) applied" in said
    products = dict(Entitlement.objects.values_list("opf_id", "product__opf_id"))
    assert products["ENT-NFX-1"] == BASIC and products["ENT-DSN-1"] == "DisneyPlus_EU_PREMIUM"
    assert products["ENT-NFX-2"] == PREMIUM
    assert ChangeAttempt.objects.filter(origin=ChangeOrigin.REFRESH).count() == 2


def test_a_refresh_never_undoes_a_change_that_finished_while_reading(sandbox, world, agent):
    read_at = timezone.now()
    change("ENT-NFX-1", PREMIUM, agent)  # finishes after the read began
    stale = OpfEntitlement("ENT-NFX-1", "ACC-1001", STANDARD, "ACTIVE")
    done = apply_records([stale], read_at=read_at, asker=Asker(name="test"))
    assert done.counts["moved_meanwhile"] == 1
    assert Entitlement.objects.get(opf_id="ENT-NFX-1").product.opf_id == PREMIUM
