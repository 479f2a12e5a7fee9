"""Products from an OPF catalogue export."""

from __future__ import annotations

from pathlib import Path

from entitlements.importing.engine import CHUNK_SIZE, ImportKind, Parsed, run_import, sort_rows
from entitlements.importing.report import ImportReport, RowProblems
from entitlements.importing.rows import PRODUCT_FIELDS, ProductRow, parse_product
from entitlements.models import Entitlement, Product


def import_catalogue(
    *, path: Path | str, dry_run: bool = False, chunk_size: int = CHUNK_SIZE
) -> ImportReport:
    """Create or update products from an OPF catalogue export. Products not in it are kept."""
    return run_import(Path(path), PRODUCTS, dry_run=dry_run, chunk_size=chunk_size)


def _check_products(chunk: list[Parsed]) -> dict[int, RowProblems]:
    """Refuse moving a product that entitlements use to another provider.

    An entitlement stores its provider (a change never leaves it), so such a move would
    silently contradict the entitlements. An id like `A_B_C` splits two ways, so it can happen.
    """
    current = dict(
        Product.objects.filter(opf_id__in=[parsed.row.opf_id for parsed in chunk]).values_list(
            "opf_id", "provider_id"
        )
    )
    moved = {
        parsed.row.opf_id: parsed
        for parsed in chunk
        if parsed.row.opf_id in current and current[parsed.row.opf_id] != parsed.row.provider_id
    }
    if not moved:
        return {}
    in_use = set(
        Entitlement.objects.filter(product__opf_id__in=moved).values_list(
            "product__opf_id", flat=True
        )
    ) | set(
        Entitlement.objects.filter(pending_product__opf_id__in=moved).values_list(
            "pending_product__opf_id", flat=True
        )
    )
    return {
        moved[opf_id].ordinal: [
            (
                "providerId",
                f"{opf_id} belongs to {current[opf_id]!r} and has entitlements; "
                f"it cannot move to {moved[opf_id].row.provider_id!r}",
            )
        ]
        for opf_id in in_use
    }


_PRODUCT_UPDATE_FIELDS = (
    "provider_id", "provider_name", "provider_resource_id", "name", "tier", "active",
)  # fmt: skip


def _write_products(chunk: list[ProductRow], report: ImportReport, dry_run: bool) -> None:
    existing = Product.objects.in_bulk([row.opf_id for row in chunk], field_name="opf_id")
    to_create, to_update = sort_rows(
        chunk,
        existing,
        model=Product,
        values_of=lambda row: {name: getattr(row, name) for name in _PRODUCT_UPDATE_FIELDS},
        report=report,
    )
    if not dry_run:
        Product.objects.bulk_create(to_create)
        Product.objects.bulk_update(to_update, _PRODUCT_UPDATE_FIELDS, batch_size=500)


PRODUCTS = ImportKind("products", PRODUCT_FIELDS, parse_product, _check_products, _write_products)
