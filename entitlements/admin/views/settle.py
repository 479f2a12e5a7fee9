"""A supervisor records what OPF shows for a change of unknown outcome or an overdue
confirmation; nothing is sent to OPF. The settlement is kept beside the change's outcome."""

from django.contrib import messages as flash
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect

from ... import messages
from ...exceptions import ChangeRefused
from ...services import settle_unknown_change
from ...services.settlement import may_be_settled
from ..forms import SettleForm
from .actions import safe_next
from .base import AdminFlowView, change_url


class SettleView(AdminFlowView):
    def has_permission(self, request) -> bool:
        return self.model_admin.has_settle_permission(request)

    def load(self, object_id: str) -> None:
        queryset = self.model_admin.get_queryset(self.request)
        try:  # "abc" is no id: 404 like an id that does not exist
            pk = queryset.model._meta.pk.to_python(unquote(object_id))
        except ValidationError as exc:
            raise Http404("No such change attempt.") from exc
        self.attempt = (
            queryset.select_related("entitlement", "from_product", "to_product")
            .filter(pk=pk)
            .first()
        )
        if self.attempt is None:
            raise Http404("No such change attempt.")
        self.record_url = change_url(self.model_admin, self.attempt.pk)

    def get(self, request, object_id):
        self.load(object_id)
        return self.render_form(SettleForm(change=self.attempt))

    def post(self, request, object_id):
        self.load(object_id)
        form = SettleForm(request.POST, change=self.attempt)
        if form.is_valid():
            try:
                settle_unknown_change(
                    change=self.attempt,
                    applied=form.applied,
                    user=request.user,
                    note=form.cleaned_data["note"],
                )
            except ChangeRefused as refused:
                form.add_error(None, str(refused))
            else:
                flash.success(request, messages.SETTLED[form.applied])
                return redirect(safe_next(request, request.POST.get("next")) or self.record_url)
        return self.render_form(form)

    def render_form(self, form):
        return self.render(
            "entitlements/settle_change.html",
            title="Settle a change of unknown outcome",
            trail=[(self.attempt.correlation_id, self.record_url)],
            form=form,
            attempt=self.attempt,
            record_url=self.record_url,
            settleable=may_be_settled(self.attempt),
            next=safe_next(
                self.request, self.request.GET.get("next") or self.request.POST.get("next")
            ),
        )
