"""SSO: staff sign in through the operator's Keycloak over OpenID Connect (docs/sso.md).

careportal.sso, built on mozilla-django-oidc; the roles there decide the groups here.
With DEBUG on the defaults point at the demo provider: python manage.py oidc_provider.
"""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from careportal.settings.env import DEBUG, duration, env, required_unless_debug

_DEMO_OIDC_ISSUER = "http://127.0.0.1:9400"

# The realm URL, e.g. https://sso.example.com/realms/careportal. The endpoints come from its
# discovery document ({OIDC_ISSUER}/.well-known/openid-configuration), fetched on first use.
OIDC_ISSUER = required_unless_debug("OIDC_ISSUER", _DEMO_OIDC_ISSUER).rstrip("/")
if not DEBUG and not OIDC_ISSUER.startswith("https://"):
    raise ImproperlyConfigured("OIDC_ISSUER must be an https:// URL when DEBUG is off.")
OIDC_RP_CLIENT_ID = required_unless_debug("OIDC_RP_CLIENT_ID", "care-portal")
OIDC_RP_CLIENT_SECRET = required_unless_debug("OIDC_RP_CLIENT_SECRET", "care-portal-demo-secret")
# Explicit endpoints win over the discovery document; empty = discovered.
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")
OIDC_RP_SCOPES = "openid profile email"
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the provider logout
OIDC_STORE_ACCESS_TOKEN = False
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)  # seconds, every call to the provider
# A private CA for the provider's TLS certificate; certificates are always verified.
OIDC_VERIFY_SSL = env.str("OIDC_CA_BUNDLE", default="") or True
# Roles: where they are in the claims (dotted path, ID token and userinfo merged) and their names.
OIDC_ROLES_CLAIM = env.str("OIDC_ROLES_CLAIM", default="realm_access.roles")
OIDC_AGENT_ROLE = env.str("OIDC_AGENT_ROLE", default="care-agent")
OIDC_SUPERVISOR_ROLE = env.str("OIDC_SUPERVISOR_ROLE", default="care-supervisor")
# Seconds between silent re-checks at the provider (roles re-read, access removed if gone).
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", default=15 * 60)
OIDC_EXEMPT_URLS = [
    "sso_admin_login",
    "sso_admin_logout",
    "sso_signed_out",
    "sso_break_glass_login",
]
OIDC_OP_LOGOUT_URL_METHOD = "careportal.sso.logout.provider_logout_url"
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/admin/"
LOGOUT_REDIRECT_URL = "/sso/signed-out/"
# The admin's password form, for a local superuser only, at /break-glass/login/ (404 when off).
BREAK_GLASS_LOGIN = env.bool("BREAK_GLASS_LOGIN", default=DEBUG)
# The throttle first (django-axes: it refuses a locked-out user or address before any password
# is checked; SSO sign-ins pass it untouched). Break-glass next: it only ever answers a username
# and password, and test clients' force_login then marks sessions as local (never refreshed at
# the provider).
AUTHENTICATION_BACKENDS = [
    "careportal.sso.throttle.BreakGlassThrottle",
    "careportal.sso.backends.BreakGlassBackend",
    "careportal.sso.backends.SsoBackend",
]

# Break-glass throttle (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username,
# or from one address, the form refuses that username and that address for AXES_COOLOFF_TIME;
# each refused try starts the wait again. Only the break-glass password form counts: SSO
# sign-ins are never throttled here.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(seconds=duration("AXES_COOLOFF_TIME", "15m"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True  # the page's "try again at" holds
AXES_RESET_ON_SUCCESS = True
AXES_WHITELIST_CALLABLE = "careportal.sso.throttle.not_a_password_sign_in"
AXES_LOCKOUT_CALLABLE = "careportal.sso.throttle.locked_out"
# Sign-ins are logged by careportal.sso; no table of every sign-in, no admin pages for axes
# (unlock with `manage.py axes_reset_username NAME`).
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False  # careportal.sso logs each refusal once, in its own words
