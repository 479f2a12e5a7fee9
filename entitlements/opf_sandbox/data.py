"""The catalogue and entitlement shapes, and reading them from JSON or CSV files.

The portal's import commands read the same files, so the field names are OPF's (camelCase).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

# The entitlement statuses OPF names; anything else in a data file is a typo worth reporting.
STATUSES = frozenset(
    {
        "SUBSCRIBED",
        "UNSUBSCRIBED",
        "SUSPENDED",
        "PENDING",
        "ACTIVE",
        "ACTIVE-ENDING",
        "CANCELLED",
        "REVOKED",
    }
)


_Row = TypeVar("_Row", "Product", "Entitlement")


class DataError(ValueError):
    """A data file or a control-API payload does not have the documented shape."""


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    provider_id: str
    provider_resource_id: str
    tier: int
    active: bool = True

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> Product:
        return cls(
            product_id=_text(row, "productId"),
            name=_text(row, "name"),
            provider_id=_text(row, "providerId"),
            provider_resource_id=_text(row, "providerResourceId"),
            tier=_tier(row),
            active=_flag(row, "active", default=True),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "productId": self.product_id,
            "name": self.name,
            "providerId": self.provider_id,
            "providerResourceId": self.provider_resource_id,
            "tier": self.tier,
            "active": self.active,
        }


@dataclass
class Entitlement:
    """Mutable: changeProduct moves `product_id`, a 202 sets `pending_product_id`."""

    entitlement_id: str
    account_id: str
    product_id: str
    status: str = "ACTIVE"
    pending_product_id: str | None = None

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> Entitlement:
        status = row.get("status") or "ACTIVE"
        if not isinstance(status, str) or status not in STATUSES:
            raise DataError(f"status {status!r} is not one of {sorted(STATUSES)}")
        pending = row.get("pendingProductId") or None
        if pending is not None and not isinstance(pending, str):
            raise DataError("pendingProductId must be a string")
        return cls(
            entitlement_id=_text(row, "entitlementId"),
            account_id=_text(row, "accountId"),
            product_id=_text(row, "productId"),
            status=status,
            pending_product_id=pending,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "entitlementId": self.entitlement_id,
            "accountId": self.account_id,
            "productId": self.product_id,
            "status": self.status,
            "pendingProductId": self.pending_product_id,
        }


def products_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Product]:
    return _parse_rows(rows, Product.from_dict, key="product_id")


def entitlements_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Entitlement]:
    return _parse_rows(rows, Entitlement.from_dict, key="entitlement_id")


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a `.csv` file (header line = field names) or of a JSON file holding a list."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as f:
                return [dict(row) for row in csv.DictReader(f)]
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: {exc}") from exc
    if not isinstance(rows, list):
        raise DataError(f"{path}: expected a JSON list of objects")
    return rows


def _parse_rows(
    rows: Iterable[Mapping[str, Any]], parse: Callable[[Mapping[str, Any]], _Row], *, key: str
) -> list[_Row]:
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise DataError("expected a list of objects")
    parsed, seen = [], set()
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise DataError(f"row {number}: expected an object")
        try:
            item = parse(row)
        except DataError as exc:
            raise DataError(f"row {number}: {exc}") from None
        ident = getattr(item, key)
        if ident in seen:
            raise DataError(f"row {number}: duplicate id {ident!r}")
        seen.add(ident)
        parsed.append(item)
    return parsed


def _text(row: Mapping[str, Any], field: str) -> str:
    value = row.get(field)
    if not isinstance(value, str) or not value:
        raise DataError(f"{field} must be a non-empty string")
    return value


def _tier(row: Mapping[str, Any]) -> int:
    value = row.get("tier")
    # CSV gives text; JSON gives a number. bool is an int subclass but never a tier.
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise DataError("tier must be an integer")


def _flag(row: Mapping[str, Any], field: str, *, default: bool) -> bool:
    value = row.get(field)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no"}:
        return False
    raise DataError(f"{field} must be true or false")
