"""Refresh from OPF: bring the mirror in line with what a read of OPF shows.

Each difference (product, status, account) is applied through mirror.update_mirror (the
version bumps: a form opened before is stale) and recorded by audit.record_refresh: what the
mirror said, what OPF said, who asked, when. An entitlement OPF shows the same has only its
`confirmed_by_opf_at` moved. Not applied, and reported instead:
- a product not in the catalogue, or of another provider: the entitlement is flagged for review
  (and one that is not in the mirror is not created);
- an entitlement whose mirror changed after the read began (a change finished meanwhile):
  left for the next read, so a refresh never undoes a newer change.
Used by the Refresh buttons (one entitlement, one account) and by `sync_from_opf` (pages).
"""

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from ..audit_chain import sealed_transaction
from ..models import Entitlement, Product
from ..opf import OpfEntitlement
from .audit import record_refresh
from .mirror import flag_for_review, update_mirror
from .opf_reads import account_entitlements

log = logging.getLogger(__name__)

# What a page compares of each mirrored entitlement.
_COMPARED = ("pk", "opf_id", "provider_id", "product_id", "status", "account_id", "updated_at")
# The counts a refresh reports, in the order it reports them.
COUNTS = ("created", "updated", "unchanged", "unknown_product", "moved_meanwhile", "not_in_opf")


@dataclass
class Refreshed:
    """What one refresh did: counts by COUNTS, and each difference and problem in words."""

    counts: Counter = field(default_factory=Counter)
    differences: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Asker:
    """Who asked for the refresh: an agent (`user`) or a command (`name`)."""

    user: object = None
    name: str = ""

    def audit(self) -> dict:
        return {"user": self.user} if self.user is not None else {"actor_username": self.name}


def _state(product_id: str, status: str, account_id: str) -> str:
    return f"{product_id} ({status}, account {account_id})"


def _difference(entitlement: Entitlement, record: OpfEntitlement) -> str:
    mirror = _state(entitlement.product.opf_id, entitlement.status, entitlement.account_id)
    opf = _state(record.product_id, record.status, record.account_id)
    return f"The mirror said {mirror}; OPF says {opf}."


def apply_records(
    records: Sequence[OpfEntitlement], *, read_at: datetime, asker: Asker
) -> Refreshed:
    """Apply one read's records to the mirror in one transaction (a few queries per record that
    differs, a constant number for the rest). `read_at` is when the read began."""
    done = Refreshed()
    now = timezone.now()
    products = {
        p.opf_id: p for p in Product.objects.filter(opf_id__in={r.product_id for r in records})
    }
    with sealed_transaction():  # each refresh record sealed in the audit's chain
        # Plain rows, locked: a page is mostly unchanged, and building models costs more than
        # comparing. The few that differ are read whole in _update.
        mirror = {
            row.opf_id: row
            for row in Entitlement.objects.select_for_update(of=("self",))
            .filter(opf_id__in=[r.entitlement_id for r in records])
            .values_list(*_COMPARED, named=True)
        }
        unchanged, created = [], []
        for record in records:
            entitlement = mirror.get(record.entitlement_id)
            product = products.get(record.product_id)
            if entitlement is not None and entitlement.updated_at > read_at:
                done.counts["moved_meanwhile"] += 1
            elif product is None or (
                entitlement and product.provider_id != entitlement.provider_id
            ):
                _unknown_product(done, record, entitlement, product, now)
            elif entitlement is None:
                created.append(_new_entitlement(record, product, now))
            elif (product.pk, record.status, record.account_id) == (
                entitlement.product_id, entitlement.status, entitlement.account_id,
            ):  # fmt: skip
                unchanged.append(entitlement.pk)
            else:
                _update(done, entitlement, record, product, now, asker)
        Entitlement.objects.filter(pk__in=unchanged).update(confirmed_by_opf_at=now)
        done.counts["unchanged"] += len(unchanged)
        for entitlement in Entitlement.objects.bulk_create(created):
            shown = _state(entitlement.product.opf_id, entitlement.status, entitlement.account_id)
            record_refresh(
                entitlement=entitlement,
                opf_product=entitlement.product,
                detail=f"Not in the mirror; OPF shows {shown}: created.",
                now=now,
                **asker.audit(),
            )
        done.counts["created"] += len(created)
    return done


def _new_entitlement(record: OpfEntitlement, product: Product, now: datetime) -> Entitlement:
    return Entitlement(
        opf_id=record.entitlement_id,
        account_id=record.account_id,
        provider_id=product.provider_id,
        product=product,
        status=record.status,
        confirmed_by_opf_at=now,
    )


def _update(done, row, record, product, now, asker) -> None:
    entitlement = Entitlement.objects.select_related("product").get(pk=row.pk)
    said = _difference(entitlement, record)
    record_refresh(
        entitlement=entitlement, opf_product=product, detail=said, now=now, **asker.audit()
    )
    update_mirror(
        entitlement_id=entitlement.pk,
        now=now,
        product=product,
        status=record.status,
        account_id=record.account_id,
        confirmed_by_opf_at=now,
    )
    done.counts["updated"] += 1
    done.differences.append(f"{entitlement.opf_id}: {said}")


def _unknown_product(done, record, entitlement, product, now) -> None:
    why = "is not in the catalogue" if product is None else "belongs to another provider"
    done.counts["unknown_product"] += 1
    if entitlement is None:
        done.problems.append(
            f"{record.entitlement_id}: OPF shows product {record.product_id}, which {why}; "
            "not created."
        )
        return
    flag_for_review(entitlement_id=entitlement.pk, now=now)
    done.problems.append(
        f"{record.entitlement_id}: OPF shows product {record.product_id}, which {why}; mirror "
        "unchanged, flagged for review."
    )


def refresh_account(account_id: str, *, asker: Asker, only: str | None = None) -> Refreshed:
    """Refresh the mirror of one account (or of its one entitlement `only`) from OPF.

    Raises ReadFailed when OPF could not be read: then nothing changed. An entitlement of the
    account that OPF does not show is flagged for review, never deleted.
    """
    read_at = timezone.now()
    found = account_entitlements(account_id)
    records = [r for r in found.values() if only is None or r.entitlement_id == only]
    done = apply_records(records, read_at=read_at, asker=asker)
    mirror = Entitlement.objects.filter(account_id=account_id)
    if only is not None:
        mirror = mirror.filter(opf_id=only)
    for pk, opf_id in mirror.exclude(opf_id__in=list(found)).values_list("pk", "opf_id"):
        flag_for_review(entitlement_id=pk, now=timezone.now())
        done.counts["not_in_opf"] += 1
        done.problems.append(
            f"{opf_id}: OPF does not show it for account {account_id}; flagged for review."
        )
    log.info(
        "refresh from OPF account=%s only=%s by=%s: %s",
        account_id,
        only,
        asker.user.get_username() if asker.user is not None else asker.name,
        ", ".join(f"{k} {done.counts[k]}" for k in COUNTS),
    )
    return done


def refresh_entitlement(entitlement: Entitlement, *, asker: Asker) -> Refreshed:
    """Refresh one entitlement from OPF (its account's read, that one record applied)."""
    return refresh_account(entitlement.account_id, asker=asker, only=entitlement.opf_id)
