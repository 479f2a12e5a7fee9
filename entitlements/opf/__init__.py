"""Client for NAGRA OPF's TPES operator API (changeProduct, the entitlements read) and its
Keycloak tokens.

Plain values in, typed results out; nothing here imports the ORM.

    client = OpfClient(OpfConfig(...), cache=django.core.cache.cache)  # one per process
    result = client.change_product(entitlement_id=..., product_id=..., correlation_id=...)
    result.outcome  # completed, awaiting_confirmation, rejected, not_found, not_sent or
                    # outcome_unknown; result.attempts lists every request tried

    page = client.read_entitlements(account_id=..., page_index=0, correlation_id=...)
    for page in entitlement_reads.account_pages(client, account_id, correlation_id=...): ...

A change raises only `InvalidIdentifier` (before any request); everything OPF or the network
does comes back as a result. A read returns a page or raises `ReadFailed` (`OpfUnreachable`,
`CredentialsRefused`, `UnexpectedAnswer`). Modules: config (settings), tokens (Keycloak, shared
cache), client (builds the requests), exchange (token, headers, resends: the rules every call
keeps), answers (maps changeProduct's answers to outcomes), entitlement_reads (the read's
shape, paging), transport (session, timeouts, what a network error means), identifiers
(validation), results, errors.
"""

from entitlements.opf.client import OpfClient
from entitlements.opf.config import OpfConfig
from entitlements.opf.errors import (
    CredentialsRefused,
    InvalidIdentifier,
    NotSent,
    OpfError,
    OpfUnreachable,
    ReadFailed,
    TokenUnavailable,
    UnexpectedAnswer,
)
from entitlements.opf.identifiers import validate_identifier
from entitlements.opf.results import (
    ChangeProductResult,
    EntitlementPage,
    HttpAttempt,
    OpfEntitlement,
    SkippedRecord,
)

__all__ = [
    "ChangeProductResult",
    "CredentialsRefused",
    "EntitlementPage",
    "HttpAttempt",
    "InvalidIdentifier",
    "NotSent",
    "OpfClient",
    "OpfConfig",
    "OpfEntitlement",
    "OpfError",
    "OpfUnreachable",
    "ReadFailed",
    "SkippedRecord",
    "TokenUnavailable",
    "UnexpectedAnswer",
    "validate_identifier",
]
