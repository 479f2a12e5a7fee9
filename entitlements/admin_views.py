"""The admin's bigger flows: the entitlement page, change product, audit export, the attention list.

Mounted by entitlements/admin.py through `ModelAdmin.get_urls()` and `admin_site.admin_view`
(staff login), each view checking its own permission on the server.
"""

from __future__ import annotations

import csv
import itertools
import secrets
from datetime import datetime

from django.contrib import messages as flash
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from . import messages, rules, selectors
from .audit_chain import CHANGE_FACT, cell
from .audit_export import sealed_rows
from .exceptions import ChangeRefused
from .forms import ChangeProductForm, reason_label
from .models import ChangeAttempt, Entitlement
from .outcomes import Outcome
from .services import change_product, settle_unknown_change

HISTORY_ROWS = 50  # on the entitlement page; supervisors follow a link to the audit log for more
ATTENTION_ROWS = 100  # of each list; the audit log filters show the rest

OUTCOME_LEVELS = {
    Outcome.COMPLETED: flash.SUCCESS,
    Outcome.CONFIRMED: flash.SUCCESS,
    Outcome.AWAITING_CONFIRMATION: flash.WARNING,
    Outcome.IN_FLIGHT: flash.INFO,
    Outcome.DECLINED: flash.WARNING,
    Outcome.REJECTED: flash.ERROR,
    Outcome.NOT_FOUND: flash.ERROR,
    Outcome.NOT_SENT: flash.ERROR,
    Outcome.OUTCOME_UNKNOWN: flash.ERROR,
}


def entitlement_url(entitlement_pk) -> str:
    return reverse("admin:entitlements_entitlement_change", args=[entitlement_pk])


def _with_reason_labels(attempts):
    for attempt in attempts:
        attempt.reason_label = reason_label(attempt.reason_code)
    return attempts


# --- entitlement page -----------------------------------------------------------------------


def entitlement_page_context(request, entitlement: Entitlement) -> dict:
    """What the entitlement page shows beside its fields: change in flight, history, button."""
    history = _with_reason_labels(list(selectors.change_history(entitlement)[: HISTORY_ROWS + 1]))
    audit_url = None
    if request.user.has_perm("entitlements.view_changeattempt"):
        audit_url = (
            reverse("admin:entitlements_changeattempt_changelist")
            + f"?entitlement__id__exact={entitlement.pk}"
        )
    current = selectors.open_change(entitlement)
    return {
        "open_change": current,
        "change_refusal": rules.change_refusal(entitlement, current),
        "may_change_product": request.user.has_perm("entitlements.change_entitlement_product"),
        "change_product_url": reverse(
            "admin:entitlements_entitlement_change_product", args=[entitlement.pk]
        ),
        "history": history[:HISTORY_ROWS],
        "history_has_more": len(history) > HISTORY_ROWS,
        "audit_url": audit_url,
    }


# --- change product -------------------------------------------------------------------------
# Double submit (reliability matrix X2): the confirmation page carries a one-time submission id
# kept in the session. Its first POST marks it used (saved at once, before OPF is called) and
# records the attempt; any later POST of it lands on that attempt's result and sends nothing.
# Two POSTs racing past the session both reach the service, whose one-open-change-per-entitlement
# constraint lets one through; the other finds the sibling attempt and shows its result.

SUBMISSIONS = "entitlements.change_product_submissions"
MAX_SUBMISSIONS = 20


def _issue_submission(request, entitlement: Entitlement) -> str:
    token = secrets.token_urlsafe(18)
    submissions = dict(request.session.get(SUBMISSIONS, {}))
    submissions[token] = {
        "entitlement": entitlement.pk,
        "issued_at": timezone.now().isoformat(),
        "used": False,
        "attempt": None,
    }
    newest = sorted(submissions.items(), key=lambda kv: kv[1]["issued_at"])[-MAX_SUBMISSIONS:]
    request.session[SUBMISSIONS] = dict(newest)
    return token


def _store_submission(request, token: str, **changes) -> None:
    submissions = dict(request.session.get(SUBMISSIONS, {}))
    submissions[token] = {**submissions[token], **changes}
    request.session[SUBMISSIONS] = submissions


def _attempt_of_submission(request, entry: dict, entitlement: Entitlement):
    """The attempt a used submission produced: recorded, or found as this user's newest."""
    if entry.get("attempt"):
        return ChangeAttempt.objects.filter(pk=entry["attempt"]).first()
    return (
        ChangeAttempt.objects.filter(
            entitlement=entitlement,
            user=request.user,
            created_at__gte=datetime.fromisoformat(entry["issued_at"]),
        )
        .order_by("-created_at", "-id")
        .first()
    )


def flash_outcome(request, attempt: ChangeAttempt) -> None:
    level = OUTCOME_LEVELS.get(Outcome(attempt.outcome), flash.INFO)
    flash.add_message(request, level, messages.change_message(attempt))


def change_product_view(request, object_id, model_admin):
    """New product, reason, comment -> confirmation -> one changeProduct -> entitlement page."""
    if not request.user.has_perm("entitlements.change_entitlement_product"):
        raise PermissionDenied
    entitlement = model_admin.get_object(request, unquote(object_id))
    if entitlement is None:
        raise Http404("No such entitlement.")
    page_url = entitlement_url(entitlement.pk)
    step = request.POST.get("step", "") if request.method == "POST" else ""

    token, entry = "", None
    if step == "confirm":
        token = request.POST.get("submission_id", "")
        entry = request.session.get(SUBMISSIONS, {}).get(token)
        if entry is None or entry["entitlement"] != entitlement.pk:
            flash.warning(request, messages.SUBMISSION_EXPIRED)
            return redirect(page_url)
        if entry["used"]:
            return _land_on_result(request, entry, entitlement, page_url)

    if request.method == "POST" and request.POST.get("version") != str(entitlement.version):
        flash.warning(request, messages.STALE_ENTITLEMENT)  # X3: nothing sent
        return redirect(page_url)
    refusal = rules.change_refusal(entitlement, selectors.open_change(entitlement))
    if refusal:
        flash.warning(request, refusal)
        return redirect(page_url)

    if request.method != "POST":
        form = ChangeProductForm(initial={"version": entitlement.version}, entitlement=entitlement)
        return _render_form(request, model_admin, entitlement, form)
    form = ChangeProductForm(request.POST, entitlement=entitlement)
    if step == "edit" or not form.is_valid():
        return _render_form(request, model_admin, entitlement, form)
    if step == "confirm":
        return _send_change(request, form, token, entry, entitlement, page_url)
    return _render_confirmation(request, model_admin, entitlement, form)


def _send_change(request, form, token, entry, entitlement, page_url):
    # Marked used and saved before OPF is called, so a second POST already sees it.
    _store_submission(request, token, used=True)
    request.session.save()
    try:
        attempt = change_product(
            entitlement=entitlement,
            new_product=form.cleaned_data["new_product"],
            user=request.user,
            reason_code=form.cleaned_data["reason"],
            comment=form.cleaned_data["comment"],
            expected_version=form.cleaned_data["version"],
        )
    except ChangeRefused as refused:
        sibling = _attempt_of_submission(request, entry, entitlement)
        if sibling is not None:  # a double submit that raced past the session: its result
            return _land_on_result(request, {**entry, "attempt": sibling.pk}, entitlement, page_url)
        flash.warning(request, str(refused))
        return redirect(page_url)
    _store_submission(request, token, attempt=attempt.pk)
    flash_outcome(request, attempt)
    return redirect(page_url)


def _land_on_result(request, entry, entitlement, page_url):
    attempt = _attempt_of_submission(request, entry, entitlement)
    if attempt is None:
        flash.info(request, messages.OUTCOME_MESSAGES[Outcome.IN_FLIGHT])
    else:
        flash_outcome(request, attempt)
    return redirect(page_url)


def _flow_context(request, model_admin, entitlement, title: str) -> dict:
    opts = model_admin.model._meta
    return {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": title,
        "subtitle": None,
        "entitlement": entitlement,
        "entitlement_url": entitlement_url(entitlement.pk),
        "has_view_permission": model_admin.has_view_permission(request, entitlement),
    }


def _render_form(request, model_admin, entitlement, form):
    context = _flow_context(request, model_admin, entitlement, "Change product")
    context.update(form=form, media=model_admin.media + form.media)
    return TemplateResponse(request, "entitlements/change_product.html", context)


def _render_confirmation(request, model_admin, entitlement, form):
    context = _flow_context(request, model_admin, entitlement, "Confirm change")
    context.update(
        form=form,
        new_product=form.cleaned_data["new_product"],
        direction=form.direction,
        reason=reason_label(form.cleaned_data["reason"]),
        comment=form.cleaned_data["comment"],
        submission_id=_issue_submission(request, entitlement),
    )
    return TemplateResponse(request, "entitlements/change_product_confirm.html", context)


# --- audit log export -----------------------------------------------------------------------

# The plain export: the columns a change record's seal covers, less the raw ones (its id, OPF's
# response body, the HTTP attempts) that only the export with seals carries.
_SEALED_ONLY = ("record id", "OPF response", "HTTP attempts")
EXPORT_COLUMNS = tuple(column for column in CHANGE_FACT if column[0] not in _SEALED_ONLY)
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


def audit_export_view(request, model_admin):
    """The audit log as CSV, with the filters and search of the list it is linked from."""
    if not (
        model_admin.has_view_permission(request)
        and request.user.has_perm("entitlements.export_changeattempt")
    ):
        raise PermissionDenied
    # `seals` chooses the export's shape; it is no filter of the list.
    with_seals = request.GET.get("seals") == "1"
    request.GET = request.GET.copy()
    request.GET.pop("seals", None)
    try:
        changelist = model_admin.get_changelist_instance(request)
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


# --- overdue and outcome unknown ------------------------------------------------------------


def attention_view(request, model_admin):
    """Changes a supervisor must look at: overdue confirmations and unknown outcomes."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    related = ("from_product", "to_product")
    overdue = list(selectors.overdue_changes().select_related(*related)[: ATTENTION_ROWS + 1])
    unknown = list(
        selectors.unknown_outcome_changes().select_related(*related)[: ATTENTION_ROWS + 1]
    )
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": "Overdue and outcome unknown",
        "subtitle": None,
        "overdue": _with_reason_labels(overdue[:ATTENTION_ROWS]),
        "overdue_has_more": len(overdue) > ATTENTION_ROWS,
        "unknown": _with_reason_labels(unknown[:ATTENTION_ROWS]),
        "unknown_has_more": len(unknown) > ATTENTION_ROWS,
        "rows": ATTENTION_ROWS,
        "audit_url": reverse("admin:entitlements_changeattempt_changelist"),
        "has_view_permission": True,
    }
    return TemplateResponse(request, "entitlements/attention.html", context)


# --- settle a change of unknown outcome -----------------------------------------------------


def settle_view(request, object_id, model_admin):
    """A supervisor records what OPF shows for a change of unknown outcome; nothing is sent."""
    if not request.user.has_perm("entitlements.reconcile_changeattempt"):
        raise PermissionDenied
    attempt = (
        ChangeAttempt.objects.select_related("entitlement", "from_product", "to_product")
        .filter(pk=unquote(object_id))
        .first()
    )
    if attempt is None:
        raise Http404
    record_url = reverse("admin:entitlements_changeattempt_change", args=[attempt.pk])
    error = None
    if request.method == "POST":
        found = request.POST.get("found")
        if found not in ("applied", "not_applied"):
            error = messages.SETTLEMENT_FOUND_REQUIRED
        else:
            try:
                settle_unknown_change(
                    change=attempt,
                    applied=found == "applied",
                    user=request.user,
                    note=request.POST.get("note", ""),
                )
            except ChangeRefused as refused:
                error = str(refused)
            else:
                flash.add_message(request, flash.SUCCESS, messages.SETTLED[found == "applied"])
                return redirect(record_url)
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": "Settle a change of unknown outcome",
        "subtitle": None,
        "attempt": attempt,
        "unknown": attempt.outcome == Outcome.OUTCOME_UNKNOWN,
        "error": error,
        "note": request.POST.get("note", ""),
        "record_url": record_url,
        "audit_url": reverse("admin:entitlements_changeattempt_changelist"),
        "has_view_permission": True,
    }
    return TemplateResponse(request, "entitlements/settle_change.html", context)
