"""Connection settings for one OPF deployment, as plain values.

The caller builds it from Django settings; this package never reads settings itself.
"""

from dataclasses import dataclass, field
from typing import Literal

TokenGrant = Literal["password", "client_credentials"]


@dataclass(frozen=True)
class OpfConfig:
    # e.g. https://opf.example:443 ; a path prefix is allowed (SSP deployments put OPF under one).
    base_url: str
    # Keycloak token endpoint: .../keycloak/auth/realms/<realm>/protocol/openid-connect/token
    token_url: str
    # OPF documents the password grant; many Keycloak set-ups use a service account instead.
    token_grant: TokenGrant
    client_id: str
    # Secrets stay out of repr() so a logged or printed config never leaks them.
    client_secret: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    # Sent as nv-tenant-id when set: every other TPES operator call needs it, changeProduct's page
    # is silent, so it is configuration rather than a guess.
    tenant_id: str = ""
    # OPF's read of third-party entitlements, under base_url; deployments differ.
    entitlements_path: str = "/crm-gateway/v1/rmg/v1/entitlements"
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    # Quick retries ONLY when the request certainly never reached OPF (refused, DNS failure,
    # connect timeout).
    connect_retries: int = 2

    def __post_init__(self) -> None:
        if self.token_grant not in ("password", "client_credentials"):
            raise ValueError(
                f"token_grant must be 'password' or 'client_credentials', not {self.token_grant!r}"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        if not self.token_url.startswith(("http://", "https://")):
            raise ValueError("token_url must start with http:// or https://")
        if not self.entitlements_path.startswith("/") or "?" in self.entitlements_path:
            raise ValueError("entitlements_path must be a path starting with / (no query)")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.connect_retries < 0:
            raise ValueError("connect_retries must not be negative")

    @property
    def timeout(self) -> tuple[float, float]:
        """The (connect, read) pair that requests expects."""
        return (self.connect_timeout, self.read_timeout)
