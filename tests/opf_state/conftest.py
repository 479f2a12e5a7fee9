"""Fixtures for the reads of OPF's state: the admin's logged-in clients, changes OPF left open."""

import pytest
from django.urls import reverse

from entitlements.models import Entitlement
from entitlements.outcomes import Outcome
from tests.admin.conftest import agent_client, supervisor_client  # noqa: F401  (fixtures)
from tests.factories import change

STANDARD, PREMIUM, BASIC = (
    "Netflix_EU_B_BUNDLE_STANDARD",
    "Netflix_EU_B_BUNDLE_PREMIUM",
    "Netflix_EU_B_BUNDLE_BASIC",
)


def refresh_url(opf_id: str) -> str:
    pk = Entitlement.objects.get(opf_id=opf_id).pk
    return reverse("admin:entitlements_entitlement_refresh", args=[pk])


def unknown_change(sandbox, user, opf_id: str, product: str, *, applied: bool):
    """A change OPF answered 500: outcome unknown; `applied` says whether OPF made it anyway."""
    sandbox.inject("change_product", "status", status=500, apply=applied)
    made = change(opf_id, product, user)
    assert made.outcome == Outcome.OUTCOME_UNKNOWN
    return made


@pytest.fixture
def open_changes(sandbox, world, agent, settings):
    """Three changes OPF never settled for the portal, each with what OPF's state shows:
    applied (unknown outcome, OPF on the new product), not applied (unknown, OPF on the old one)
    and still pending (a confirmation past the deadline, OPF on the old product)."""
    settings.CONFIRMATION_DEADLINE = 0
    applied = unknown_change(sandbox, agent, "ENT-NFX-1", PREMIUM, applied=True)
    not_applied = unknown_change(sandbox, agent, "ENT-NFX-2", STANDARD, applied=False)
    pending = change("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", agent)
    assert pending.outcome == Outcome.AWAITING_CONFIRMATION
    sandbox.reset_requests()
    return {"applied": applied, "not_applied": not_applied, "pending": pending}
