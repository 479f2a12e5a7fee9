"""The control API under /_sandbox/: the Sandbox's Python methods over HTTP, for a sandbox that
runs in another process (the demo, browser tests). Its requests are not recorded.

It is handed the sandbox as `Controls`, the protocol below (the Sandbox's public methods), so
this module never imports the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qs

from . import next_change, page
from .recording import RecordedRequest
from .routing import CONTROL_PREFIX, decode_segment
from .wire import Response, error_response, json_response


class Controls(Protocol):
    """The part of `server.Sandbox` the control API drives."""

    def requests(self, kind: str | None = None) -> list[RecordedRequest]: ...
    def reset_requests(self) -> None: ...
    def inject(self, kind: str, fault: str, count: int = 1, **params: Any) -> None: ...
    def faults(self) -> list[dict[str, Any]]: ...
    def clear_faults(self, kind: str | None = None) -> None: ...
    def load(
        self,
        products: Iterable[Mapping[str, Any]] | None = None,
        entitlements: Iterable[Mapping[str, Any]] | None = None,
    ) -> None: ...
    def reset(self) -> None: ...
    def configure(self, **settings: Any) -> None: ...
    def settings(self) -> dict[str, Any]: ...
    def products(self) -> list[dict[str, Any]]: ...
    def entitlements(self) -> list[dict[str, Any]]: ...
    def entitlement(self, entitlement_id: str) -> dict[str, Any] | None: ...
    def set_entitlement(
        self, entitlement_id: str, *, product_id: str | None = None, status: str | None = None
    ) -> dict[str, Any]: ...
    def emit_provider_change(self, entitlement_id: str, product_id: str) -> dict[str, Any]: ...
    def emit_status_change(self, entitlement_id: str, status: str) -> dict[str, Any]: ...
    def deliveries(self) -> list[dict[str, Any]]: ...
    def release_notifications(self) -> int: ...


_Action = Callable[[Controls, dict[str, list[str]], dict[str, Any]], Response]


def handle(sandbox: Controls, method: str, path: str, query: str, body: bytes) -> Response:
    route = path[len(CONTROL_PREFIX) :].strip("/")
    if route == "next-change":
        return _next_change(sandbox, method, body)
    if route.startswith("assets/"):
        return page.asset(route.removeprefix("assets/"))
    if route.startswith("entitlements/"):
        try:
            return _entitlement(sandbox, method, route.removeprefix("entitlements/"), body)
        except (ValueError, TypeError) as exc:
            return error_response(400, "BAD_CONTROL_REQUEST", str(exc))
    actions = _ROUTES.get(route)
    if actions is None:
        return error_response(404, "NOT_FOUND", f"No control endpoint {path}")
    action = actions.get(method)
    if action is None:
        return error_response(
            405, "METHOD_NOT_ALLOWED", f"Use {', '.join(actions)}.", Allow=", ".join(actions)
        )
    try:
        return action(sandbox, parse_qs(query), _json_object(body))
    except (ValueError, TypeError) as exc:  # bad JSON, rows, fault or setting; wrong types
        return error_response(400, "BAD_CONTROL_REQUEST", str(exc))


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    return payload


def _entitlement(sandbox: Controls, method: str, segment: str, body: bytes) -> Response:
    """GET: one entitlement. POST {"productId"?, "status"?}: change it behind the portal's back."""
    if method not in {"GET", "POST"}:
        return error_response(405, "METHOD_NOT_ALLOWED", "Use GET or POST.", Allow="GET, POST")
    entitlement_id = decode_segment(segment)
    found = None if entitlement_id is None else sandbox.entitlement(entitlement_id)
    if found is None or entitlement_id is None:
        return error_response(404, "ENTITLEMENT_NOT_FOUND", f"No entitlement {segment}")
    if method == "GET":
        return json_response(200, found)
    payload = _json_object(body)
    unknown = set(payload) - {"productId", "status"}
    if unknown or not payload:
        raise ValueError("give productId and/or status, nothing else")
    if not all(isinstance(v, str) and v for v in payload.values()):
        raise ValueError("productId and status must be non-empty strings")
    changed = sandbox.set_entitlement(
        entitlement_id, product_id=payload.get("productId"), status=payload.get("status")
    )
    return json_response(200, changed)


def _requests(sandbox: Controls, query: dict[str, list[str]], _: dict[str, Any]) -> Response:
    kind = query.get("kind", [None])[0]
    return json_response(200, [r.to_dict() for r in sandbox.requests(kind)])


def _inject(sandbox: Controls, _: dict[str, list[str]], payload: dict[str, Any]) -> Response:
    params = dict(payload)
    try:
        kind, fault = params.pop("kind"), params.pop("fault")
    except KeyError as exc:
        raise ValueError(f"missing {exc.args[0]!r}") from None
    sandbox.inject(kind, fault, params.pop("count", 1), **params)
    return json_response(200, sandbox.faults())


def _load(sandbox: Controls, _: dict[str, list[str]], payload: dict[str, Any]) -> Response:
    unknown = set(payload) - {"products", "entitlements"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    sandbox.load(products=payload.get("products"), entitlements=payload.get("entitlements"))
    return json_response(
        200, {"products": len(sandbox.products()), "entitlements": len(sandbox.entitlements())}
    )


def _configure(sandbox: Controls, _: dict[str, list[str]], payload: dict[str, Any]) -> Response:
    sandbox.configure(**payload)
    return json_response(200, sandbox.settings())


def _then_no_content(call: Callable[[Controls], object]) -> _Action:
    def action(sandbox: Controls, _: dict[str, list[str]], __: dict[str, Any]) -> Response:
        call(sandbox)
        return Response(204)

    return action


def _returning(call: Callable[[Controls], Any]) -> _Action:
    def action(sandbox: Controls, _: dict[str, list[str]], __: dict[str, Any]) -> Response:
        return json_response(200, call(sandbox))

    return action


def _provider_change(
    sandbox: Controls, _: dict[str, list[str]], payload: dict[str, Any]
) -> Response:
    entitlement_id, product_id = _strings(payload, "entitlementId", "productId")
    return json_response(200, sandbox.emit_provider_change(entitlement_id, product_id))


def _status_change(sandbox: Controls, _: dict[str, list[str]], payload: dict[str, Any]) -> Response:
    entitlement_id, status = _strings(payload, "entitlementId", "status")
    return json_response(200, sandbox.emit_status_change(entitlement_id, status))


def _page(sandbox: Controls) -> Response:
    return page.render(
        requests=sandbox.requests(),
        deliveries=sandbox.deliveries(),
        entitlements=sandbox.entitlements(),
        next_changes=[f for f in sandbox.faults() if f["kind"] == next_change.KIND],
    )


def _next_change(sandbox: Controls, method: str, body: bytes) -> Response:
    """The page's form: queue the next change's answer (or drop those queued), then back."""
    if method != "POST":
        return error_response(405, "METHOD_NOT_ALLOWED", "Use POST.", Allow="POST")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    form = {name: values[-1] for name, values in fields.items()}
    answer = form.get("answer", "")
    try:
        if answer == next_change.NORMAL:
            sandbox.clear_faults(next_change.KIND)
        else:
            fault, params = next_change.fault_for(answer, form.get("reason", ""))
            sandbox.inject(next_change.KIND, fault, **params)
    except ValueError as exc:
        return error_response(400, "BAD_CONTROL_REQUEST", str(exc))
    # Post/redirect/get: reloading the page never queues the answer twice.
    return Response(303, headers={"Location": CONTROL_PREFIX + "/"})


def _strings(payload: dict[str, Any], *names: str) -> list[str]:
    values = [payload.get(name) for name in names]
    if not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"{', '.join(names)} are required strings")
    return values


_ROUTES: dict[str, dict[str, _Action]] = {
    "": {"GET": lambda sandbox, _, __: _page(sandbox)},
    "requests": {"GET": _requests, "DELETE": _then_no_content(lambda s: s.reset_requests())},
    "faults": {
        "GET": _returning(lambda s: s.faults()),
        "POST": _inject,
        "DELETE": _then_no_content(lambda s: s.clear_faults()),
    },
    "load": {"POST": _load},
    "reset": {"POST": _then_no_content(lambda s: s.reset())},
    "settings": {"GET": _returning(lambda s: s.settings()), "POST": _configure},
    "entitlements": {"GET": _returning(lambda s: s.entitlements())},
    "products": {"GET": _returning(lambda s: s.products())},
    # Notifications to the portal (notifier.py).
    "provider-change": {"POST": _provider_change},
    "status-change": {"POST": _status_change},
    "deliveries": {"GET": _returning(lambda s: s.deliveries())},
    "notifications/release": {
        "POST": _returning(lambda s: {"released": s.release_notifications()})
    },
}
