"""Catalogue and entitlement files: JSON and CSV give the same rows; bad rows are named."""

from __future__ import annotations

import json

import pytest

from entitlements.opf_sandbox.data import (
    DataError,
    entitlements_from_rows,
    products_from_rows,
    read_rows,
)
from entitlements.opf_sandbox.server import Sandbox

from .helpers import DATA

NETFLIX = {
    "productId": "Netflix_EU_B_BUNDLE_BASIC",
    "name": "Netflix Basic",
    "providerId": "Netflix_EU_B",
    "providerResourceId": "BUNDLE_BASIC",
    "tier": 1,
}


def test_json_and_csv_catalogues_are_the_same():
    from_json = products_from_rows(read_rows(DATA / "catalogue.json"))
    from_csv = products_from_rows(read_rows(DATA / "catalogue.csv"))
    assert from_json == from_csv
    legacy = next(p for p in from_csv if p.product_id == "Netflix_EU_B_BUNDLE_LEGACY")
    assert (legacy.tier, legacy.active) == (2, False)
    assert all(p.active for p in from_csv if p is not legacy)


def test_csv_entitlements():
    rows = entitlements_from_rows(read_rows(DATA / "entitlements.csv"))
    assert [e.to_dict() for e in rows][0] == {
        "entitlementId": "ent-netflix-1",
        "accountId": "acc-1",
        "productId": "Netflix_EU_B_BUNDLE_BASIC",
        "status": "ACTIVE",
        "pendingProductId": None,
    }
    assert rows[2].status == "CANCELLED"


def test_entitlement_status_defaults_to_active_and_pending_can_be_loaded():
    [entitlement] = entitlements_from_rows(
        [{"entitlementId": "e", "accountId": "a", "productId": "p", "pendingProductId": "q"}]
    )
    assert (entitlement.status, entitlement.pending_product_id) == ("ACTIVE", "q")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**NETFLIX, "productId": ""}, "productId"),
        ({k: v for k, v in NETFLIX.items() if k != "name"}, "name"),
        ({**NETFLIX, "tier": "two"}, "tier"),
        ({**NETFLIX, "tier": True}, "tier"),
        ({**NETFLIX, "active": "maybe"}, "active"),
    ],
)
def test_bad_product_rows_are_refused_with_their_row_number(row, message):
    with pytest.raises(DataError, match=rf"row 2: .*{message}"):
        products_from_rows([NETFLIX | {"productId": "other"}, row])


def test_duplicates_and_bad_statuses_are_refused():
    with pytest.raises(DataError, match="duplicate"):
        products_from_rows([NETFLIX, NETFLIX])
    with pytest.raises(DataError, match="status"):
        entitlements_from_rows(
            [{"entitlementId": "e", "accountId": "a", "productId": "p", "status": "ON"}]
        )
    with pytest.raises(DataError, match="list"):
        products_from_rows(NETFLIX)


def test_unreadable_files_raise_data_error(tmp_path):
    (tmp_path / "object.json").write_text(json.dumps(NETFLIX))
    (tmp_path / "broken.json").write_text("[{")
    for name in ("object.json", "broken.json", "missing.csv"):
        with pytest.raises(DataError):
            read_rows(tmp_path / name)


def test_a_bad_load_changes_nothing():
    sandbox = Sandbox(products=[NETFLIX])  # never started: loading needs no server
    with pytest.raises(DataError):
        sandbox.load(products=[NETFLIX, {"productId": "half"}], entitlements=[])
    assert [p["productId"] for p in sandbox.products()] == [NETFLIX["productId"]]
