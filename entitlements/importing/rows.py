"""The checks of one row on its own: fields, types, the one identifier rule, OPF's id shape."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from entitlements.importing.readers import NotJson, WrongWidth
from entitlements.importing.report import RowProblems
from entitlements.models import Entitlement, EntitlementStatus, Product
from entitlements.opf.identifiers import identifier_problem, json_type, shown

# Required fields; a product may also say `active` (true when absent) and `providerName` (the
# provider's display name, e.g. "Netflix"; the provider id when absent).
PRODUCT_FIELDS = ("productId", "name", "providerId", "providerResourceId", "tier")
ENTITLEMENT_FIELDS = ("entitlementId", "accountId", "productId", "status")

_MAX_TIER = 2147483647  # PositiveIntegerField's ceiling on every database


@dataclass(frozen=True)
class ProductRow:
    opf_id: str
    name: str
    provider_id: str
    provider_resource_id: str
    tier: int
    active: bool
    provider_name: str = ""


@dataclass(frozen=True)
class EntitlementRow:
    opf_id: str
    account_id: str
    product_opf_id: str
    status: str


@cache
def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


class _RowChecker:
    """Reads the fields of one raw row, collecting every problem instead of stopping at one."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.problems: RowProblems = []

    def fail(self, name: str, message: str) -> None:
        self.problems.append((name, message))

    def text(self, name: str, *, max_length: int, identifier: bool = True) -> str:
        value = self.raw.get(name)
        if value is None:
            self.fail(name, "is missing")
            return ""
        problem = identifier_problem(value, max_length=max_length, identifier=identifier)
        if problem:
            self.fail(name, problem)
            return ""
        return value

    def optional_text(self, name: str, *, max_length: int) -> str:
        """Free text that may be absent or empty (then "")."""
        if self.raw.get(name) in (None, ""):
            return ""
        return self.text(name, max_length=max_length, identifier=False)

    def tier(self, name: str) -> int:
        value = self.raw.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TIER:
            return value
        self.fail(name, f"must be a whole number 0 or more, not {shown(value)}")
        return 0

    def choice(self, name: str, *, choices: Sequence[str]) -> str:
        value = self.raw.get(name)
        if value in choices:
            return value
        if value is None:
            self.fail(name, "is missing")
        else:
            self.fail(name, f"{shown(value)} is not one of {', '.join(choices)}")
        return ""

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "1", "yes"}:
            return True
        if isinstance(value, str) and value.lower() in {"false", "0", "no"}:
            return False
        self.fail(name, f"must be true or false, not {shown(value)}")
        return default


def checker_for(raw: Any) -> tuple[_RowChecker | None, tuple[str, str] | None]:
    if isinstance(raw, WrongWidth):
        return None, ("", f"has {raw.found} values; the header has {raw.expected} columns")
    if isinstance(raw, NotJson):
        return None, ("", f"not valid JSON: {raw.reason}")
    if not isinstance(raw, dict):
        return None, ("", f"expected an object, not {json_type(raw)}")
    return _RowChecker(raw), None


def parse_product(raw: Any) -> tuple[ProductRow | None, RowProblems]:
    """A product row and no problems, or None and the (field, message) problems found."""
    check, problem = checker_for(raw)
    if check is None:
        return None, [problem]
    row = ProductRow(
        opf_id=check.text("productId", max_length=_max_length(Product, "opf_id")),
        name=check.text("name", max_length=_max_length(Product, "name"), identifier=False),
        provider_id=check.text("providerId", max_length=_max_length(Product, "provider_id")),
        provider_resource_id=check.text(
            "providerResourceId", max_length=_max_length(Product, "provider_resource_id")
        ),
        tier=check.tier("tier"),
        active=check.flag("active", default=True),
        provider_name=check.optional_text(
            "providerName", max_length=_max_length(Product, "provider_name")
        ),
    )
    if not check.problems:
        # OPF's rule: the product id is made of the provider id and the provider's resource id.
        expected = f"{row.provider_id}_{row.provider_resource_id}"
        if row.opf_id != expected:
            check.fail(
                "productId",
                f"{shown(row.opf_id)} must be providerId_providerResourceId ({shown(expected)})",
            )
    return (None, check.problems) if check.problems else (row, [])


_STATUSES = tuple(EntitlementStatus.values)  # in OPF's order, for the message


def parse_entitlement(raw: Any) -> tuple[EntitlementRow | None, RowProblems]:
    """An entitlement row and no problems, or None and the (field, message) problems found.

    Whether its product is in the catalogue is checked by the caller (it needs the database).
    """
    check, problem = checker_for(raw)
    if check is None:
        return None, [problem]
    row = EntitlementRow(
        opf_id=check.text("entitlementId", max_length=_max_length(Entitlement, "opf_id")),
        account_id=check.text("accountId", max_length=_max_length(Entitlement, "account_id")),
        product_opf_id=check.text("productId", max_length=_max_length(Product, "opf_id")),
        status=check.choice("status", choices=_STATUSES),
    )
    return (None, check.problems) if check.problems else (row, [])
