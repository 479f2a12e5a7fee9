"""What OPF holds now: the services' one way to read it (refresh, sync, reconciliation).

The read is configured when OPF_ENTITLEMENTS_PATH is set (non-empty); with it empty the portal
never reads OPF: no refresh, no check when the change form opens, reconciliation only marks
dead changes unknown. A read changes nothing in OPF; a failed one raises ReadFailed (exported
here, so the admin catches it without importing the OPF client's package).
"""

from django.conf import settings

from ..models import new_correlation_id
from ..opf import OpfEntitlement, ReadFailed
from ..opf import entitlement_reads as reads
from .opf_client import get_opf_client

__all__ = ["ReadFailed", "account_entitlements", "describe", "reads_configured"]


def reads_configured() -> bool:
    return bool(settings.OPF_ENTITLEMENTS_PATH)


def account_entitlements(account_id: str) -> dict[str, OpfEntitlement]:
    """Every third-party entitlement OPF shows for `account_id`, by entitlement id.

    Raises ReadFailed (OpfUnreachable, CredentialsRefused, UnexpectedAnswer) when OPF gave no
    usable answer; records it could not understand are skipped (the client logs them).
    """
    correlation_id = new_correlation_id()
    found: dict[str, OpfEntitlement] = {}
    for page in reads.account_pages(get_opf_client(), account_id, correlation_id=correlation_id):
        found.update((e.entitlement_id, e) for e in page.entitlements)
    return found


def describe(record: OpfEntitlement | None) -> str:
    """What OPF showed, in the words the audit keeps: "<productId> (<status>)"."""
    if record is None:
        return "not shown by OPF"
    return f"{record.product_id} ({record.status})"
