"""The job pages behind BulkJobAdmin: plan (with its dry run), the job page, its progress as
JSON for the page's script, the buttons, the results CSV. Each checks its permission itself."""

from __future__ import annotations

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import control, progress
from .forms import PlanForm
from .models import BulkJob
from .planning import PERMISSION, REASONS, PlanRefused, plan_job


def job_url(job: BulkJob) -> str:
    return reverse("admin:entitlements_bulkjob_change", args=[job.pk])


def _job(model_admin, request, object_id) -> BulkJob:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    job = (
        BulkJob.objects.select_related("source_product", "target_product")
        .filter(pk=object_id)
        .first()
        if str(object_id).isdigit()
        else None
    )
    if job is None:
        raise Http404("No such bulk change.")
    return job


def plan_view(request, model_admin):
    """The plan form; its submission stores the plan and shows its dry run (nothing is sent)."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    form = PlanForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = plan_job(form.plan_request(request.user))
        except PlanRefused as exc:
            form.add_error(None, str(exc))
        else:
            flash.info(request, "Dry run: nothing has been sent. Review it, then start.")
            return redirect(job_url(job))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Plan a bulk change",
        "form": form,
    }
    return TemplateResponse(request, "admin/entitlements/bulkjob/plan.html", context)


def job_view(request, object_id, model_admin):
    job = _job(model_admin, request, object_id)
    plan = job.plan
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": str(job),
        "job": job,
        "blocked": [
            (REASONS[code], n, plan.get("blocked_sample", {}).get(code, []))
            for code, n in sorted(plan.get("blocked", {}).items())
        ],
        "sample": plan.get("sample", []),
        "progress": progress.counts(job),
        "failures": progress.failures(job),
        "events": job.events.order_by("at", "id"),
        "may_run": request.user.has_perm(PERMISSION),
        "progress_url": reverse("admin:entitlements_bulkjob_progress", args=[job.pk]),
        "control_url": reverse("admin:entitlements_bulkjob_control", args=[job.pk]),
        "results_url": reverse("admin:entitlements_bulkjob_results", args=[job.pk]),
    }
    return TemplateResponse(request, "admin/entitlements/bulkjob/job.html", context)


def progress_view(request, object_id, model_admin):
    return JsonResponse(progress.counts(_job(model_admin, request, object_id)))


@require_POST
def control_view(request, object_id, model_admin):
    job = _job(model_admin, request, object_id)
    action = request.POST.get("action", "")
    if action not in control.ACTIONS:
        flash.error(request, "Unknown action; nothing was done.")
        return redirect(job_url(job))
    try:
        result = control.apply(action, job, user=request.user)
    except control.ControlRefused as exc:
        flash.error(request, str(exc))
    else:
        done = {"start": "Started: the first batch is running.", "pause": "Paused.",
                "resume": "Resumed.", "cancel": f"Cancelled; {result} not sent.",
                "retry": f"{result} queued again."}  # fmt: skip
        flash.success(request, done[action])
    return redirect(job_url(job))


def results_view(request, object_id, model_admin):
    job = _job(model_admin, request, object_id)
    response = StreamingHttpResponse(progress.csv_lines(job), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="bulk-change-{job.pk}.csv"'
    return response
