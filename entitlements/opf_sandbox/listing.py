"""OPF's read of third-party entitlements: the query it takes and the shape of its answer.

    GET /crm-gateway/v1/rmg/v1/entitlements?filter={"productType":"THIRDPARTY","accountId":"..."}
        &limit=N&page=P

NAGRA documents the path, a MongoDB-style `filter`, `limit` and `page` (plus `sort` and `fields`,
which the sandbox accepts and ignores), but neither the account filter nor the body. The sandbox
answers in the object form `{"totalRecords": N, "entitlements": [...]}`, pages numbered from 1;
the portal's adapter (entitlements/opf/entitlement_reads.py) also reads the other forms.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from .data import Entitlement

PRODUCT_TYPE = "THIRDPARTY"
FIRST_PAGE = 1
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# The filter fields the sandbox understands, each an equality on OPF's field name.
MATCH_FIELDS = ("entitlementId", "accountId", "productId", "status")


class QueryError(ValueError):
    """The query cannot be understood; answered 400 with this message."""


@dataclass(frozen=True)
class ListQuery:
    match: dict[str, str]  # OPF field name -> the value it must equal
    product_type: str | None
    limit: int
    page: int

    @property
    def offset(self) -> int:
        return (self.page - FIRST_PAGE) * self.limit

    @property
    def matches_nothing(self) -> bool:
        # Every entitlement the sandbox holds is a third-party one.
        return self.product_type not in (None, PRODUCT_TYPE)


def parse_query(query: str) -> ListQuery:
    params = {name: values[-1] for name, values in parse_qs(query, keep_blank_values=True).items()}
    where = _filter(params.get("filter"))
    product_type = where.pop("productType", None)
    unknown = set(where) - set(MATCH_FIELDS)
    if unknown:
        known = ["productType", *MATCH_FIELDS]
        raise QueryError(f"filter fields {sorted(unknown)} are not supported; known: {known}")
    if not all(isinstance(v, str) for v in [*where.values(), product_type or ""]):
        raise QueryError("filter values must be strings")
    limit = _whole_number(params, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
    page = _whole_number(params, "page", FIRST_PAGE)
    if page < FIRST_PAGE:
        raise QueryError(f"pages are numbered from {FIRST_PAGE}")
    return ListQuery(match=where, product_type=product_type, limit=limit, page=page)


def page_body(total: int, entitlements: Iterable[Entitlement]) -> dict[str, Any]:
    return {
        "totalRecords": total,
        "entitlements": [
            {
                "entitlementId": e.entitlement_id,
                "accountId": e.account_id,
                "productId": e.product_id,
                "productType": PRODUCT_TYPE,
                "status": e.status,
            }
            for e in entitlements
        ],
    }


def _filter(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        where = json.loads(text)
    except ValueError:
        raise QueryError("filter must be a JSON object") from None
    if not isinstance(where, dict):
        raise QueryError("filter must be a JSON object")
    return where


def _whole_number(params: dict[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()):
        raise QueryError(f"{name} must be a whole number")
    return int(text)
