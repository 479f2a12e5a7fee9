"""What every settings module shares: the environment, DEBUG, and the helpers that read it.

Settings come from the environment or a `.env` file (see .env.example). Production values have
no default: with DEBUG off a missing one stops the portal at start with a message naming it.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from entitlements.notifications.signatures import decode_secret

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"  # demo database, cache and logs; git-ignored
VAR_DIR.mkdir(exist_ok=True)

TEST_SETTINGS_MODULE = "careportal.settings.test"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# The test settings run on the demo defaults unless the environment says otherwise. They are a
# module of this package, so this package is composed before they run: decide it here.
DEBUG = env.bool("DEBUG", default=os.environ.get("DJANGO_SETTINGS_MODULE") == TEST_SETTINGS_MODULE)


def required_unless_debug(name: str, demo_default: str) -> str:
    """The variable's value; with DEBUG on the demo default, with DEBUG off it must be set."""
    value = env.str(name, default=demo_default if DEBUG else "")
    if not DEBUG and not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")
    return value


def parse_duration(value: str) -> int:
    """Seconds in `86400`, `90s`, `90m`, `24h` or `2d`; ValueError otherwise."""
    value = value.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = units.get(value[-1:], None)
    number = value[:-1] if factor else value
    if not (number.isascii() and number.isdigit()) or int(number) <= 0:
        raise ValueError(f"not a duration: {value!r}")
    return int(number) * (factor or 1)


def duration(name: str, default: str) -> int:
    """A duration setting in seconds (see parse_duration); a bad one stops the portal at start."""
    try:
        return parse_duration(env.str(name, default=default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}; use e.g. 86400, 90m, 24h or 2d.") from exc


def notification_secrets(name: str, demo_secret: str) -> list[str]:
    """`whsec_<base64>` secrets, comma-separated; the demo one only with DEBUG on.

    Each is checked by the same rule the endpoint uses to decode it (signatures.decode_secret),
    so a secret accepted here is one the endpoint can use.
    """
    secrets = [
        s.strip() for s in env.list(name, default=[demo_secret] if DEBUG else []) if s.strip()
    ]
    if not DEBUG and (not secrets or demo_secret in secrets):
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")
    for secret in secrets:
        try:
            decode_secret(secret)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: each secret is whsec_ then base64 of 16+ bytes."
            ) from None
    return secrets
