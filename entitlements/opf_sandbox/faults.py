"""Count-limited faults: "the next N requests of kind K get fault F"."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import Any

# The kinds of request a fault can target: Keycloak's token endpoint, changeProduct, the read.
KINDS = ("token", "change_product", "entitlements")
_ALL = frozenset(KINDS)
_OPF_CALLS = frozenset({"change_product", "entitlements"})
_REQUIRED = object()

# fault -> (kinds it can hit, its parameters and their defaults). `apply` makes the sandbox do the
# real work (issue the token, change the product) before the fault hides the answer: "OPF did it,
# the portal never heard", the case reconciliation exists for. A read has no work to hide.
SPECS: dict[str, tuple[frozenset[str], dict[str, Any]]] = {
    "latency": (_ALL, {"ms": _REQUIRED}),
    "status": (
        _ALL,
        {"status": _REQUIRED, "body": None, "body_base64": None, "headers": None, "apply": False},
    ),
    "hang": (_ALL, {"seconds": 30.0, "apply": False}),
    "reset": (_ALL, {"apply": False}),
    "truncate": (_ALL, {"status": 200, "apply": False}),
    "refuse_token": (frozenset({"token"}), {"status": 503}),
    # status None = the sandbox's configured answer to a bad token (403 unless set to 401).
    "reject_auth": (_OPF_CALLS, {"status": None}),
    # The change is accepted with 202 whatever its provider, and the provider then confirms or
    # declines it (delivered when a notify_url is set): the demo's "202, confirmed later".
    "accept_later": (frozenset({"change_product"}), {"decision": "confirm"}),
}
# Faults answered normally: they only shape how (a delay, a 202 instead of a 200).
SHAPING = frozenset({"latency", "accept_later"})
# Not queued: it acts the moment it is injected (see Sandbox.inject).
IMMEDIATE = frozenset({"expire_tokens"})


class FaultError(ValueError):
    """An inject request names an unknown fault or kind, or has bad parameters."""


@dataclass
class Fault:
    kind: str
    name: str
    remaining: int
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "fault": self.name, "count": self.remaining, **self.params}


def check_kind(kind: str, name: str) -> None:
    if not isinstance(kind, str) or not isinstance(name, str):
        raise FaultError("kind and fault must be strings")
    if kind not in KINDS:
        raise FaultError(f"kind must be one of {list(KINDS)}, not {kind!r}")
    if name not in SPECS and name not in IMMEDIATE:
        raise FaultError(f"fault must be one of {sorted([*SPECS, *IMMEDIATE])}, not {name!r}")
    if name in SPECS and kind not in SPECS[name][0]:
        raise FaultError(f"fault {name!r} does not apply to {kind!r} requests")


def make_fault(kind: str, name: str, count: int, params: dict[str, Any]) -> Fault:
    check_kind(kind, name)
    if name in IMMEDIATE:
        raise FaultError(f"fault {name!r} acts at once and is not queued")
    if not _is_int(count) or count < 1:
        raise FaultError("count must be a positive integer")
    defaults = SPECS[name][1]
    unknown = set(params) - set(defaults)
    if unknown:
        raise FaultError(f"fault {name!r} takes no parameter(s) {sorted(unknown)}")
    merged = {**defaults, **params}
    missing = [p for p, v in merged.items() if v is _REQUIRED]
    if missing:
        raise FaultError(f"fault {name!r} needs {missing}")
    _check_params(name, merged)
    return Fault(kind, name, count, merged)


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, kind: str) -> Fault | None:
        """The fault for the next request of `kind` (first injected, first served), if any."""
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return Fault(fault.kind, fault.name, 1, dict(fault.params))
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear(self, kind: str | None = None) -> None:
        """Drop the waiting faults, of one kind or all."""
        with self._lock:
            self._faults = [f for f in self._faults if kind is not None and f.kind != kind]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _check_params(name: str, p: dict[str, Any]) -> None:
    if "ms" in p and not _is_number(p["ms"]):
        raise FaultError("ms must be a number >= 0")
    if "seconds" in p and not _is_number(p["seconds"]):
        raise FaultError("seconds must be a number >= 0")
    if "decision" in p and p["decision"] not in {"confirm", "decline"}:
        raise FaultError("decision must be confirm or decline")
    if "apply" in p and not isinstance(p["apply"], bool):
        raise FaultError("apply must be true or false")
    status = p.get("status")
    if "status" in p and not (status is None and name == "reject_auth"):
        if not _is_int(status) or not 200 <= status <= 599:
            raise FaultError("status must be an HTTP status between 200 and 599")
    if name == "truncate" and status in {204, 304}:
        raise FaultError("truncate needs a status that carries a body")
    if p.get("body") is not None and not isinstance(p["body"], (str, dict, list)):
        raise FaultError("body must be a string or a JSON object/list")
    if p.get("body_base64") is not None:
        # Exact bytes no JSON string can carry (invalid UTF-8), for the portal's storage tests.
        if p.get("body") is not None:
            raise FaultError("give body or body_base64, not both")
        try:
            base64.b64decode(p["body_base64"], validate=True)
        except (TypeError, ValueError) as exc:
            raise FaultError("body_base64 must be base64 text") from exc
    headers = p.get("headers")
    if headers is not None:
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise FaultError("headers must map names to string values")
        # A CR or LF would let a header write its own lines into the response.
        for header, value in headers.items():
            if not header or any(c in header for c in ": \r\n") or "\r" in value or "\n" in value:
                raise FaultError(f"header {header!r} has a bad name or a line break in its value")
