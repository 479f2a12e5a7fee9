"""Reconciliation from OPF's state over real HTTP: settles what OPF answers, never resends."""

import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from entitlements.models import (
    ChangeAttempt,
    DeliveryResult,
    Entitlement,
    NotificationDelivery,
    Settlement,
)
from entitlements.notifications.payload import EventType, Notification
from entitlements.outcomes import Outcome
from entitlements.rules import change_refusal
from entitlements.selectors import open_change
from entitlements.services import apply_notification, settle_unknown_change
from tests.admin.conftest import entitlement_url, messages_of

from .conftest import PREMIUM, STANDARD

pytestmark = pytest.mark.django_db


def fresh(change) -> ChangeAttempt:
    return ChangeAttempt.objects.get(pk=change.pk)


def reconcile(*args) -> str:
    out = StringIO()
    call_command("reconcile_changes", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_what_it_would_do_and_changes_nothing(open_changes, sandbox):
    printed = reconcile("--dry-run")
    assert f"would settle applied: correlation id {open_changes['applied'].correlation_id}" in (
        printed
    )
    assert (
        f"would settle not applied: correlation id {open_changes['not_applied'].correlation_id}"
        in printed
    )
    assert f"left open, escalated: correlation id {open_changes['pending'].correlation_id}" in (
        printed
    )
    assert "(dry run: nothing changed)" in printed
    assert not ChangeAttempt.objects.exclude(settlement="").exists()
    assert sandbox.requests("change_product") == []


def test_reconcile_settles_applied_not_applied_and_leaves_pending_open(
    open_changes, sandbox, caplog
):
    with caplog.at_level(logging.WARNING, logger="entitlements.services.reconciliation"):
        printed = reconcile()

    applied, not_applied, pending = (
        fresh(open_changes[k]) for k in ("applied", "not_applied", "pending")
    )
    # The original outcome, OPF status and answer stay; the settlement is beside them.
    assert applied.outcome == Outcome.OUTCOME_UNKNOWN and applied.http_status == 500
    assert applied.settlement == Settlement.APPLIED and applied.settled_by == "reconciliation"
    assert applied.settlement_opf_state == f"{PREMIUM} (ACTIVE)"
    assert not_applied.settlement == Settlement.NOT_APPLIED
    assert not_applied.settlement_opf_state == f"{PREMIUM} (ACTIVE)"
    assert pending.settlement == "" and pending.outcome == Outcome.AWAITING_CONFIRMATION
    # The mirror follows OPF, and only the pending one still blocks.
    mirror = {e.opf_id: e for e in Entitlement.objects.select_related("product")}
    assert mirror["ENT-NFX-1"].product.opf_id == PREMIUM and not mirror["ENT-NFX-1"].needs_review
    assert mirror["ENT-NFX-2"].product.opf_id == PREMIUM
    for opf_id in ("ENT-NFX-1", "ENT-NFX-2"):
        assert change_refusal(mirror[opf_id], open_change(mirror[opf_id])) is None
    assert open_change(mirror["ENT-DSN-1"]) is not None
    assert "3 change(s) checked against OPF, 2 settled" in printed
    escalated = [r for r in caplog.records if "left open, escalated" in r.getMessage()]
    assert [r.levelno for r in escalated] == [logging.WARNING]
    assert pending.correlation_id in escalated[0].getMessage()
    # Reads only: zero changeProduct requests in the sandbox's log.
    assert sandbox.requests("change_product") == []
    assert sandbox.requests("entitlements")


def test_a_read_that_fails_settles_nothing(open_changes, sandbox):
    sandbox.inject("entitlements", "reject_auth", count=10)
    printed = reconcile()
    assert "OPF could not be read, nothing changed" in printed
    assert not ChangeAttempt.objects.exclude(settlement="").exists()
    assert sandbox.requests("change_product") == []


def test_check_opf_now_settles_one_change_from_the_needs_attention_page(
    open_changes, sandbox, supervisor_client
):
    attention = reverse("admin:entitlements_changeattempt_attention")
    change = open_changes["applied"]
    url = reverse("admin:entitlements_changeattempt_check_opf", args=[change.pk])

    response = supervisor_client.post(url, {"next": attention}, follow=True)

    assert response.redirect_chain[-1][0] == attention
    assert messages_of(response) == [
        "Checked OPF: it shows the new product, so the change is settled applied."
    ]
    assert fresh(change).settlement == Settlement.APPLIED
    assert change.correlation_id not in response.content.decode()  # off the page
    assert fresh(open_changes["not_applied"]).settlement == ""  # only the one asked
    assert "Check OPF now" in fresh(change).settlement_note
    assert sandbox.requests("change_product") == []


def test_an_overdue_confirmation_shows_to_the_agent_and_a_supervisor_settles_it(
    open_changes, sandbox, agent_client, supervisor, client
):
    pending = open_changes["pending"]
    page = agent_client.get(entitlement_url("ENT-DSN-1")).content.decode()
    assert 'id="confirmation-overdue"' in page and "Supervisors have it" in page

    client.force_login(supervisor)
    settle = reverse("admin:entitlements_changeattempt_settle", args=[pending.pk])
    response = client.post(settle, {"found": "not_applied", "note": "provider says no"})
    assert response.status_code == 302
    settled = fresh(pending)
    assert settled.settlement == Settlement.NOT_APPLIED and settled.settled_by == "supervisor"
    assert settled.outcome == Outcome.AWAITING_CONFIRMATION  # the provider's word: none yet
    entitlement = Entitlement.objects.get(opf_id="ENT-DSN-1")
    assert entitlement.pending_product is None and open_change(entitlement) is None
    record = client.get(reverse("admin:entitlements_changeattempt_change", args=[pending.pk]))
    text = record.content.decode()
    assert "settled not applied by supervisor" in text and "awaiting confirmation" in text


def test_the_audit_list_filters_and_exports_settlements(open_changes, supervisor_client):
    reconcile()
    audit = reverse("admin:entitlements_changeattempt_changelist")
    applied_only = supervisor_client.get(audit + "?settlement=applied").content.decode()
    assert open_changes["applied"].correlation_id in applied_only
    assert open_changes["not_applied"].correlation_id not in applied_only
    none = supervisor_client.get(audit + "?settlement=none").content.decode()
    assert open_changes["pending"].correlation_id in none
    assert open_changes["applied"].correlation_id not in none

    export = reverse("admin:entitlements_changeattempt_export")
    rows = b"".join(supervisor_client.get(export + "?settlement=applied").streaming_content)
    header, row = rows.decode().splitlines()[:2]
    assert header.endswith("settlement,settled (UTC),settled by,what OPF showed,settlement note")
    assert ",applied," in row and ",reconciliation," in row and STANDARD in row


def test_a_late_confirmation_of_a_settled_change_is_kept_for_review(open_changes, supervisor):
    pending = fresh(open_changes["pending"])
    settle_unknown_change(change=pending, applied=True, user=supervisor, note="seen in OPF")
    late = Notification(
        event_type=EventType.CHANGE_CONFIRMED,
        entitlement_id="ENT-DSN-1",
        product_id="DisneyPlus_EU_PREMIUM",
        status="",
        occurred_at=timezone.now(),
        correlation_id=pending.correlation_id,
    )
    applied = apply_notification(
        notification=late, webhook_id="msg_late", sent_at=timezone.now(), body="{}", headers={}
    )
    assert applied.result == DeliveryResult.UNMATCHED
    assert "settled applied before; it stays so" in applied.detail
    after = fresh(pending)
    assert (after.outcome, after.settlement) == (Outcome.AWAITING_CONFIRMATION, Settlement.APPLIED)
    assert NotificationDelivery.objects.get(webhook_id="msg_late").needs_review
