"""Client for NAGRA OPF's TPES operator API (changeProduct) and its Keycloak tokens.

Plain values in, typed results out; nothing here imports the ORM.
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
