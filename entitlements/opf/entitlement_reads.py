"""The one place that knows the shape of OPF's entitlements read; docs/opf-reads.md says why.

NAGRA documents `GET /crm-gateway/v1/rmg/v1/entitlements?filter={"productType":"THIRDPARTY"}`
with `limit` and `page`, but shows neither the account filter nor the answer's body. What the
portal assumes is in the constants below; a deployment that differs is adapted here, and only
here. Paging is counted from 0 everywhere else in the portal (`page_index`); OPF's page number
is `FIRST_PAGE + page_index`.
"""

import json
from collections.abc import Iterator
from typing import Any, Protocol

from entitlements.opf.errors import UnexpectedAnswer
from entitlements.opf.identifiers import MAX_ID_CHARS, identifier_problem
from entitlements.opf.results import EntitlementPage, OpfEntitlement, SkippedRecord

# OPF numbers pages from 1.
FIRST_PAGE = 1
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# The filter: MongoDB-style equality on the product type, and on the account when one is asked.
PRODUCT_TYPE = "THIRDPARTY"
ACCOUNT_FIELD = "accountId"
# The answer: a bare JSON list, or an object holding the list under one of these names.
LIST_FIELDS = ("entitlements", "data", "items")
TOTAL_FIELD = "totalRecords"
# Each record: its id under the first of these present, then the other fields.
ID_FIELDS = ("entitlementId", "id", "_id")
ACCOUNT_ID_FIELD, PRODUCT_ID_FIELD, STATUS_FIELD = "accountId", "productId", "status"


class PageUnreadable(ValueError):
    """The whole answer is not a page (single records that are not understood are skipped)."""


def query(*, account_id: str | None, page_index: int, page_size: int) -> dict[str, str]:
    """The query parameters of one page: filter, limit, page."""
    if page_index < 0:
        raise ValueError("page_index counts from 0")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    where = {"productType": PRODUCT_TYPE}
    if account_id is not None:
        where[ACCOUNT_FIELD] = account_id
    return {
        "filter": json.dumps(where, separators=(",", ":")),
        "limit": str(page_size),
        "page": str(FIRST_PAGE + page_index),
    }


def parse_page(body: str, *, page_index: int, page_size: int) -> EntitlementPage:
    """One page from OPF's answer; raises PageUnreadable when it holds no list of records."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise PageUnreadable("the answer is not JSON") from None
    records, total = _records_and_total(data)
    entitlements: list[OpfEntitlement] = []
    skipped: list[SkippedRecord] = []
    for position, record in enumerate(records):
        try:
            entitlements.append(_entitlement(record))
        except ValueError as exc:
            skipped.append(SkippedRecord(position, str(exc), _record_id(record)))
    return EntitlementPage(page_index, page_size, total, tuple(entitlements), tuple(skipped))


def is_last_page(page: EntitlementPage, *, correlation_id: str) -> bool:
    """Whether no page follows; raises UnexpectedAnswer when OPF sent fewer than asked but its
    total says more remain (it caps the page size below the one asked: ask for less)."""
    if page.records == 0:
        return True
    if page.total is None:
        return page.records < page.page_size
    if page.page_index * page.page_size + page.records >= page.total:
        return True
    if page.records < page.page_size:
        raise UnexpectedAnswer(
            f"OPF sent {page.records} of the {page.page_size} entitlements asked for, with "
            f"{page.total} in all: its page size is smaller; read with a smaller one",
            correlation_id=correlation_id,
        )
    return False


class EntitlementReader(Protocol):
    """What the readers below need: OpfClient.read_entitlements."""

    def read_entitlements(
        self,
        *,
        account_id: str | None = None,
        page_index: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
        correlation_id: str,
    ) -> EntitlementPage: ...


def account_pages(
    reader: EntitlementReader,
    account_id: str,
    *,
    correlation_id: str,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[EntitlementPage]:
    """Every page of one account's third-party entitlements."""
    return _pages(reader, account_id, 0, page_size, correlation_id)


def all_pages(
    reader: EntitlementReader,
    *,
    correlation_id: str,
    page_size: int = DEFAULT_PAGE_SIZE,
    start_page_index: int = 0,
) -> Iterator[EntitlementPage]:
    """Every page of all third-party entitlements; resume after an interruption by starting
    from the page after the last one done (same page size)."""
    return _pages(reader, None, start_page_index, page_size, correlation_id)


def _pages(
    reader: EntitlementReader,
    account_id: str | None,
    page_index: int,
    page_size: int,
    correlation_id: str,
) -> Iterator[EntitlementPage]:
    previous_first: str | None = None
    while True:
        page = reader.read_entitlements(
            account_id=account_id,
            page_index=page_index,
            page_size=page_size,
            correlation_id=correlation_id,
        )
        first = page.entitlements[0].entitlement_id if page.entitlements else None
        if first is not None and first == previous_first:
            # Without this, an OPF that ignores `page` would be read forever.
            raise UnexpectedAnswer(
                f"OPF sent the same entitlements for pages {page_index - 1} and {page_index} "
                "(counted from 0): it does not page the way entitlement_reads.py expects",
                correlation_id=correlation_id,
            )
        yield page
        if is_last_page(page, correlation_id=correlation_id):
            return
        previous_first = first
        page_index += 1


def _records_and_total(data: Any) -> tuple[list[Any], int | None]:
    if isinstance(data, list):
        return data, None
    if not isinstance(data, dict):
        raise PageUnreadable("the answer is neither a list nor an object")
    records = next((data[f] for f in LIST_FIELDS if isinstance(data.get(f), list)), None)
    if records is None:
        raise PageUnreadable(f"the answer holds no list under {', '.join(LIST_FIELDS)}")
    total = data.get(TOTAL_FIELD)
    # A total that is not a count is no total: paging then stops at the first short page.
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        total = None
    return records, total


def _record_id(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    for field in ID_FIELDS:
        value = record.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a numeric id is still an id
        if isinstance(value, str) and value:
            return value
    return None


def _entitlement(record: Any) -> OpfEntitlement:
    if not isinstance(record, dict):
        raise ValueError("not an object")
    entitlement_id = _record_id(record)
    if entitlement_id is None:
        raise ValueError(f"no {' / '.join(ID_FIELDS)}")
    return OpfEntitlement(
        entitlement_id=_field(entitlement_id, "entitlementId"),
        account_id=_field(record.get(ACCOUNT_ID_FIELD), ACCOUNT_ID_FIELD),
        product_id=_field(record.get(PRODUCT_ID_FIELD), PRODUCT_ID_FIELD),
        status=_field(record.get(STATUS_FIELD), STATUS_FIELD),
    )


def _field(value: Any, name: str) -> str:
    if value is None or value == "":
        raise ValueError(f"no {name}")
    # The one rule for OPF ids: these are stored, shown and sent back in a changeProduct.
    problem = identifier_problem(value, max_length=MAX_ID_CHARS)
    if problem:
        raise ValueError(f"{name} {problem}")
    return value
