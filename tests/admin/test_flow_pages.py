"""The admin's flow pages are admin pages: titled, with breadcrumbs back to where they came from."""

import re

import pytest
from django.urls import reverse

from entitlements.models import Entitlement
from entitlements.outcomes import Outcome

from ..factories import change_attempt
from .conftest import change_product_url, entitlement_url, review

pytestmark = pytest.mark.django_db


def breadcrumbs(response) -> list[tuple[str, str | None]]:
    """The (label, link) pairs of the page's breadcrumbs, Home first."""
    trail = response.content.decode().split('<div class="breadcrumbs">', 1)[1].split("</div>")[0]
    crumbs = []
    for part in trail.split("&rsaquo;"):
        link = re.search(r'<a href="([^"]*)">([^<]*)</a>', part)
        crumbs.append((link[2], link[1]) if link else (part.strip(), None))
    return crumbs


def test_change_product_and_its_confirmation_lead_back_to_the_entitlement(agent_client, world):
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    back = (str(entitlement), entitlement_url("ENT-NFX-1"))
    lists = ("Entitlements", reverse("admin:entitlements_entitlement_changelist"))

    form = agent_client.get(change_product_url("ENT-NFX-1"))
    assert breadcrumbs(form)[0] == ("Home", reverse("admin:index"))
    assert breadcrumbs(form)[2:] == [lists, back, ("Change product", None)]
    assert "<title>Change product | Care Portal</title>" in form.content.decode()

    confirmation = review(agent_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    assert breadcrumbs(confirmation)[2:] == [lists, back, ("Confirm change", None)]


def test_settle_and_the_attention_list_lead_back_to_the_audit_log(supervisor_client, world):
    attempt = change_attempt(outcome=Outcome.OUTCOME_UNKNOWN, correlation_id="corr-unknown-1")
    audit_log = ("Audit log", reverse("admin:entitlements_changeattempt_changelist"))
    record = (
        "corr-unknown-1",
        reverse("admin:entitlements_changeattempt_change", args=[attempt.pk]),
    )

    settle = supervisor_client.get(
        reverse("admin:entitlements_changeattempt_settle", args=[attempt.pk])
    )
    assert breadcrumbs(settle)[2:] == [
        audit_log,
        record,
        ("Settle a change of unknown outcome", None),
    ]

    attention = supervisor_client.get(reverse("admin:entitlements_changeattempt_attention"))
    assert breadcrumbs(attention)[2:] == [audit_log, ("Needs attention", None)]
    assert "corr-unknown-1" in attention.content.decode().split('id="unknown"', 1)[1]
