"""OPF: the TPES API and its Keycloak, and the notifications OPF sends to the portal.

Defaults point at the OPF sandbox (python -m entitlements.opf_sandbox) and only apply with
DEBUG on.
"""

from django.core.exceptions import ImproperlyConfigured

from careportal.settings.env import DEBUG, env, notification_secrets, required_unless_debug

_SANDBOX = "http://127.0.0.1:8099"

OPF_BASE_URL = required_unless_debug("OPF_BASE_URL", _SANDBOX)
OPF_TOKEN_URL = required_unless_debug(
    "OPF_TOKEN_URL", f"{_SANDBOX}/keycloak/auth/realms/opf/protocol/openid-connect/token"
)
OPF_TOKEN_GRANT = env.str("OPF_TOKEN_GRANT", default="password")
if OPF_TOKEN_GRANT not in ("password", "client_credentials"):
    raise ImproperlyConfigured("OPF_TOKEN_GRANT must be 'password' or 'client_credentials'.")
OPF_CLIENT_ID = required_unless_debug("OPF_CLIENT_ID", "opf-operator")
OPF_CLIENT_SECRET = env.str(
    "OPF_CLIENT_SECRET", default="careportal-sandbox-secret" if DEBUG else ""
)
OPF_USERNAME = env.str("OPF_USERNAME", default="careportal" if DEBUG else "")
OPF_PASSWORD = env.str("OPF_PASSWORD", default="careportal-sandbox-password" if DEBUG else "")
if not DEBUG:
    if OPF_TOKEN_GRANT == "password" and not (OPF_USERNAME and OPF_PASSWORD):
        raise ImproperlyConfigured(
            "OPF_USERNAME and OPF_PASSWORD are needed for the password grant."
        )
    if OPF_TOKEN_GRANT == "client_credentials" and not OPF_CLIENT_SECRET:
        raise ImproperlyConfigured("OPF_CLIENT_SECRET is needed for that grant.")
OPF_TENANT_ID = env.str("OPF_TENANT_ID", default="")
# OPF's read of third-party entitlements (docs/opf-reads.md), under OPF_BASE_URL. Empty: the
# read is not configured, and the portal never reads OPF (no refresh, no check when the change
# form opens, reconciliation without OPF's state).
OPF_ENTITLEMENTS_PATH = env.str(
    "OPF_ENTITLEMENTS_PATH", default="/crm-gateway/v1/rmg/v1/entitlements"
)
if OPF_ENTITLEMENTS_PATH and (
    not OPF_ENTITLEMENTS_PATH.startswith("/") or "?" in OPF_ENTITLEMENTS_PATH
):
    raise ImproperlyConfigured(
        "OPF_ENTITLEMENTS_PATH must be empty or a path starting with / (no query)."
    )
OPF_CONNECT_TIMEOUT = env.float("OPF_CONNECT_TIMEOUT", default=3.05)
OPF_READ_TIMEOUT = env.float("OPF_READ_TIMEOUT", default=10.0)

# --- OPF notifications ----------------------------------------------------------------------
# OPF calls POST /opf/notifications after a 202 and for changes made at the provider; see
# docs/notifications.md. Deliveries are signed the Standard Webhooks way with one of these
# secrets (comma-separated `whsec_<base64>`; list the new one first while rotating).
_DEMO_NOTIFICATION_SECRET = "whsec_Y2FyZS1wb3J0YWwtZGVtby1ub3RpZmljYXRpb24ta2V5LTMyYiE="
OPF_NOTIFICATION_SECRETS = notification_secrets(
    "OPF_NOTIFICATION_SECRETS", _DEMO_NOTIFICATION_SECRET
)
# How far a delivery's webhook-timestamp may be from our clock, either way (seconds).
OPF_NOTIFICATION_TOLERANCE = env.int("OPF_NOTIFICATION_TOLERANCE", default=300)
# Bigger bodies are refused with 413 before being read.
OPF_NOTIFICATION_MAX_BYTES = env.int("OPF_NOTIFICATION_MAX_BYTES", default=64 * 1024)
