"""The audit log as CSV, with the filters and search of the list it is linked from."""

import csv
from datetime import UTC, datetime

from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone

from ... import messages
from .base import AdminFlowView

EXPORT_COLUMNS = (
    ("when (UTC)", "created_at"),
    ("agent", "actor_username"),
    ("agent name", "actor_name"),
    ("SSO subject", "actor_subject"),
    ("origin", "origin"),
    ("account id", "account_id"),
    ("entitlement id", "entitlement_opf_id"),
    ("provider", "provider_id"),
    ("from product", "from_product__opf_id"),
    ("to product", "to_product__opf_id"),
    ("reason", "reason_code"),
    ("ticket", "ticket"),
    ("comment", "comment"),
    ("outcome", "outcome"),
    ("OPF status", "http_status"),
    ("OPF message", "opf_message"),
    ("detail", "detail"),
    ("correlation id", "correlation_id"),
    ("finished (UTC)", "finished_at"),
    ("duration ms", "duration_ms"),
)
EXPORT_CHUNK_ROWS = 2000
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Line:
    """A file-like sink for csv.writer: hands back what was written."""

    def write(self, text: str) -> str:
        return text


def audit_csv_lines(queryset):
    """The audit rows as CSV text, in chunks, read from the database in chunks."""
    writer = csv.writer(_Line())
    yield writer.writerow([header for header, _field in EXPORT_COLUMNS])
    rows = queryset.values_list(*[field for _header, field in EXPORT_COLUMNS])
    batch = []
    for row in rows.iterator(chunk_size=EXPORT_CHUNK_ROWS):
        batch.append(writer.writerow([csv_cell(v) for v in row]))
        if len(batch) >= 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


class AuditExportView(AdminFlowView):
    def has_permission(self, request) -> bool:
        return self.model_admin.has_export_permission(request)

    def get(self, request):
        try:
            changelist = self.model_admin.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(messages.AUDIT_FILTERS_INVALID)
        filename = f"audit-log-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(
            audit_csv_lines(changelist.queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
