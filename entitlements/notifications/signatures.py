"""Standard Webhooks signatures (https://www.standardwebhooks.com/), checked before anything else.

A delivery carries three headers: `webhook-id` (the delivery's unique id, kept across retries),
`webhook-timestamp` (integer Unix seconds) and `webhook-signature` (space-separated
`v1,<base64>` entries). Each signature is HMAC-SHA256, keyed with the base64-decoded part of a
`whsec_<base64>` secret, over the bytes `{id}.{timestamp}.{body}` with the body exactly as
received. Several secrets may be valid at once, so a secret can be rotated without downtime.

Plain Python, no Django: the portal's endpoint and any test or tool can use it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Sequence

SECRET_PREFIX = "whsec_"
MAX_ID_LENGTH = 200  # NotificationDelivery.webhook_id
# Bounds on the work an unauthenticated request can ask for.
MAX_SIGNATURE_HEADER = 2000
MAX_SIGNATURES = 8


class InvalidSignature(Exception):
    """The delivery is not authenticated. The text is for the log, never for the sender."""


def decode_secret(secret: str) -> bytes:
    """The HMAC key inside a `whsec_<base64>` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a notification secret must start with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a notification secret must be whsec_ followed by base64") from exc
    if len(key) < 16:
        raise ValueError("a notification secret must hold at least 16 bytes of key")
    return key


def _signed_content(webhook_id: str, timestamp: str | int, body: bytes) -> bytes:
    return f"{webhook_id}.{timestamp}.".encode() + body


def sign(*, secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one secret: `v1,<base64>`."""
    digest = hmac.new(
        decode_secret(secret), _signed_content(webhook_id, timestamp, body), hashlib.sha256
    ).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _valid_id(webhook_id: str) -> bool:
    # Printable ASCII without spaces: it is stored, logged and used as a dedup key.
    return (
        0 < len(webhook_id) <= MAX_ID_LENGTH
        and webhook_id.isascii()
        and webhook_id.isprintable()
        and " " not in webhook_id
    )


def _given_signatures(header: str) -> list[bytes]:
    if len(header) > MAX_SIGNATURE_HEADER:
        raise InvalidSignature("webhook-signature header too long")
    entries = header.split()
    if not entries or len(entries) > MAX_SIGNATURES:
        raise InvalidSignature("webhook-signature header has no or too many entries")
    given = []
    for entry in entries:
        version, sep, value = entry.partition(",")
        if not sep:
            raise InvalidSignature("webhook-signature entry without a version")
        if version != "v1":
            continue  # other schemes (v1a: asymmetric) may sit beside ours
        try:
            given.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not given:
        raise InvalidSignature("no v1 signature in webhook-signature")
    return given


def verify(
    *,
    keys: Sequence[bytes],
    webhook_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    tolerance: int,
    now: float,
) -> int:
    """Check one delivery; return its timestamp, or raise InvalidSignature.

    `keys` are decoded secrets (see decode_secret). The timestamp must lie within `tolerance`
    seconds of `now` in either direction, so a captured delivery cannot be replayed later.
    """
    if not webhook_id or not timestamp or not signature:
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    if not _valid_id(webhook_id):
        raise InvalidSignature("malformed webhook-id")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise InvalidSignature("malformed webhook-timestamp")
    sent_at = int(timestamp)
    if abs(now - sent_at) > tolerance:
        raise InvalidSignature("webhook-timestamp outside the tolerance window")
    given = _given_signatures(signature)
    content = _signed_content(webhook_id, timestamp, body)
    matched = False
    # Every key against every signature, without stopping early: the time taken says nothing
    # about which one matched. compare_digest is constant-time for equal-length inputs.
    for key in keys:
        expected = hmac.new(key, content, hashlib.sha256).digest()
        for candidate in given:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise InvalidSignature("no signature matches a configured secret")
    return sent_at


def decode_secrets(secrets: Iterable[str]) -> tuple[bytes, ...]:
    return tuple(decode_secret(s) for s in secrets)
