"""Plan a bulk change: which entitlements qualify, which are blocked and why. Nothing is sent.

A plan is stored as a BulkJob in state "planned" with one item per entitlement, each keeping
the product and version it had at plan time: when its turn comes, an entitlement that changed
since (another agent, the provider) is skipped, not overwritten. The dry run is that plan, shown
(the admin) or printed and rolled back (`bulk_change_product --dry-run`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef

from .. import messages, rules
from ..audit_chain import sealed_transaction
from ..models import ChangeAttempt, Entitlement, Product
from .models import BulkJob, BulkJobItem, EventKind, ItemState
from .states import record_event

PERMISSION = "entitlements.run_bulk_changes"
IDS_COLUMN = "entitlementId"
CHUNK = 1000
SAMPLE_SIZE = 10
BLOCKED_SAMPLE_SIZE = 5

# Why an entitlement is not part of the run, in the words of the dry run.
REASONS = {
    "open_change": "a change is open (in flight, awaiting confirmation or of unknown outcome)",
    "status": "its status does not allow a change",
    "other_provider": "it belongs to another provider",
    "already_target": "it is already on the target product",
    "not_on_source": "it is not on the source product",
    "not_found": "no such entitlement in the portal",
    # When its turn came (running.py):
    "changed_since_plan": "it changed since the plan (product or version); not overwritten",
    "refused": "the change was refused when its turn came",
}
_PRODUCT_REFUSALS = {
    messages.PRODUCT_OTHER_PROVIDER: "other_provider",
    messages.PRODUCT_SAME: "already_target",
}


class PlanRefused(ValueError):
    """The plan cannot be made; the message says why, in words for the supervisor."""


@dataclass(frozen=True)
class PlanRequest:
    user: object
    target_product: Product
    reason_code: str
    source_product: Product | None = None
    ids: list[str] | None = None  # from a CSV; None = every entitlement on the source
    ids_file_name: str = ""
    comment: str = ""
    first_batch: int = 10


@dataclass
class PlanSummary:
    qualifying: int = 0
    blocked: dict[str, int] = field(default_factory=dict)
    sample: list[str] = field(default_factory=list)
    blocked_sample: dict[str, list[str]] = field(default_factory=dict)

    def block(self, reason: str, entitlement_id: str) -> None:
        self.blocked[reason] = self.blocked.get(reason, 0) + 1
        examples = self.blocked_sample.setdefault(reason, [])
        if len(examples) < BLOCKED_SAMPLE_SIZE:
            examples.append(entitlement_id)

    def qualify(self, entitlement_id: str) -> None:
        self.qualifying += 1
        if len(self.sample) < SAMPLE_SIZE:
            self.sample.append(entitlement_id)

    @property
    def blocked_total(self) -> int:
        return sum(self.blocked.values())

    def as_dict(self) -> dict:
        return {
            "qualifying": self.qualifying,
            "blocked": self.blocked,
            "sample": self.sample,
            "blocked_sample": self.blocked_sample,
        }


def read_ids(data: bytes | str) -> list[str]:
    """Entitlement ids from a CSV: one per line, or a column named `entitlementId`.

    Blank lines and repeats are dropped; the order is kept.
    """
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    rows = list(csv.reader(io.StringIO(text)))
    header = [cell.strip() for cell in rows[0]] if rows else []
    if IDS_COLUMN in header:
        column = header.index(IDS_COLUMN)
        values = (row[column] if column < len(row) else "" for row in rows[1:])
    elif any(len(row) > 1 for row in rows):
        raise PlanRefused(f"The CSV has several columns but none is named {IDS_COLUMN!r}.")
    else:
        values = (row[0] if row else "" for row in rows)
    ids = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not ids:
        raise PlanRefused("The CSV holds no entitlement id.")
    return ids


def check_request(request: PlanRequest) -> None:
    """Refuse a plan that cannot be right, before looking at any entitlement."""
    if not request.user.has_perm(PERMISSION):
        raise PlanRefused(f"{request.user.get_username()} may not run bulk changes.")
    if request.reason_code not in {code for code, _label in settings.CHANGE_REASONS}:
        raise PlanRefused(messages.REASON_REQUIRED)
    target, source = request.target_product, request.source_product
    if not target.active:
        raise PlanRefused(messages.PRODUCT_INACTIVE)
    if source is None and request.ids is None:
        raise PlanRefused("Choose a source product or upload a CSV of entitlement ids.")
    if source is not None and source.provider_id != target.provider_id:
        raise PlanRefused("The target product must be of the same provider as the source.")
    if source is not None and source.pk == target.pk:
        raise PlanRefused("The target product is the source product.")
    if request.first_batch < 1:
        raise PlanRefused("The first batch needs at least one entitlement.")


def plan_job(request: PlanRequest) -> BulkJob:
    """Store the plan as a BulkJob in state "planned" (nothing is sent) and return it."""
    check_request(request)
    user = request.user
    with sealed_transaction():
        job = BulkJob.objects.create(
            created_by=user,
            created_by_username=user.get_username(),
            source_product=request.source_product,
            target_product=request.target_product,
            ids_file_name=request.ids_file_name[:255],
            reason_code=request.reason_code,
            comment=request.comment,
            first_batch=request.first_batch,
        )
        summary = _store_items(job, request)
        job.plan = summary.as_dict()
        job.qualifying_count = summary.qualifying
        job.blocked_count = summary.blocked_total
        job.save(update_fields=["plan", "qualifying_count", "blocked_count"])
        record_event(
            job,
            EventKind.PLANNED,
            user=user,
            detail=f"{summary.qualifying} qualify, {summary.blocked_total} blocked.",
        )
    return job


def _store_items(job: BulkJob, request: PlanRequest) -> PlanSummary:
    summary = PlanSummary()
    for chunk in _candidates(request, summary):
        items = []
        for entitlement in chunk:
            reason = blocking_reason(entitlement, request.source_product, request.target_product)
            item = BulkJobItem(
                job=job,
                entitlement=entitlement,
                planned_product_id=entitlement.product_id,
                planned_version=entitlement.version,
            )
            if reason:
                summary.block(reason, entitlement.opf_id)
                item.state, item.outcome, item.detail = ItemState.BLOCKED, reason, REASONS[reason]
            else:
                summary.qualify(entitlement.opf_id)
                item.position = summary.qualifying
            items.append(item)
        BulkJobItem.objects.bulk_create(items)
    return summary


def blocking_reason(entitlement: Entitlement, source: Product | None, target: Product) -> str:
    """Why this entitlement cannot be part of the run ("" when it qualifies).

    The single change's own rules (rules.py) decide; only their reasons are named here.
    """
    if source is not None and entitlement.product_id != source.pk:
        return "not_on_source"
    refusal = rules.product_refusal(entitlement, target)
    if refusal:
        return _PRODUCT_REFUSALS.get(refusal, "other_provider")
    if rules.status_refusal(entitlement):
        return "status"
    if entitlement.has_open_change:
        return "open_change"
    return ""


def _with_open_change(queryset):
    return queryset.annotate(
        has_open_change=Exists(
            ChangeAttempt.objects.open().filter(entitlement=OuterRef("pk"))  # settled: not open
        )
    ).only("pk", "opf_id", "provider_id", "product_id", "status", "version")


def _candidates(request: PlanRequest, summary: PlanSummary) -> Iterator[list[Entitlement]]:
    """The entitlements to plan, in chunks (ids unknown to the portal go to the summary)."""
    if request.ids is None:
        # Keyset pages: a steady cost per chunk on a tier of any size.
        on_source = _with_open_change(
            Entitlement.objects.filter(product=request.source_product)
        ).order_by("pk")
        last = 0
        while chunk := list(on_source.filter(pk__gt=last)[:CHUNK]):
            last = chunk[-1].pk
            yield chunk
        return
    for ids in _chunks(request.ids, CHUNK):
        found = {e.opf_id: e for e in _with_open_change(Entitlement.objects.filter(opf_id__in=ids))}
        for missing in (i for i in ids if i not in found):
            summary.block("not_found", missing)
        yield [found[i] for i in ids if i in found]


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def describe(job: BulkJob) -> list[str]:
    """The dry run in lines of text: counts, reasons, samples (the command prints these)."""
    plan = job.plan
    lines = [
        f"Bulk change {job.pk}: {job.source_product or 'entitlements from ' + job.ids_file_name}"
        f" -> {job.target_product}",
        f"  qualify: {plan.get('qualifying', 0)}",
        f"  blocked: {sum(plan.get('blocked', {}).values())}",
    ]
    for reason, count in sorted(plan.get("blocked", {}).items()):
        examples = ", ".join(plan.get("blocked_sample", {}).get(reason, []))
        lines.append(f"    {count} because {REASONS[reason]} (e.g. {examples})")
    if plan.get("sample"):
        lines.append(f"  sample of those that qualify: {', '.join(plan['sample'])}")
    return lines
