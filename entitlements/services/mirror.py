"""The one way the mirror of an entitlement changes: every change bumps its version.

A change form opened on an older version is then stale (StaleEntitlement).
"""

from datetime import datetime

from django.db.models import F

from ..models import Entitlement


def update_mirror(*, entitlement_id: int, now: datetime, **fields) -> None:
    """Set `fields` on the entitlement, bump its version and its updated_at in one statement."""
    Entitlement.objects.filter(pk=entitlement_id).update(
        **fields, version=F("version") + 1, updated_at=now
    )
