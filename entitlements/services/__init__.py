"""Writes: every change to the mirror and the audit goes through these services.

- changes.py: change_product (the only code that asks OPF for a change), the reconcile sweep
- notifications.py: OPF's notifications (confirmations, provider-side changes, statuses)
- settlement.py: supervisors settle a change of unknown outcome
- audit.py: the one place a change record is created and finished
- mirror.py: the one way the mirror of an entitlement changes (its version bumps)
- opf_client.py: the process's OPF client
Refusals are the exceptions in entitlements/exceptions.py.
"""

from .changes import change_product, mark_unfinished_as_unknown
from .notifications import apply_notification
from .opf_client import get_opf_client
from .settlement import settle_unknown_change

__all__ = [
    "apply_notification",
    "change_product",
    "get_opf_client",
    "mark_unfinished_as_unknown",
    "settle_unknown_change",
]
