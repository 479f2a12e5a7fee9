"""OPF's side of changeProduct: the catalogue, the entitlements and the rules of a change."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from .data import STATUSES, Entitlement, Product, entitlements_from_rows, products_from_rows

# OPF does not document which states refuse a change; these two are final, so refusing them is
# the least surprising guess (the portal refuses them itself before calling, matrix row O15).
UNCHANGEABLE_STATUSES = frozenset({"CANCELLED", "REVOKED"})
# OPF's field names -> the Entitlement attribute, for the read's filter.
_FIELDS = {
    "entitlementId": "entitlement_id",
    "accountId": "account_id",
    "productId": "product_id",
    "status": "status",
}


@dataclass(frozen=True)
class ChangeAnswer:
    """What OPF answers one changeProduct; `entitlement`/`product` are set only on 200/202."""

    status: int
    body: dict[str, Any]
    entitlement: Entitlement | None = None
    product: Product | None = None


def _error(status: int, code: str, message: str) -> ChangeAnswer:
    return ChangeAnswer(status, {"code": code, "message": message})


class OpfState:
    """Catalogue and entitlements, shared by the request threads (one lock guards both)."""

    def __init__(self, confirm_later: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._products: dict[str, Product] = {}
        self._entitlements: dict[str, Entitlement] = {}
        # accountId -> entitlement ids, so an account's read never scans every entitlement.
        self._by_account: dict[str, list[str]] = {}
        # Providers whose changes OPF accepts with 202 and confirms later.
        self.confirm_later: set[str] = set(confirm_later)
        # Called after every change with the lock held, so saves follow the order of changes
        # (persist.py: the --state file).
        self.on_change: Callable[[list[Product], list[Entitlement]], None] | None = None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(list(self._products.values()), list(self._entitlements.values()))

    def load(
        self,
        products: Iterable[Mapping[str, Any]] | None = None,
        entitlements: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        """Replace the catalogue and/or the entitlements; None leaves that collection as it is.

        Everything is parsed before anything is replaced, so a bad row changes nothing.
        """
        new_products = None if products is None else products_from_rows(products)
        new_entitlements = None if entitlements is None else entitlements_from_rows(entitlements)
        with self._lock:
            if new_products is not None:
                self._products = {p.product_id: p for p in new_products}
            if new_entitlements is not None:
                self._entitlements = {e.entitlement_id: e for e in new_entitlements}
                self._by_account = {}
                for e in new_entitlements:
                    self._by_account.setdefault(e.account_id, []).append(e.entitlement_id)
            self._changed()

    def products(self) -> list[Product]:
        with self._lock:
            return list(self._products.values())

    def entitlements(self) -> list[Entitlement]:
        with self._lock:
            return [replace(e) for e in self._entitlements.values()]

    def entitlement(self, entitlement_id: str) -> Entitlement | None:
        """A copy, so a caller never sees it change under its feet."""
        with self._lock:
            found = self._entitlements.get(entitlement_id)
            return None if found is None else replace(found)

    def find_entitlements(
        self, match: Mapping[str, str], *, offset: int, limit: int
    ) -> tuple[int, list[Entitlement]]:
        """(how many match, copies of those in [offset, offset + limit)), in load order.

        `match` maps OPF field names (entitlementId, accountId, productId, status) to values.
        """
        rest = {_FIELDS[name]: value for name, value in match.items() if name != "accountId"}
        with self._lock:
            if "accountId" in match:
                ids = self._by_account.get(match["accountId"], [])
                pool: Collection[Entitlement] = [self._entitlements[i] for i in ids]
            else:
                pool = self._entitlements.values()
            if rest:
                pool = [e for e in pool if all(getattr(e, a) == v for a, v in rest.items())]
            return len(pool), [replace(e) for e in islice(pool, offset, offset + limit)]

    def set_entitlement(
        self, entitlement_id: str, *, product_id: str | None = None, status: str | None = None
    ) -> Entitlement:
        """Change an entitlement behind the portal's back: no rule, no notification.

        Any catalogue product is accepted (a test may stage a state OPF would refuse to reach
        through changeProduct); an unknown product or status is a ValueError.
        """
        if status is not None and status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {sorted(STATUSES)}")
        with self._lock:
            entitlement = self._entitlements.get(entitlement_id)
            if entitlement is None:
                raise ValueError(f"no entitlement {entitlement_id}")
            if product_id is not None:
                if product_id not in self._products:
                    raise ValueError(f"no product {product_id}")
                entitlement.product_id = product_id
            if status is not None:
                entitlement.status = status
            self._changed()
            return replace(entitlement)

    def change_product(
        self, entitlement_id: str, body: str, *, confirm_later: bool = False
    ) -> ChangeAnswer:
        """OPF's rules of a change; `confirm_later` answers 202 whatever the provider."""
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _error(400, "INVALID_BODY", "The body must be a JSON object.")
        product_id = payload.get("productId")
        if not isinstance(product_id, str) or not product_id:
            return _error(400, "INVALID_PRODUCT_ID", "productId must be a non-empty string.")

        with self._lock:
            entitlement = self._entitlements.get(entitlement_id)
            if entitlement is None:
                return _error(
                    404, "ENTITLEMENT_NOT_FOUND", f"Entitlement {entitlement_id} does not exist."
                )
            product = self._products.get(product_id)
            if product is None:
                return _error(400, "PRODUCT_NOT_FOUND", f"Product {product_id} does not exist.")
            if not product.active:
                return _error(400, "PRODUCT_NOT_ACTIVE", f"Product {product_id} is not active.")
            if entitlement.status in UNCHANGEABLE_STATUSES:
                return _error(
                    400,
                    "ENTITLEMENT_NOT_CHANGEABLE",
                    f"Entitlement {entitlement_id} is {entitlement.status}.",
                )
            current = self._products.get(entitlement.product_id)
            if current is None or current.provider_id != product.provider_id:
                return _error(
                    400,
                    "PROVIDER_MISMATCH",
                    f"Product {product_id} is not offered by the entitlement's provider.",
                )
            if confirm_later or product.provider_id in self.confirm_later:
                entitlement.pending_product_id = product_id
                status = 202
            else:
                entitlement.product_id = product_id
                entitlement.pending_product_id = None
                status = 200
            self._changed()
            snapshot = replace(entitlement)

        # The body describes the entitlement as OPF now holds it; on a 202 it still points to the
        # old product (OPF documents no body at all, so the portal must not depend on this one).
        body_out = {
            "entitlementId": snapshot.entitlement_id,
            "productId": snapshot.product_id,
            "status": snapshot.status,
        }
        if status == 202:
            body_out["pendingProductId"] = snapshot.pending_product_id
        return ChangeAnswer(status, body_out, snapshot, product)

    # --- the provider's side (notifications, see notifier.py) ----------------------------

    def settle_pending(
        self, entitlement_id: str, product_id: str, *, confirmed: bool
    ) -> Entitlement:
        """The provider confirms or declines the awaited change to `product_id`."""
        with self._lock:
            entitlement = self._entitlements.get(entitlement_id)
            if entitlement is None:
                raise ValueError(f"no entitlement {entitlement_id}")
            if entitlement.pending_product_id == product_id:
                if confirmed:
                    entitlement.product_id = product_id
                entitlement.pending_product_id = None
                self._changed()
            return replace(entitlement)

    def change_at_provider(
        self, entitlement_id: str, product_id: str
    ) -> tuple[Entitlement, Product]:
        """The customer moved to `product_id` directly at the provider (a tier of the same one)."""
        with self._lock:
            entitlement = self._entitlements.get(entitlement_id)
            if entitlement is None:
                raise ValueError(f"no entitlement {entitlement_id}")
            product = self._products.get(product_id)
            current = self._products.get(entitlement.product_id)
            if product is None or current is None or product.provider_id != current.provider_id:
                raise ValueError(f"{product_id} is not a product of the entitlement's provider")
            entitlement.product_id = product_id
            self._changed()
            return replace(entitlement), product

    def set_status(self, entitlement_id: str, status: str) -> Entitlement:
        if status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {sorted(STATUSES)}")
        with self._lock:
            entitlement = self._entitlements.get(entitlement_id)
            if entitlement is None:
                raise ValueError(f"no entitlement {entitlement_id}")
            entitlement.status = status
            self._changed()
            return replace(entitlement)
