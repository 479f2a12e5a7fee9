"""The ways the services change the mirror of an entitlement.

Every change of what an agent decides on (product, pending change, status, review flag after a
change) bumps the version, so a change form opened on an older version is stale
(StaleEntitlement). Only flagging an entitlement for review on its own leaves the version alone.
"""

from datetime import datetime

from django.db.models import F

from ..models import Entitlement
from .statements import execute, update_sql


def update_mirror(*, entitlement_id: int, now: datetime, **fields) -> None:
    """Set `fields` on the entitlement, bump its version and its updated_at in one statement."""
    execute(
        *update_sql(Entitlement, mirror_values(now=now, **fields), where={"pk": entitlement_id})
    )


def mirror_values(*, now: datetime, **fields) -> dict:
    """The values update_mirror sets (services/audit.py writes them with a finish, on
    PostgreSQL in the same statement)."""
    return {**fields, "version": F("version") + 1, "updated_at": now}


def flag_for_review(*, entitlement_id: int, now: datetime) -> None:
    """Flag the entitlement for a supervisor; what the agent sees of it is unchanged, so the
    version stays (an open change form remains valid)."""
    Entitlement.objects.filter(pk=entitlement_id).update(needs_review=True, updated_at=now)


def clear_review_flag(*, entitlement_id: int, now: datetime) -> bool:
    """A supervisor reviewed the entitlement: the flag goes, the version stays (as when set)."""
    return bool(
        Entitlement.objects.filter(pk=entitlement_id, needs_review=True).update(
            needs_review=False, updated_at=now
        )
    )
