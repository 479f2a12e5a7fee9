"""Needs attention, the OPF notifications pages, Mark reviewed and report_overdue: one set."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from entitlements.models import DeliveryResult, Entitlement, NotificationDelivery
from entitlements.upkeep import ReviewMark
from tests.admin.conftest import messages_of

pytestmark = pytest.mark.django_db

ATTENTION = "/admin/entitlements/changeattempt/attention/"


@pytest.fixture
def kept(world):
    """A notification about an entitlement the portal does not know: kept for review."""
    now = timezone.now()
    return NotificationDelivery.objects.create(
        webhook_id="msg_kept_1", sent_at=now, event_type="PRODUCT_CHANGED_AT_PROVIDER",
        entitlement_opf_id="ENT-NOBODY", product_opf_id="Netflix_EU_B_BUNDLE_BASIC",
        occurred_at=now, result=DeliveryResult.UNKNOWN_ENTITLEMENT,
        detail="No entitlement with this id in the portal; kept for review.", needs_review=True,
        body='{"eventType": "PRODUCT_CHANGED_AT_PROVIDER", "entitlementId": "ENT-NOBODY"}',
        headers={"webhook-id": "msg_kept_1"},
    )  # fmt: skip


@pytest.fixture
def flagged(world):
    Entitlement.objects.filter(opf_id="ENT-NFX-2").update(needs_review=True)
    return Entitlement.objects.get(opf_id="ENT-NFX-2")


def test_every_kind_is_listed_with_its_action_on_the_row_and_counted_on_the_index(
    open_changes, kept, flagged, supervisor_client
):
    page = supervisor_client.get(ATTENTION).content.decode()
    assert "<h1>Needs attention</h1>" in page
    for change in open_changes.values():
        row = page.split(f'id="change-{change.pk}"', 1)[1].split("</tr>", 1)[0]
        assert 'value="Check OPF now"' in row and ">Settle</a>" in row
    for row_id in (f"notification-{kept.pk}", f"flagged-{flagged.pk}"):
        row = page.split(f'id="{row_id}"', 1)[1].split("</tr>", 1)[0]
        assert 'value="Mark reviewed"' in row
    # ENT-NFX-1 and -2 were flagged by their unknown outcomes, ENT-NFX-2 by hand: 3 changes,
    # 1 notification, 2 flagged entitlements.
    index = supervisor_client.get("/admin/").content.decode()
    assert ">Needs attention (6)</a>" in index


def test_notifications_have_a_read_only_page_with_filters_and_the_raw_body(kept, supervisor_client):
    changelist = reverse("admin:entitlements_notificationdelivery_changelist")
    assert "msg_kept_1" in supervisor_client.get(changelist + "?review=kept").content.decode()
    assert "msg_kept_1" not in supervisor_client.get(changelist + "?review=none").content.decode()
    assert "msg_kept_1" in (
        supervisor_client.get(changelist + "?result__exact=unknown_entitlement").content.decode()
    )
    detail = reverse("admin:entitlements_notificationdelivery_change", args=[kept.pk])
    page = supervisor_client.get(detail).content.decode()
    assert "&quot;entitlementId&quot;: &quot;ENT-NOBODY&quot;" in page
    assert 'id="mark-reviewed"' in page and 'name="_save"' not in page


def test_mark_reviewed_is_kept_with_who_and_when(kept, flagged, supervisor_client, supervisor):
    for url, row in (
        (reverse("admin:entitlements_notificationdelivery_mark_reviewed", args=[kept.pk]), kept),
        (reverse("admin:entitlements_entitlement_mark_reviewed", args=[flagged.pk]), flagged),
    ):
        response = supervisor_client.post(url, {"next": ATTENTION}, follow=True)
        assert messages_of(response) == ["Marked reviewed."]
        assert response.redirect_chain[-1][0] == ATTENTION
        again = supervisor_client.post(url, follow=True)
        assert messages_of(again) == ["This was already reviewed; nothing changed."]
        row.refresh_from_db()
        assert row.needs_review is False
    marks = ReviewMark.objects.order_by("id")
    assert [(m.delivery_id, m.entitlement_id) for m in marks] == [
        (kept.pk, None),
        (None, flagged.pk),
    ]
    assert {m.actor_username for m in marks} == {"supervisor"} and marks[0].user == supervisor
    reviewed = reverse("admin:entitlements_notificationdelivery_changelist") + "?review=reviewed"
    assert "msg_kept_1" in supervisor_client.get(reviewed).content.decode()
    assert "Nothing needs attention." in supervisor_client.get(ATTENTION).content.decode()


def test_reviews_are_append_only(kept, supervisor):
    from entitlements.services.review import mark_notification_reviewed

    mark_notification_reviewed(kept, user=supervisor)
    mark = ReviewMark.objects.get()
    with pytest.raises(PermissionError):
        mark.save()
    with pytest.raises(PermissionError):
        ReviewMark.objects.all().delete()
    if connection.vendor == "postgresql":  # the database refuses it too
        for sql in (
            "UPDATE entitlements_reviewmark SET note = 'x'",
            "DELETE FROM entitlements_reviewmark",
        ):
            with pytest.raises(Exception, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql)


def test_a_settled_change_is_final_in_the_database_too(open_changes, supervisor):
    from entitlements.services import settle_unknown_change

    change = settle_unknown_change(
        change=open_changes["applied"], applied=True, user=supervisor, note="seen"
    )
    with pytest.raises(PermissionError):
        change.save()
    if connection.vendor == "postgresql":
        sql = "UPDATE entitlements_changeattempt SET detail = 'x' WHERE id = %s"
        with pytest.raises(Exception, match="finished"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [change.pk])


def test_report_overdue_reports_the_same_set(open_changes, kept, flagged, capsys):
    with pytest.raises(CommandError) as failed:
        call_command("report_overdue", "--json")
    assert failed.value.returncode == 1
    report = json.loads(capsys.readouterr().out)
    assert [r["correlation_id"] for r in report["overdue"]] == [
        open_changes["pending"].correlation_id
    ]
    assert len(report["outcome_unknown"]) == 2
    assert [d["webhook_id"] for d in report["notifications_kept_for_review"]] == ["msg_kept_1"]
    assert sorted(e["entitlement"] for e in report["entitlements_for_review"]) == [
        "ENT-NFX-1", "ENT-NFX-2",
    ]  # fmt: skip


def test_settlements_and_reviews_are_sealed_and_the_chain_verifies(open_changes, kept, supervisor):
    from entitlements.models import Seal
    from entitlements.services import settle_unknown_change
    from entitlements.services.review import mark_notification_reviewed

    settle_unknown_change(change=open_changes["applied"], applied=True, user=supervisor, note="ok")
    mark_notification_reviewed(kept, user=supervisor, note="known test account")
    assert Seal.objects.filter(kind="change.settled").count() == 1
    assert Seal.objects.filter(kind="review.recorded").count() == 1
    call_command("verify_audit")  # raises CommandError when a sealed row differs from its seal
