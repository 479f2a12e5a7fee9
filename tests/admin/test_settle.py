"""Supervisors settle a change of unknown outcome after checking OPF; nothing is resent."""

import re

import pytest
from django.urls import reverse

from entitlements.exceptions import ChangeRefused
from entitlements.models import ChangeAttempt, Entitlement, Settlement
from entitlements.outcomes import Outcome
from entitlements.rules import change_refusal
from entitlements.selectors import open_change
from entitlements.services import settle_unknown_change
from tests.factories import change

from .conftest import messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def unknown(sandbox, world, agent):
    """A change OPF answered with a 500: outcome unknown, the entitlement blocked."""
    sandbox.inject("change_product", "status", status=500)
    attempt = change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)
    assert attempt.outcome == Outcome.OUTCOME_UNKNOWN
    assert change_refusal(
        attempt.entitlement, open_change(attempt.entitlement)
    )  # blocked until settled
    return attempt


def settle_url(attempt) -> str:
    return reverse("admin:entitlements_changeattempt_settle", args=[attempt.pk])


def test_settled_as_applied_moves_the_mirror_and_unblocks(unknown, supervisor, sandbox):
    version_before = Entitlement.objects.get(opf_id="ENT-NFX-1").version
    settled = settle_unknown_change(
        change=unknown, applied=True, user=supervisor, note="OPF shows Premium since 10:02"
    )

    # Issue 10: the settlement is its own fact; the outcome stays as OPF left it.
    assert settled.outcome == Outcome.OUTCOME_UNKNOWN and settled.http_status == 500
    assert settled.settlement == Settlement.APPLIED and settled.settled_at is not None
    assert settled.settled_by == "supervisor"
    assert settled.settlement_note == "OPF shows Premium since 10:02"
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.product.opf_id == "Netflix_EU_B_BUNDLE_PREMIUM"
    assert entitlement.needs_review is False and entitlement.version == version_before + 1
    assert change_refusal(entitlement, open_change(entitlement)) is None
    assert len(sandbox.requests("change_product")) == 1  # nothing resent


def test_settled_as_not_applied_keeps_the_product(unknown, supervisor, sandbox):
    settled = settle_unknown_change(
        change=unknown, applied=False, user=supervisor, note="still Standard in OPF"
    )

    assert settled.outcome == Outcome.OUTCOME_UNKNOWN
    assert settled.settlement == Settlement.NOT_APPLIED
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    assert entitlement.product.opf_id == "Netflix_EU_B_BUNDLE_STANDARD"
    assert change_refusal(entitlement, open_change(entitlement)) is None
    assert len(sandbox.requests("change_product")) == 1


def test_a_note_is_required_and_a_settled_change_stays_settled(unknown, supervisor):
    with pytest.raises(ChangeRefused, match="note is required"):
        settle_unknown_change(change=unknown, applied=True, user=supervisor, note="  ")
    assert ChangeAttempt.objects.get(pk=unknown.pk).outcome == Outcome.OUTCOME_UNKNOWN

    settle_unknown_change(change=unknown, applied=False, user=supervisor, note="checked")
    with pytest.raises(ChangeRefused, match="no longer of unknown outcome"):
        settle_unknown_change(change=unknown, applied=True, user=supervisor, note="again")
    assert ChangeAttempt.objects.get(pk=unknown.pk).settlement == Settlement.NOT_APPLIED


def test_an_agent_cannot_settle(unknown, agent_client):
    assert agent_client.get(settle_url(unknown)).status_code == 403
    response = agent_client.post(settle_url(unknown), {"found": "applied", "note": "x"})
    assert response.status_code == 403
    assert ChangeAttempt.objects.get(pk=unknown.pk).outcome == Outcome.OUTCOME_UNKNOWN


def test_a_supervisor_settles_from_the_audit_record(unknown, supervisor_client):
    record = reverse("admin:entitlements_changeattempt_change", args=[unknown.pk])
    assert f'href="{settle_url(unknown)}"' in supervisor_client.get(record).content.decode()

    missing = supervisor_client.post(settle_url(unknown), {"found": "applied", "note": ""})
    assert "note is required" in missing.content.decode()

    response = supervisor_client.post(
        settle_url(unknown), {"found": "applied", "note": "<b>seen in OPF</b>"}, follow=True
    )
    assert messages_of(response)[-1].startswith("Settled: OPF shows the change applied")
    page = response.content.decode()
    assert "&lt;b&gt;seen in OPF&lt;/b&gt;" in page and "<b>seen in OPF</b>" not in page
    assert f'href="{settle_url(unknown)}"' not in page  # nothing left to settle
    assert ChangeAttempt.objects.get(pk=unknown.pk).settlement == Settlement.APPLIED


def test_the_settle_form_keeps_the_supervisors_choice_after_an_error(unknown, supervisor_client):
    response = supervisor_client.post(settle_url(unknown), {"found": "not_applied", "note": " "})
    page = response.content.decode()
    assert "note is required" in page
    chosen = re.findall(r'<input type="radio" name="found" value="(\w+)"[^>]*\bchecked\b', page)
    assert chosen == ["not_applied"]
    assert ChangeAttempt.objects.get(pk=unknown.pk).outcome == Outcome.OUTCOME_UNKNOWN


def test_settling_needs_a_choice_of_what_opf_shows(unknown, supervisor_client):
    for found in ("", "maybe"):
        response = supervisor_client.post(settle_url(unknown), {"found": found, "note": "seen"})
        assert "Choose what OPF shows for this change." in response.content.decode()
        assert 'id="id_note"' in response.content.decode()
    assert ChangeAttempt.objects.get(pk=unknown.pk).outcome == Outcome.OUTCOME_UNKNOWN
