"""Which endpoint a request path names, and the entitlement id in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

CHANGE_PREFIX = "/tpes/v1/operator/entitlements/"
CHANGE_SUFFIX = "/actions/changeProduct"
TOKEN_PATH = re.compile(r"/keycloak/auth/realms/([^/]+)/protocol/openid-connect/token")
CONTROL_PREFIX = "/_sandbox"
# OPF's read of third-party entitlements (listing.py).
ENTITLEMENTS_PATH = "/crm-gateway/v1/rmg/v1/entitlements"


@dataclass(frozen=True)
class Target:
    kind: str  # "token", "change_product", "entitlements" (the read) or "other"
    entitlement_id: str | None = None  # change_product only; None when the path is malformed
    realm: str | None = None  # token only


def classify(path: str) -> Target:
    """What a request path (query removed) asks for.

    Any `.../entitlements/<something>/actions/changeProduct` counts as a changeProduct attempt,
    so a test counting changeProduct requests also sees the ones the portal sent to a wrong path.
    """
    token = TOKEN_PATH.fullmatch(path)
    if token:
        return Target("token", realm=token.group(1))
    if (
        path.startswith(CHANGE_PREFIX)
        and path.endswith(CHANGE_SUFFIX)
        and len(path) >= len(CHANGE_PREFIX) + len(CHANGE_SUFFIX)
    ):
        segment = path[len(CHANGE_PREFIX) : -len(CHANGE_SUFFIX)]
        return Target("change_product", entitlement_id=decode_segment(segment))
    if path == ENTITLEMENTS_PATH:
        return Target("entitlements")
    return Target("other")


def decode_segment(segment: str) -> str | None:
    """The value of exactly one path segment, percent-decoded once; None if it is not one.

    A raw `.` or `..` is no value: servers and proxies on the way resolve it, and the request
    lands on another path. http.server decodes the request line as Latin-1; encoding it back
    gives the raw bytes, so raw and percent-encoded UTF-8 decode alike.
    """
    if not segment or "/" in segment or segment in {".", ".."}:
        return None
    try:
        return unquote_to_bytes(segment.encode("latin-1")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def change_product_path(entitlement_id: str) -> str:
    """The path the portal must use: the id as one segment, with everything but unreserved
    characters percent-encoded (including `/`)."""
    return f"{CHANGE_PREFIX}{quote(entitlement_id, safe='')}{CHANGE_SUFFIX}"
