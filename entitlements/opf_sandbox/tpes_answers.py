"""What OPF (TPES) and Keycloak answer to a request the sandbox has read in full.

No socket I/O here, and no Sandbox: `TpesEndpoints` is given the state, the token issuer and a
callback for accepted changes, and nothing more.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote_plus

from .data import Entitlement, Product
from .faults import Fault
from .keycloak import TokenIssuer
from .listing import QueryError, page_body, parse_query
from .recording import RecordedRequest
from .routing import Target
from .state import OpfState
from .wire import Response, error_response, json_response

# Keycloak marks token answers as uncacheable; a client that honours caching must not break.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# Called after every accepted change (200 or 202), outside the state lock: (entitlement as OPF
# now holds it, the product asked for, the status answered, x-correlation-id, the provider's
# decision when a fault fixed it, else None).
ChangeCallback = Callable[[Entitlement, Product, int, "str | None", "str | None"], None]


class TpesEndpoints:
    """The normal answers of OPF's endpoints and Keycloak's, with their side effects."""

    def __init__(
        self,
        *,
        state: OpfState,
        tokens: TokenIssuer,
        auth_failure_status: Callable[[], int],
        on_change: ChangeCallback,
    ) -> None:
        self._state = state
        self._tokens = tokens
        # Read on every request: configure() may change it while the sandbox runs.
        self._auth_failure_status = auth_failure_status
        self._on_change = on_change

    def answer(
        self, target: Target, request: RecordedRequest, fault: Fault | None = None
    ) -> Response:
        """The normal answer, with its side effects (a token issued, a product changed);
        `fault` is a SHAPING one (faults.py) or None."""
        if target.kind == "token":
            return self._token(target, request)
        if target.kind == "change_product":
            later = fault.params["decision"] if fault and fault.name == "accept_later" else None
            return self._change_product(target, request, decision=later)
        if target.kind == "entitlements":
            return self._entitlements(request)
        path = request.path.partition("?")[0]
        return error_response(404, "NOT_FOUND", f"No such endpoint: {request.method} {path}")

    def fault_answer(self, fault: Fault) -> Response:
        """The answer a status-like fault sends instead of the normal one."""
        return _fault_response(fault, self._auth_failure_status())

    def _token(self, target: Target, request: RecordedRequest) -> Response:
        tokens = self._tokens
        if target.realm != tokens.credentials.realm:
            return json_response(404, {"error": "Realm does not exist"})
        if request.method != "POST":
            return json_response(405, {"error": "HTTP 405 Method Not Allowed"}, {"Allow": "POST"})
        form = dict(parse_qsl(request.body, keep_blank_values=True))
        result = tokens.grant(form, _basic_credentials(request.header("authorization")))
        return json_response(result.status, result.body, _NO_STORE)

    def _authorized(self, request: RecordedRequest) -> bool:
        return self._tokens.access_token_valid(_bearer_token(request.header("authorization")))

    def _change_product(
        self, target: Target, request: RecordedRequest, *, decision: str | None
    ) -> Response:
        """`decision` set: accepted with 202 whatever the provider, then confirmed/declined."""
        if target.entitlement_id is None:
            return error_response(
                404, "NOT_FOUND", "The path does not name exactly one entitlement."
            )
        if request.method != "POST":
            return error_response(405, "METHOD_NOT_ALLOWED", "Use POST.", Allow="POST")
        if not self._authorized(request):
            return _auth_failure(self._auth_failure_status())
        result = self._state.change_product(
            target.entitlement_id, request.body, confirm_later=decision is not None
        )
        if result.entitlement is not None and result.product is not None:
            self._on_change(
                result.entitlement,
                result.product,
                result.status,
                request.correlation_id,
                decision,
            )
        return json_response(result.status, result.body)

    def _entitlements(self, request: RecordedRequest) -> Response:
        """The read, from the state changeProduct changes: a change it applied is visible."""
        if request.method != "GET":
            return error_response(405, "METHOD_NOT_ALLOWED", "Use GET.", Allow="GET")
        if not self._authorized(request):
            return _auth_failure(self._auth_failure_status())
        try:
            query = parse_query(request.path.partition("?")[2])
        except QueryError as exc:
            return error_response(400, "INVALID_QUERY", str(exc))
        if query.matches_nothing:
            return json_response(200, page_body(0, []))
        total, found = self._state.find_entitlements(
            query.match, offset=query.offset, limit=query.limit
        )
        return json_response(200, page_body(total, found))


def _auth_failure(status: int) -> Response:
    message = "The access token is missing, invalid or expired."
    if status == 401:
        return error_response(
            401, "UNAUTHORIZED", message, **{"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    return error_response(status, "FORBIDDEN", message)


def _fault_response(fault: Fault, auth_failure_status: int) -> Response:
    """The answer a status-like fault sends instead of the normal one."""
    params = fault.params
    if fault.name == "reject_auth":
        return _auth_failure(params["status"] or auth_failure_status)
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
