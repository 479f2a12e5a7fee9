"""Data shared by the sandbox tests: a small catalogue, entitlements with awkward ids."""

import csv
import http.client
import json
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
PRODUCTS = json.loads((DATA / "catalogue.json").read_text())
# Ids chosen to break naive URL building: each must travel as one encoded path segment.
ODD_IDS = ["a/b", "with space", "ünïcode-☃", "%2F-literal", "x" * 10_000]
with (DATA / "entitlements.csv").open(newline="") as f:
    ENTITLEMENTS = [
        *csv.DictReader(f),
        *(
            {"entitlementId": odd, "accountId": "acc-3", "productId": "Netflix_EU_B_BUNDLE_BASIC"}
            for odd in ODD_IDS
        ),
    ]
PASSWORD_GRANT = {
    "grant_type": "password",
    "client_id": "opf-operator",
    "username": "careportal",
    "password": "careportal-sandbox-password",
}

BASIC = "Netflix_EU_B_BUNDLE_BASIC"
STANDARD = "Netflix_EU_B_BUNDLE_STANDARD"
PREMIUM = "Netflix_EU_B_BUNDLE_PREMIUM"
DISNEY_PREMIUM = "DisneyPlus_EU_PREMIUM"


def change(
    session,
    sandbox,
    token,
    entitlement_id="ent-netflix-1",
    product_id=STANDARD,
    headers=None,
    **kwargs,
):
    sent = {"Authorization": f"Bearer {token}"} if token else {}
    sent.update(headers or {})
    kwargs.setdefault("timeout", 5)
    return session.post(
        sandbox.change_product_url(entitlement_id),
        json={"productId": product_id},
        headers=sent,
        **kwargs,
    )


def raw(sandbox, method, path, body=b"", headers=None):
    """One request with the path sent exactly as given (requests would normalise `..`)."""
    connection = http.client.HTTPConnection(sandbox.host, sandbox.port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def raw_socket(sandbox, data: bytes) -> bytes:
    """Bytes in, everything the sandbox sends back until it closes (for malformed requests)."""
    with socket.create_connection((sandbox.host, sandbox.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def refresh(session, sandbox, refresh_token):
    """The refresh grant; returns the new token set."""
    form = {"grant_type": "refresh_token", "client_id": "opf-operator"}
    answer = session.post(
        sandbox.token_url, data={**form, "refresh_token": refresh_token}, timeout=5
    )
    answer.raise_for_status()
    return answer.json()
