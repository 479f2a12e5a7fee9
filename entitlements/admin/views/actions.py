"""Buttons that do one thing and go back: Refresh from OPF, Check OPF now, Mark reviewed.

Each is a POST (CSRF-checked, never a link a crawler could follow) that lands back on the page
it was pressed on (`next`, when it is one of ours) or on the record, with a message saying what
happened.
"""

from django.contrib import messages as flash
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from ... import messages
from ...services.audit import utc_text
from ...services.opf_reads import ReadFailed
from ...services.reconciliation import check_change
from ...services.refresh import Asker, refresh_account, refresh_entitlement
from .base import AdminFlowView, change_url


def confirmed_text(moment) -> str:
    return f"at {utc_text(moment)}" if moment else messages.NEVER_CONFIRMED


def refreshed_message(done) -> tuple[int, str]:
    """The flash level and sentence for a refresh's result."""
    level, text = flash.SUCCESS, messages.REFRESHED_NO_DIFFERENCE
    if done.differences:
        level = flash.WARNING
        text = messages.REFRESHED_DIFFERENCES.format(
            count=len(done.differences), details=" ".join(done.differences)
        )
    if done.problems:
        level = flash.WARNING
        text += " " + messages.REFRESH_PROBLEMS.format(problems=" ".join(done.problems))
    return level, text


def safe_next(request, target: str | None) -> str:
    """`target` when it is a page of this site, else ""."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


class ActionView(AdminFlowView):
    http_method_names = ["post"]

    def back(self, default: str):
        return redirect(safe_next(self.request, self.request.POST.get("next")) or default)

    def get_row(self, object_id: str):
        row = self.model_admin.get_object(self.request, unquote(object_id))
        if row is None:
            raise Http404("No such record.")
        return row


class RefreshView(ActionView):
    """Refresh one entitlement from OPF (agents: on its page)."""

    def has_permission(self, request) -> bool:
        return self.model_admin.has_refresh_permission(request)

    def post(self, request, object_id):
        entitlement = self.get_row(object_id)
        try:
            done = refresh_entitlement(entitlement, asker=Asker(user=request.user))
        except ReadFailed as failed:
            flash.error(request, messages.OPF_UNREAD.format(
                why=failed, confirmed=confirmed_text(entitlement.confirmed_by_opf_at)
            ))  # fmt: skip
        else:
            flash.add_message(request, *refreshed_message(done))
        return self.back(change_url(self.model_admin, entitlement.pk))


class RefreshAccountView(ActionView):
    """Refresh every entitlement of one account from OPF (the account's page)."""

    def has_permission(self, request) -> bool:
        return self.model_admin.has_refresh_permission(request)

    def post(self, request, account_id):
        try:
            done = refresh_account(unquote(account_id), asker=Asker(user=request.user))
        except ReadFailed as failed:
            flash.error(request, messages.OPF_UNREAD.format(why=failed, confirmed="(see each)"))
        else:
            flash.add_message(request, *refreshed_message(done))
        opts = self.model_admin.opts
        default = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return self.back(f"{default}?q={account_id}")


class CheckOpfView(ActionView):
    """A supervisor's Check OPF now on one change: reconciliation for that change alone."""

    def has_permission(self, request) -> bool:
        return self.model_admin.has_settle_permission(request)

    def post(self, request, object_id):
        change = self.get_row(object_id)
        check = check_change(change, asked_by=request.user.get_username())
        level = flash.SUCCESS if check.settled else flash.WARNING
        flash.add_message(request, level, messages.CHECKED[check.verdict].format(why=check.why))
        return self.back(change_url(self.model_admin, change.pk))


class MarkReviewedView(ActionView):
    """Mark an OPF notification kept for review, or a flagged entitlement, reviewed; `mark` is
    the service (services/review.py) for the ModelAdmin's rows."""

    mark = None

    def has_permission(self, request) -> bool:
        return self.model_admin.has_mark_reviewed_permission(request)

    def post(self, request, object_id):
        row = self.get_row(object_id)
        if self.mark(row, user=request.user, note=request.POST.get("note", "")):
            flash.success(request, messages.MARKED_REVIEWED)
        else:
            flash.info(request, messages.ALREADY_REVIEWED)
        return self.back(change_url(self.model_admin, row.pk))
