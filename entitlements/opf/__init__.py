"""Client for NAGRA OPF's TPES operator API (changeProduct) and its Keycloak tokens.

Plain values in, typed results out; nothing here imports the ORM.

    client = OpfClient(OpfConfig(...), cache=django.core.cache.cache)  # one per process
    result = client.change_product(entitlement_id=..., product_id=..., correlation_id=...)
    result.outcome  # completed, awaiting_confirmation, rejected, not_found, not_sent or
                    # outcome_unknown; result.attempts lists every request tried

Only `InvalidIdentifier` is raised (before any request); everything OPF or the network does
comes back as a result. Modules: config (settings), tokens (Keycloak, shared cache), client
(builds the request), answers (maps OPF's answers to outcomes), transport (session, timeouts,
what a network error means), identifiers (validation), results, errors.
"""

from entitlements.opf.client import OpfClient
from entitlements.opf.config import OpfConfig
from entitlements.opf.errors import InvalidIdentifier, NotSent, OpfError, TokenUnavailable
from entitlements.opf.identifiers import validate_identifier
from entitlements.opf.results import ChangeProductResult, HttpAttempt

__all__ = [
    "ChangeProductResult",
    "HttpAttempt",
    "InvalidIdentifier",
    "NotSent",
    "OpfClient",
    "OpfConfig",
    "OpfError",
    "TokenUnavailable",
    "validate_identifier",
]
