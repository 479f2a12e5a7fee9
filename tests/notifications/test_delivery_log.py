"""The delivery log is append-only like the audit (row A1, for notifications)."""

import pytest
from django.db import DatabaseError, connection, transaction

from entitlements.models import NotificationDelivery

from .conftest import notification

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kept(world, deliver):
    deliver(notification("STATUS_CHANGED", "ENT-NOPE", status="ACTIVE"))
    return NotificationDelivery.objects.get()


def test_the_orm_refuses_to_delete_or_edit_a_delivery(kept):
    with pytest.raises(PermissionError):
        kept.delete()
    with pytest.raises(PermissionError):
        NotificationDelivery.objects.all().delete()
    kept.body = "edited"
    with pytest.raises(PermissionError):
        kept.save()
    assert NotificationDelivery.objects.get().body != "edited"


def test_a_supervisor_may_clear_needs_review(kept):
    assert kept.needs_review
    kept.needs_review = False
    kept.save(update_fields=["needs_review"])
    assert not NotificationDelivery.objects.get().needs_review


@pytest.mark.postgres_only
def test_postgresql_refuses_sql_edits_and_deletes(kept):
    if connection.vendor != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's")
    for sql in (
        "DELETE FROM entitlements_notificationdelivery WHERE id = %s",
        "UPDATE entitlements_notificationdelivery SET body = 'x' WHERE id = %s",
        "UPDATE entitlements_notificationdelivery SET result = 'applied' WHERE id = %s",
        "UPDATE entitlements_notificationdelivery SET needs_review = true, detail = '' "
        "WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="notification deliver"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [kept.pk])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE entitlements_notificationdelivery SET needs_review = false WHERE id = %s",
            [kept.pk],
        )
        # needs_review only ever goes from true to false.
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(
                "UPDATE entitlements_notificationdelivery SET needs_review = true WHERE id = %s",
                [kept.pk],
            )
