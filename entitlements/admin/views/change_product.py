"""Change product: new product, reason, comment -> confirmation -> one changeProduct.

Like `delete_selected`: the first POST shows a confirmation page and sends nothing; only the
confirmed POST (with its one-time submission id, see submissions.py) calls the change service.
"""

from django.contrib import messages as flash
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import SimpleTemplateResponse

from ... import messages, rules, selectors
from ...exceptions import ChangeRefused, OutcomeNotRecorded
from ...forms import ChangeProductForm, reason_label
from ...outcomes import Outcome
from ...services import change_product
from ...services.opf_reads import ReadFailed, reads_configured
from ...services.refresh import Asker, refresh_entitlement
from .actions import confirmed_text
from .base import AdminFlowView, change_url
from .submissions import attempt_of_submission, issue_submission, store_submission, submission_of

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


def flash_outcome(request, attempt) -> None:
    level = OUTCOME_LEVELS.get(Outcome(attempt.outcome), flash.INFO)
    flash.add_message(request, level, messages.change_message(attempt))


class ChangeProductView(AdminFlowView):
    """The steps "edit" and "review" show a form, "confirm" sends the change."""

    def has_permission(self, request) -> bool:
        return self.model_admin.has_change_product_permission(request)

    def load(self, object_id: str) -> None:
        self.entitlement = self.model_admin.get_object(self.request, unquote(object_id))
        if self.entitlement is None:
            raise Http404("No such entitlement.")
        self.page_url = change_url(self.model_admin, self.entitlement.pk)

    def change_refusal(self) -> str | None:
        """Why this entitlement may not change now (the rules, read once per request)."""
        return rules.change_refusal(self.entitlement, selectors.open_change(self.entitlement))

    def get(self, request, object_id):
        self.load(object_id)
        opf_check = self.check_with_opf(object_id)
        refusal = self.change_refusal()
        if refusal:
            if opf_check:
                flash.warning(request, opf_check[1])
            return self.back_to_page(refusal)
        initial = {"version": self.entitlement.version}
        form = ChangeProductForm(initial=initial, entitlement=self.entitlement)
        return self.render_form(form, opf_check=opf_check)

    def check_with_opf(self, object_id: str) -> tuple[str, str] | None:
        """Read OPF as the form opens (when the read is configured), so a change never starts
        from a stale tier: ("confirmed" | "changed" | "unread", the sentence for the agent).

        A difference is applied (and audited) and the form is built on the fresh entitlement;
        a failed read changes nothing and the agent may still go ahead.
        """
        if not reads_configured():
            return None
        try:
            done = refresh_entitlement(self.entitlement, asker=Asker(user=self.request.user))
        except ReadFailed as failed:
            confirmed = confirmed_text(self.entitlement.confirmed_by_opf_at)
            return "unread", messages.FORM_OPF_UNREAD.format(why=failed, confirmed=confirmed)
        if not (done.differences or done.problems):
            return "confirmed", messages.FORM_OPF_CONFIRMED
        self.load(object_id)  # the refreshed entitlement, its new version
        details = " ".join(done.differences + done.problems)
        return "changed", messages.FORM_OPF_CHANGED.format(details=details)

    def post(self, request, object_id):
        self.load(object_id)
        step = request.POST.get("step", "")
        token, entry = "", None
        if step == "confirm":
            token = request.POST.get("submission_id", "")
            entry = submission_of(request, token, self.entitlement)
            if entry is None:
                return self.back_to_page(messages.SUBMISSION_EXPIRED)
            if entry["used"]:
                return self.land_on_result(entry)
        if request.POST.get("version") != str(self.entitlement.version):
            return self.back_to_page(messages.STALE_ENTITLEMENT)  # X3: nothing sent
        refusal = self.change_refusal()
        if refusal:
            return self.back_to_page(refusal)
        form = ChangeProductForm(request.POST, entitlement=self.entitlement)
        if step == "edit" or not form.is_valid():
            return self.render_form(form)
        if step == "confirm":
            return self.send_change(form, token, entry)
        return self.render_confirmation(form)

    def send_change(self, form, token: str, entry: dict):
        request = self.request
        # Marked used and saved before OPF is called, so a second POST already sees it.
        store_submission(request, token, used=True)
        request.session.save()
        try:
            attempt = change_product(
                entitlement=self.entitlement,
                new_product=form.cleaned_data["new_product"],
                user=request.user,
                reason_code=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
                ticket=form.cleaned_data["ticket"],
                expected_version=form.cleaned_data["version"],
            )
        except ChangeRefused as refused:
            sibling = attempt_of_submission(request, entry, self.entitlement)
            if sibling is not None:  # a double submit that raced past the session: its result
                return self.land_on_result({**entry, "attempt": sibling.pk})
            return self.back_to_page(str(refused))
        except OutcomeNotRecorded as unrecorded:
            return self.outcome_not_recorded(str(unrecorded))
        store_submission(request, token, attempt=attempt.pk)
        flash_outcome(request, attempt)
        return redirect(self.page_url)

    def outcome_not_recorded(self, message: str):
        """The truth, on a page that needs no database (it is gone): the change may be in OPF."""
        # The session was saved before OPF was called; saving it again would fail the same way.
        self.request.session.modified = False
        return SimpleTemplateResponse(
            "entitlements/outcome_not_recorded.html",
            {"message": message, "entitlement": self.entitlement.opf_id},
            status=503,
        )

    def land_on_result(self, entry: dict):
        attempt = attempt_of_submission(self.request, entry, self.entitlement)
        if attempt is None:
            flash.info(self.request, messages.OUTCOME_MESSAGES[Outcome.IN_FLIGHT])
        else:
            flash_outcome(self.request, attempt)
        return redirect(self.page_url)

    def back_to_page(self, warning: str):
        flash.warning(self.request, warning)
        return redirect(self.page_url)

    def render_form(self, form, opf_check=None):
        return self.render_step(
            "entitlements/change_product.html", "Change product", form,
            media=self.model_admin.media + form.media, opf_check=opf_check,
        )  # fmt: skip

    def render_confirmation(self, form):
        return self.render_step(
            "entitlements/change_product_confirm.html", "Confirm change", form,
            new_product=form.cleaned_data["new_product"],
            direction=form.direction,
            reason=reason_label(form.cleaned_data["reason"]),
            comment=form.cleaned_data["comment"],
            ticket=form.cleaned_data["ticket"],
            provider_warning=self.provider_warning(),
            submission_id=issue_submission(self.request, self.entitlement),
        )  # fmt: skip

    def provider_warning(self) -> tuple[str, str]:
        """What will happen after Confirm, by what OPF answered this provider's last change:
        (css class, sentence). A provider never changed through the portal yet "may" confirm."""
        product = self.entitlement.product
        values = {"provider": product.provider_label, "product": product.name}
        confirms_later = selectors.provider_confirms_later(self.entitlement.provider_id)
        if confirms_later is None:
            return "care-warning", messages.PROVIDER_MAY_CONFIRM.format(**values)
        if confirms_later:
            return "care-warning", messages.PROVIDER_CONFIRMS.format(**values)
        return "care-note", messages.PROVIDER_APPLIES_AT_ONCE.format(**values)

    def render_step(self, template: str, title: str, form, **context):
        return self.render(
            template, title=title, trail=[(str(self.entitlement), self.page_url)],
            form=form, entitlement=self.entitlement, entitlement_url=self.page_url, **context,
        )  # fmt: skip
