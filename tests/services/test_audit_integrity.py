"""The audit is append-only (row A1 of docs/reliability.md)."""

import pytest
from django.db import DatabaseError, connection, transaction

from entitlements.models import ChangeAttempt
from entitlements.outcomes import Outcome
from tests.factories import change, change_attempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(sandbox, world, agent):
    return change("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", agent)


def test_orm_delete_of_an_audit_record_is_refused(finished):
    with pytest.raises(PermissionError):
        finished.delete()
    assert ChangeAttempt.objects.filter(pk=finished.pk).exists()




@pytest.mark.postgres_only
def test_sql_update_and_delete_of_finished_records_are_refused_on_postgresql(finished):
    if connection.vendor != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's (issue: SQLite is the demo)")
    for sql in (
        "UPDATE entitlements_changeattempt SET outcome = 'rejected' WHERE id = %s",
        "UPDATE entitlements_changeattempt SET comment = 'edited' WHERE id = %s",
        "DELETE FROM entitlements_changeattempt WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="audit record"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [finished.pk])
    finished.refresh_from_db()
    assert finished.outcome == Outcome.COMPLETED and finished.comment == ""


@pytest.mark.postgres_only
def test_unfinished_records_may_only_gain_their_outcome_on_postgresql(sandbox, world, agent):
    if connection.vendor != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's")
    attempt = change_attempt("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", Outcome.IN_FLIGHT)
    with pytest.raises(DatabaseError, match="never change"), transaction.atomic():
        ChangeAttempt.objects.filter(pk=attempt.pk).update(reason_code="other")
    ChangeAttempt.objects.filter(pk=attempt.pk).update(outcome=Outcome.OUTCOME_UNKNOWN)
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.OUTCOME_UNKNOWN


def test_orm_queryset_delete_and_save_of_a_finished_record_are_refused(finished):
    with pytest.raises(PermissionError):
        ChangeAttempt.objects.filter(pk=finished.pk).delete()
    reloaded = ChangeAttempt.objects.get(pk=finished.pk)
    reloaded.comment = "edited afterwards"
    with pytest.raises(PermissionError):
        reloaded.save()
    assert ChangeAttempt.objects.get(pk=finished.pk).comment == ""
