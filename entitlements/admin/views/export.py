"""The audit log as CSV, with the filters and search of the list it is linked from; with
`?seals=1` each row's seal and the chain head, verifiable offline (docs/audit.md)."""

import csv
import itertools

from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone

from ... import messages
from ...audit_chain import CHANGE_FACT, cell
from ...audit_export import sealed_rows
from .base import AdminFlowView

# The plain export: the columns a change record's seal covers, less the raw ones (its id, OPF's
# response body, the HTTP attempts) that only the export with seals carries.
_SEALED_ONLY = ("record id", "OPF response", "HTTP attempts")
EXPORT_COLUMNS = tuple(fact for fact in CHANGE_FACT if fact[0] not in _SEALED_ONLY)
EXPORT_CHUNK_ROWS = 2000


class _Line:
    """A file-like sink for csv.writer: hands back what was written."""

    def write(self, text: str) -> str:
        return text


def audit_csv_lines(queryset, *, seals: bool = False):
    """The audit rows as CSV text, in chunks, read from the database in chunks.

    With `seals`, the columns each row's seal covers, its newest seal and the chain head
    (entitlements/audit_export.py, docs/audit.md).
    """
    writer = csv.writer(_Line())
    if seals:
        rows = sealed_rows(queryset, chunk=EXPORT_CHUNK_ROWS)
    else:
        header = [[header for header, _field in EXPORT_COLUMNS]]
        values = queryset.values_list(*[field for _header, field in EXPORT_COLUMNS])
        rows = itertools.chain(
            header, ([cell(v) for v in row] for row in values.iterator(EXPORT_CHUNK_ROWS))
        )
    batch = []
    for row in rows:
        batch.append(writer.writerow(row))
        if len(batch) >= 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


class AuditExportView(AdminFlowView):
    def has_permission(self, request) -> bool:
        return self.model_admin.has_export_permission(request)

    def get(self, request):
        # `seals` chooses the export's shape; it is no filter of the list.
        with_seals = request.GET.get("seals") == "1"
        request.GET = request.GET.copy()
        request.GET.pop("seals", None)
        try:
            changelist = self.model_admin.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(messages.AUDIT_FILTERS_INVALID)
        filename = f"audit-log-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(
            audit_csv_lines(changelist.queryset, seals=with_seals),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
