"""The sandbox as an object: start it on a port, load data, inject faults, read what it received.

Tests use it in-process (`Sandbox(port=0).start()` ... `stop()`, or as a context manager); the
command line (`__main__`) wraps the same object.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from . import control
from .data import Entitlement, Product
from .faults import IMMEDIATE, FaultQueue, check_kind, make_fault
from .handler import Plumbing, SandboxHTTPServer
from .keycloak import Credentials, TokenIssuer
from .notifier import SETTINGS as NOTIFY_SETTINGS
from .notifier import Notifier
from .persist import read_state, write_state
from .recording import RecordedRequest, Recorder
from .routing import ENTITLEMENTS_PATH, change_product_path
from .state import OpfState
from .tpes_answers import TpesEndpoints

_SETTINGS = (
    "latency_ms",
    "confirm_later",
    "auth_failure_status",
    "token_lifetime",
    "refresh_token_lifetime",
)


class Sandbox:
    """OPF's changeProduct and Keycloak's token endpoint on one local port, plus /_sandbox/."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        products: Iterable[Mapping[str, Any]] | None = None,
        entitlements: Iterable[Mapping[str, Any]] | None = None,
        confirm_later: Iterable[str] = (),
        token_lifetime: float = 300,
        refresh_token_lifetime: float = 1800,
        auth_failure_status: int = 403,
        credentials: Credentials | None = None,
        verbose: bool = False,
        state_file: str | Path | None = None,
        **notify: Any,
    ) -> None:
        """`state_file`: OPF's data is read from it when it exists (instead of `products` and
        `entitlements`) and written to it after every change (persist.py)."""
        self.host, self.port, self.verbose = host, port, verbose
        self.opf = OpfState()
        saved = read_state(state_file) if state_file is not None else None
        if saved is not None:
            products, entitlements = saved
        if state_file is not None:
            self.opf.on_change = partial(write_state, state_file)
        self.tokens = TokenIssuer(credentials)
        self.recorder = Recorder()
        self.fault_queue = FaultQueue()
        self.latency_ms: float = 0  # standing latency on every request (benchmarks)
        self.auth_failure_status = 403
        # Signed notifications to the portal after a 202 (notify_* settings, notifier.py).
        self.notifier = Notifier()
        self._initial_products = list(products or [])
        self._initial_entitlements = list(entitlements or [])
        self.configure(
            confirm_later=list(confirm_later),
            token_lifetime=token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
            auth_failure_status=auth_failure_status,
            **notify,
        )
        self._initial_settings = self.settings()
        self.load(products=self._initial_products, entitlements=self._initial_entitlements)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._server = SandboxHTTPServer(
            (self.host, self.port), self._plumbing(), verbose=self.verbose
        )
        self.port = self._server.server_address[1]  # the one the OS picked when port was 0
        self._thread = threading.Thread(
            # A short poll interval keeps stop() quick.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"opf-sandbox:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def _plumbing(self) -> Plumbing:
        # Built at start, so parts replaced before it (a test sharing one token issuer between
        # two sandboxes) are the ones served. Each part gets only what it needs.
        endpoints = TpesEndpoints(
            state=self.opf,
            tokens=self.tokens,
            auth_failure_status=lambda: self.auth_failure_status,
            on_change=self._provider_decides_later,
        )
        return Plumbing(
            recorder=self.recorder,
            faults=self.fault_queue,
            latency_ms=lambda: self.latency_ms,
            answer=endpoints.answer,
            fault_answer=endpoints.fault_answer,
            control=partial(control.handle, self),
        )

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        realm = self.tokens.credentials.realm
        return f"{self.url}/keycloak/auth/realms/{realm}/protocol/openid-connect/token"

    def change_product_url(self, entitlement_id: str) -> str:
        return self.url + change_product_path(entitlement_id)

    @property
    def entitlements_url(self) -> str:
        """OPF's read of third-party entitlements (filter, limit, page in the query)."""
        return self.url + ENTITLEMENTS_PATH

    # --- data ----------------------------------------------------------------------------

    def load(
        self,
        products: Iterable[Mapping[str, Any]] | None = None,
        entitlements: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        """Replace the catalogue and/or the entitlements (None leaves one as it is)."""
        self.opf.load(products, entitlements)

    def products(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.opf.products()]

    def entitlements(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.opf.entitlements()]

    def entitlement(self, entitlement_id: str) -> dict[str, Any] | None:
        """{entitlementId, accountId, productId, status, pendingProductId}, or None if unknown."""
        found = self.opf.entitlement(entitlement_id)
        return None if found is None else found.to_dict()

    def set_entitlement(
        self, entitlement_id: str, *, product_id: str | None = None, status: str | None = None
    ) -> dict[str, Any]:
        """Change an entitlement behind the portal's back (no notification is sent), as OPF's
        own tools or another system would; the read shows it, the portal's mirror does not."""
        return self.opf.set_entitlement(
            entitlement_id, product_id=product_id, status=status
        ).to_dict()

    def reset(self) -> None:
        """Back to the state at construction: data, settings; no tokens, faults or requests."""
        self.clear_faults()
        self.reset_requests()
        self.tokens.forget_all()
        self.notifier.reset()
        self.configure(**self._initial_settings)
        self.load(products=self._initial_products, entitlements=self._initial_entitlements)

    # --- recording -----------------------------------------------------------------------

    def requests(self, kind: str | None = None) -> list[RecordedRequest]:
        """Requests received, oldest first; kind is "token", "change_product", "entitlements" (the
        read) or "other"."""
        return self.recorder.requests(kind)

    def reset_requests(self) -> None:
        self.recorder.clear()

    # --- faults --------------------------------------------------------------------------

    def inject(self, kind: str, fault: str, count: int = 1, **params: Any) -> None:
        """The next `count` requests of `kind` get `fault`. `expire_tokens` acts at once."""
        check_kind(kind, fault)
        if fault in IMMEDIATE:
            self.tokens.expire_access_tokens()
            return
        self.fault_queue.add(make_fault(kind, fault, count, params))

    def faults(self) -> list[dict[str, Any]]:
        """Faults still waiting for requests, with their remaining counts."""
        return self.fault_queue.pending()

    def clear_faults(self, kind: str | None = None) -> None:
        """Drop the faults still waiting: of one kind, or all."""
        self.fault_queue.clear(kind)

    # --- settings ------------------------------------------------------------------------

    def configure(self, **settings: Any) -> None:
        """Change settings at run time: latency_ms, confirm_later (provider ids),
        auth_failure_status (401 or 403), token_lifetime, refresh_token_lifetime (seconds),
        and the notify_* settings of notifier.Notifier."""
        notify = {k: settings.pop(k) for k in list(settings) if k in NOTIFY_SETTINGS}
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {list(_SETTINGS)}")
        for name in ("latency_ms", "token_lifetime", "refresh_token_lifetime"):
            value = settings.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
        if settings.get("auth_failure_status", 403) not in {401, 403}:
            raise ValueError("auth_failure_status must be 401 or 403")
        confirm_later = settings.get("confirm_later", ())
        if not isinstance(confirm_later, (list, tuple, set, frozenset)) or not all(
            isinstance(p, str) for p in confirm_later
        ):
            raise ValueError("confirm_later must be a list of provider ids")

        self.notifier.configure(**notify)
        if "latency_ms" in settings:
            self.latency_ms = settings["latency_ms"]
        if "auth_failure_status" in settings:
            self.auth_failure_status = settings["auth_failure_status"]
        if "confirm_later" in settings:
            self.opf.confirm_later = set(confirm_later)
        if "token_lifetime" in settings:
            self.tokens.access_lifetime = settings["token_lifetime"]
        if "refresh_token_lifetime" in settings:
            self.tokens.refresh_lifetime = settings["refresh_token_lifetime"]

    def settings(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "confirm_later": sorted(self.opf.confirm_later),
            "auth_failure_status": self.auth_failure_status,
            "token_lifetime": self.tokens.access_lifetime,
            "refresh_token_lifetime": self.tokens.refresh_lifetime,
            **self.notifier.settings(),
        }

    # --- hooks ---------------------------------------------------------------------------

    def _provider_decides_later(
        self,
        entitlement: Entitlement,
        product: Product,
        status: int,
        correlation_id: str | None = None,
        decision: str | None = None,
    ) -> None:
        """Called by the TPES endpoints after every accepted change (200 or 202).

        After a 202, when a notify_url is set, the provider decides (confirm or decline: the
        `decision` an accept_later fault fixed, else notify_decision) after notify_delay and
        OPF delivers the signed notification.
        """
        notifier = self.notifier
        if status != 202 or not notifier.url:
            return
        confirmed = (decision or notifier.decision_for(product.provider_id)) == "confirm"

        def provider_decides() -> dict[str, Any]:
            settled = self.opf.settle_pending(
                entitlement.entitlement_id, product.product_id, confirmed=confirmed
            )
            return notifier.payload(
                "CHANGE_CONFIRMED" if confirmed else "CHANGE_DECLINED",
                entitlement_id=settled.entitlement_id,
                product_id=product.product_id,
                status=settled.status,
                correlation_id=correlation_id,
            )

        notifier.deliver(provider_decides, delay=notifier.delay)

    # --- notifications (notifier.py) -----------------------------------------------------

    def emit_provider_change(self, entitlement_id: str, product_id: str) -> dict[str, Any]:
        """The customer changes tier directly at the provider; OPF tells the portal at once.

        Returns the delivery with the portal's answer. ValueError for an unknown entitlement
        or a product of another provider.
        """
        entitlement, product = self.opf.change_at_provider(entitlement_id, product_id)
        payload = self.notifier.payload(
            "PRODUCT_CHANGED_AT_PROVIDER",
            entitlement_id=entitlement.entitlement_id,
            product_id=product.product_id,
            status=entitlement.status,
        )
        return self.notifier.deliver(lambda: payload, delay=0).to_dict()

    def emit_status_change(self, entitlement_id: str, status: str) -> dict[str, Any]:
        """The entitlement's status changes in OPF; OPF tells the portal at once."""
        entitlement = self.opf.set_status(entitlement_id, status)
        payload = self.notifier.payload(
            "STATUS_CHANGED",
            entitlement_id=entitlement.entitlement_id,
            product_id=entitlement.product_id,
            status=entitlement.status,
        )
        return self.notifier.deliver(lambda: payload, delay=0).to_dict()

    def deliveries(self) -> list[dict[str, Any]]:
        """Notifications sent (or held, or being retried), oldest first, with the answers."""
        return self.notifier.deliveries()

    def wait_for_deliveries(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until every scheduled notification is delivered or given up; return them all."""
        return self.notifier.wait(timeout)

    def release_notifications(self) -> int:
        """Send the notifications held back by notify_delay=None; returns how many."""
        return self.notifier.release()

    def redeliver(self, webhook_id: str) -> dict[str, Any]:
        """Send a delivery again as OPF's retries do (same id and body, fresh signature)."""
        return self.notifier.redeliver(webhook_id).to_dict()
