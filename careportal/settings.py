"""Care Portal settings: everything comes from the environment (see .env.example).

With DEBUG on (the demo and the tests) the portal runs on embedded defaults: SQLite, a file
cache shared between processes, and the OPF sandbox on loopback. With DEBUG off it refuses to
start without a real SECRET_KEY and OPF settings.
"""

import base64
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # demo database, cache and logs; git-ignored
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Demo values used only while DEBUG is on; production must set its own.
_DEMO_SECRET_KEY = "insecure-demo-key-only-for-DEBUG-never-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEMO_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEMO_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of 50+ characters when DEBUG is off "
        "(for the demo, run bin/demo or set DEBUG=true)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "careportal.apps.CarePortalAdminConfig",  # django.contrib.admin, branded
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "entitlements",
    "mozilla_django_oidc",
    "careportal.sso",
]

MIDDLEWARE = [
    # GET /healthz for load balancers: answered here, before sessions, hosts and redirects.
    "careportal.health.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Silent re-check at the identity provider (GET only; form POSTs pass), see careportal.sso.
    "careportal.sso.middleware.SsoSessionRefresh",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "careportal.errors.ErrorIdMiddleware",
]

ROOT_URLCONF = "careportal.urls"
WSGI_APPLICATION = "careportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default (demo); DATABASE_URL=postgres://... for production and CI.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'careportal.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; a busy timeout waits for the lock instead of
    # failing with "database is locked"; IMMEDIATE takes the write lock when a transaction
    # starts, so two writers queue up instead of deadlocking on a read->write upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-careportal.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Holds the OPF access token, shared by every thread and process of the portal. The default is
# a file cache (no server needed, shared between processes); production may point at Redis.
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- SSO --------------------------------------------------------------------------------------
# Staff sign in through the operator's Keycloak over OpenID Connect (careportal.sso, built on
# mozilla-django-oidc); their roles there decide their groups here. See docs/sso.md.
# With DEBUG on the defaults point at the demo provider: python manage.py oidc_provider.
_DEMO_OIDC_ISSUER = "http://127.0.0.1:9400"


def _sso(name: str, demo_default: str) -> str:
    value = env.str(name, default=demo_default if DEBUG else "")
    if not DEBUG and not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")
    return value


# The realm URL, e.g. https://sso.example.com/realms/careportal. The endpoints come from its
# discovery document ({OIDC_ISSUER}/.well-known/openid-configuration), fetched on first use.
OIDC_ISSUER = _sso("OIDC_ISSUER", _DEMO_OIDC_ISSUER).rstrip("/")
if not DEBUG and not OIDC_ISSUER.startswith("https://"):
    raise ImproperlyConfigured("OIDC_ISSUER must be an https:// URL when DEBUG is off.")
OIDC_RP_CLIENT_ID = _sso("OIDC_RP_CLIENT_ID", "care-portal")
OIDC_RP_CLIENT_SECRET = _sso("OIDC_RP_CLIENT_SECRET", "care-portal-demo-secret")
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
# Break-glass first: it only ever answers a username and password, and test clients'
# force_login then marks sessions as local (never refreshed at the provider).
AUTHENTICATION_BACKENDS = [
    "careportal.sso.backends.BreakGlassBackend",
    "careportal.sso.backends.SsoBackend",
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
if DEBUG:
    Path(STATIC_ROOT).mkdir(exist_ok=True)  # whitenoise warns about a missing one
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (production) ------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Load balancers and Prometheus call each backend directly over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^readyz$", r"^metrics$"]  # /healthz: see MIDDLEWARE
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # one shift
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- OPF --------------------------------------------------------------------------------------
# Defaults point at the OPF sandbox (python manage.py opf_sandbox) and only apply with DEBUG on.
_SANDBOX = "http://127.0.0.1:8099"


def _opf(name: str, demo_default: str) -> str:
    value = env.str(name, default=demo_default if DEBUG else "")
    if not DEBUG and not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")
    return value


OPF_BASE_URL = _opf("OPF_BASE_URL", _SANDBOX)
OPF_TOKEN_URL = _opf(
    "OPF_TOKEN_URL", f"{_SANDBOX}/keycloak/auth/realms/opf/protocol/openid-connect/token"
)
OPF_TOKEN_GRANT = env.str("OPF_TOKEN_GRANT", default="password")
if OPF_TOKEN_GRANT not in ("password", "client_credentials"):
    raise ImproperlyConfigured("OPF_TOKEN_GRANT must be 'password' or 'client_credentials'.")
OPF_CLIENT_ID = _opf("OPF_CLIENT_ID", "opf-operator")
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
OPF_CONNECT_TIMEOUT = env.float("OPF_CONNECT_TIMEOUT", default=3.05)
OPF_READ_TIMEOUT = env.float("OPF_READ_TIMEOUT", default=10.0)

# Reason codes an agent picks from when changing a tier: "code:label" pairs.
CHANGE_REASONS = [
    tuple(item.split(":", 1))
    for item in env.list(
        "CHANGE_REASONS",
        default=[
            "customer_upgrade:Customer asked to upgrade",
            "customer_downgrade:Customer asked to downgrade",
            "billing_correction:Billing correction",
            "retention_offer:Retention offer",
            "technical_fix:Fix a provisioning error",
        ],
    )
]
if any(len(pair) != 2 or not all(pair) for pair in CHANGE_REASONS):
    raise ImproperlyConfigured("CHANGE_REASONS must be comma-separated code:label pairs.")

# --- OPF notifications ----------------------------------------------------------------------
# OPF calls POST /opf/notifications after a 202 and for changes made at the provider; see
# docs/notifications.md. Deliveries are signed the Standard Webhooks way with one of these
# secrets (comma-separated `whsec_<base64>`; list the new one first while rotating).
_DEMO_NOTIFICATION_SECRET = "whsec_Y2FyZS1wb3J0YWwtZGVtby1ub3RpZmljYXRpb24ta2V5LTMyYiE="
OPF_NOTIFICATION_SECRETS = [
    s.strip()
    for s in env.list(
        "OPF_NOTIFICATION_SECRETS", default=[_DEMO_NOTIFICATION_SECRET] if DEBUG else []
    )
    if s.strip()
]
if not DEBUG and (
    not OPF_NOTIFICATION_SECRETS or _DEMO_NOTIFICATION_SECRET in OPF_NOTIFICATION_SECRETS
):
    raise ImproperlyConfigured("OPF_NOTIFICATION_SECRETS must be set when DEBUG is off.")
for _secret in OPF_NOTIFICATION_SECRETS:
    _key = _secret.removeprefix("whsec_")
    try:
        if _key == _secret or len(base64.b64decode(_key, validate=True)) < 16:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            "OPF_NOTIFICATION_SECRETS: each secret is whsec_ then base64 of 16+ bytes."
        ) from None
# How far a delivery's webhook-timestamp may be from our clock, either way (seconds).
OPF_NOTIFICATION_TOLERANCE = env.int("OPF_NOTIFICATION_TOLERANCE", default=300)
# Bigger bodies are refused with 413 before being read.
OPF_NOTIFICATION_MAX_BYTES = env.int("OPF_NOTIFICATION_MAX_BYTES", default=64 * 1024)


def parse_duration(value: str) -> int:
    """Seconds in `86400`, `90s`, `90m`, `24h` or `2d`; ValueError otherwise."""
    value = value.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = units.get(value[-1:], None)
    number = value[:-1] if factor else value
    if not (number.isascii() and number.isdigit()) or int(number) <= 0:
        raise ValueError(f"not a duration: {value!r}")
    return int(number) * (factor or 1)


# A change still awaiting the provider's confirmation after this long is overdue
# (report_overdue, the supervisors' list).
try:
    CONFIRMATION_DEADLINE = parse_duration(env.str("CONFIRMATION_DEADLINE", default="24h"))
except ValueError as exc:
    raise ImproperlyConfigured(
        f"CONFIRMATION_DEADLINE: {exc}; use e.g. 86400, 90m, 24h or 2d."
    ) from exc


# --- Operations: /metrics (careportal.metrics) ------------------------------------------------
# The bearer token Prometheus sends; /metrics answers 404 while it is unset.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# text: readable lines; json: one JSON object per line for a log collector (careportal.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "careportal.logs.JsonFormatter"},
    },
    "filters": {"change": {"()": "careportal.logs.ChangeContextFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["change"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "entitlements": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "careportal": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# OPF statuses in which an entitlement may change product. NAGRA does not say; cancelled,
# revoked and ending entitlements are refused by default.
CHANGEABLE_STATUSES = env.list("CHANGEABLE_STATUSES", default=["ACTIVE", "SUBSCRIBED", "PENDING"])
