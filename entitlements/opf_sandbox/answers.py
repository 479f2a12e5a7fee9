"""What OPF and Keycloak answer to a request the sandbox has read in full. No socket I/O here."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote_plus

from .faults import Fault
from .routing import Target
from .wire import Response, error_response, json_response

if TYPE_CHECKING:
    from .server import Sandbox

# Keycloak marks token answers as uncacheable; a client that honours caching must not break.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def answer(
    sandbox: Sandbox, target: Target, method: str, headers: dict[str, str], body: str, path: str
) -> Response:
    """The normal answer, with its side effects (a token issued, a product changed)."""
    if target.kind == "token":
        return _token(sandbox, target, method, headers, body)
    if target.kind == "change_product":
        return _change_product(sandbox, target, method, headers, body)
    return error_response(404, "NOT_FOUND", f"No such endpoint: {method} {path}")


def auth_failure(status: int) -> Response:
    message = "The access token is missing, invalid or expired."
    if status == 401:
        return error_response(
            401, "UNAUTHORIZED", message, **{"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    return error_response(status, "FORBIDDEN", message)


def fault_response(fault: Fault, auth_failure_status: int) -> Response:
    """The answer a status-like fault sends instead of the normal one."""
    params = fault.params
    if fault.name == "reject_auth":
        return auth_failure(params["status"] or auth_failure_status)
    status = params["status"]
    if fault.name == "refuse_token":
        if status in {400, 401}:
            return json_response(
                status, {"error": "unauthorized_client", "error_description": "Refused"}, _NO_STORE
            )
        return json_response(
            status,
            {"error": "temporarily_unavailable", "error_description": "Keycloak is unavailable"},
        )
    if fault.name == "truncate":
        # Long enough that cutting it in half leaves a visibly broken JSON document.
        return json_response(
            status, {"code": "SANDBOX_FAULT", "message": "This answer is cut short on purpose."}
        )
    body = params["body"]
    if params.get("body_base64") is not None:
        response = Response(status, base64.b64decode(params["body_base64"]), "application/json")
    elif body is None:
        response = error_response(status, "SANDBOX_FAULT", f"Injected status {status}.")
    elif isinstance(body, str):
        response = Response(status, body.encode("utf-8"), "text/plain; charset=utf-8")
    else:
        response = json_response(status, body)
    response.headers.update(params["headers"] or {})
    return response


def _token(
    sandbox: Sandbox, target: Target, method: str, headers: dict[str, str], body: str
) -> Response:
    tokens = sandbox.tokens
    if target.realm != tokens.credentials.realm:
        return json_response(404, {"error": "Realm does not exist"})
    if method != "POST":
        return json_response(405, {"error": "HTTP 405 Method Not Allowed"}, {"Allow": "POST"})
    form = dict(parse_qsl(body, keep_blank_values=True))
    result = tokens.grant(form, _basic_credentials(headers.get("authorization")))
    return json_response(result.status, result.body, _NO_STORE)


def _change_product(
    sandbox: Sandbox, target: Target, method: str, headers: dict[str, str], body: str
) -> Response:
    if target.entitlement_id is None:
        return error_response(404, "NOT_FOUND", "The path does not name exactly one entitlement.")
    if method != "POST":
        return error_response(405, "METHOD_NOT_ALLOWED", "Use POST.", Allow="POST")
    if not sandbox.tokens.access_token_valid(_bearer_token(headers.get("authorization"))):
        return auth_failure(sandbox.auth_failure_status)
    result = sandbox.opf.change_product(target.entitlement_id, body)
    if result.entitlement is not None and result.product is not None:
        sandbox._after_change(
            result.entitlement, result.product, result.status, headers.get("x-correlation-id")
        )
    return json_response(result.status, result.body)


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(client_id, secret) from HTTP Basic auth, which Keycloak accepts for confidential clients.

    RFC 6749 2.3.1: both parts are form-urlencoded before being joined and base64-encoded.
    """
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None
