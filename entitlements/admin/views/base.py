"""What every admin flow view shares: the model admin it serves, its permission, its page context.

Built like Django's own admin views (`AutocompleteJsonView.as_view(admin_site=...)`): the
ModelAdmin mounts each one in `get_urls()` as `SomeView.as_view(model_admin=self)` wrapped in
`admin_site.admin_view` (staff login), and the view asks the ModelAdmin's `has_<name>_permission`
hook before anything else, whatever the HTTP method.
"""

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst
from django.views import View

from ... import messages
from ...forms import reason_label


def admin_page_context(request, model_admin, *, title: str, trail=(), **extra) -> dict:
    """The context of an admin page of `model_admin`'s model, titled `title`.

    The breadcrumbs run Home > the app > the model's list > `trail` (label, url) pairs > title.
    """
    opts = model_admin.opts
    list_name = getattr(model_admin, "index_name", None) or capfirst(opts.verbose_name_plural)
    list_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": title,
        "subtitle": None,
        "has_view_permission": model_admin.has_view_permission(request),
        "list_url": list_url,
        "breadcrumbs": [(list_name, list_url), *trail, (title, None)],
        **extra,
    }


def change_url(model_admin, pk) -> str:
    """The admin page of one row of `model_admin`'s model."""
    opts = model_admin.opts
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(pk)])


def change_reason(attempt) -> str:
    """The words of a change's reason; a customer's own change says so, not its code."""
    if attempt.made_at_provider:
        return messages.MADE_AT_PROVIDER
    return reason_label(attempt.reason_code)


def with_reason_labels(attempts: list) -> list:
    """Change attempts with the words of their reason, for the history tables."""
    for attempt in attempts:
        attempt.reason_label = change_reason(attempt)
    return attempts


class AdminFlowView(View):
    """A page of one of the admin's bigger flows, mounted by a ModelAdmin's get_urls()."""

    model_admin = None

    def has_permission(self, request) -> bool:
        raise NotImplementedError("name the ModelAdmin's has_<name>_permission hook")

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission(request):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def render(self, template: str, *, title: str, trail=(), **context) -> TemplateResponse:
        page = admin_page_context(
            self.request, self.model_admin, title=title, trail=trail, **context
        )
        return TemplateResponse(self.request, template, page)
