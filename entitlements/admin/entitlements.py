"""The mirror of OPF's entitlements: found by agents, changed by OPF and the change flow only."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from .. import messages, rules, selectors
from ..models import ChangeAttempt, Entitlement
from ..outcomes import Outcome
from ..services.opf_reads import reads_configured
from ..services.review import mark_entitlement_reviewed
from .filters import AwaitingConfirmationFilter, ProviderFilter
from .links import account_url
from .mixins import LargeTableAdminMixin, NamedAdminMixin, ReadOnlyAdminMixin, may_reconcile
from .search import entitlements_matching, search_term
from .views import (
    AccountView,
    ChangeProductView,
    EntitlementStatusView,
    FindView,
    MarkReviewedView,
    RefreshAccountView,
    RefreshView,
    with_reason_labels,
)

MY_WAITING_ROWS = 20  # on the admin index
HISTORY_ROWS = 50  # on the entitlement page; supervisors follow a link to the audit log for more


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdminMixin, LargeTableAdminMixin, NamedAdminMixin, admin.ModelAdmin):
    """Agents find an entitlement by id or account and open its page to change its product."""

    index_name = "Entitlements"
    list_title = "Find an entitlement"
    list_select_related = ("product", "pending_product")
    list_display = (
        "opf_id", "account_link", "provider", "current_product", "status", "pending_change",
        "review_flag",
    )  # fmt: skip
    list_filter = (ProviderFilter, "product", "status", AwaitingConfirmationFilter)
    # Matched by get_search_results: exact or prefix, index-served.
    search_fields = ("opf_id", "account_id")
    search_help_text = "Entitlement id or account id: the whole id or its beginning."
    fields = (
        "opf_id",
        "account_id",
        "provider_id",
        "product",
        "status",
        "pending_product",
        "pending_since",
        "review_flag",
        "confirmed_by_opf_at",
        "version",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    change_form_template = "admin/entitlements/entitlement/change_form.html"

    def has_change_product_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_entitlement_product")

    def has_refresh_permission(self, request, obj=None) -> bool:
        """Anyone who may see the entitlement may ask OPF for it, when the read is configured."""
        return reads_configured() and self.has_view_permission(request, obj)

    def has_mark_reviewed_permission(self, request, obj=None) -> bool:
        return may_reconcile(request)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "pending_product")

    def get_search_results(self, request, queryset, search_term_):
        term = search_term(search_term_)
        return (entitlements_matching(queryset, term) if term else queryset), False

    def get_ordering(self, request):
        # Awaiting confirmation: the longest waiting first, in the order of the partial index
        # `entitlement_pending` (newest-id-first would walk the table to find the few pending).
        if request.GET.get(AwaitingConfirmationFilter.parameter_name) == "yes":
            return ("pending_since", "id")
        return super().get_ordering(request)

    @admin.display(description="account id")
    def account_link(self, obj):
        return format_html('<a href="{}">{}</a>', account_url(obj.account_id), obj.account_id)

    @admin.display(description="provider")
    def provider(self, obj):
        return obj.product.provider_label

    @admin.display(description="current product")
    def current_product(self, obj):
        return obj.product.name

    @admin.display(description="pending change")
    def pending_change(self, obj):
        if obj.pending_product is None:
            return ""
        since = formats.date_format(timezone.localtime(obj.pending_since), "DATETIME_FORMAT")
        return f"to {obj.pending_product.name}, waiting since {since}"

    @admin.display(description="needs review")
    def review_flag(self, obj):
        # A warning where it is true, nothing on the healthy rows (not a red cross on each).
        if not obj.needs_review:
            return ""
        return format_html('<span class="care-badge badge-warning">{}</span>',
                           messages.NEEDS_REVIEW_BADGE)  # fmt: skip

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        mark_reviewed = MarkReviewedView.as_view(model_admin=self, mark=mark_entitlement_reviewed)
        return [
            path("find/", view(FindView.as_view(model_admin=self)), name=f"{app}_{model}_find"),
            path("account/<path:account_id>/", view(AccountView.as_view(model_admin=self)),
                 name=f"{app}_{model}_account"),
            path("<path:object_id>/change-product/",
                 view(ChangeProductView.as_view(model_admin=self)),
                 name=f"{app}_{model}_change_product"),
            path("<path:object_id>/status/", view(EntitlementStatusView.as_view(model_admin=self)),
                 name=f"{app}_{model}_status"),
            path("<path:object_id>/refresh/", view(RefreshView.as_view(model_admin=self)),
                 name=f"{app}_{model}_refresh"),
            path("<path:object_id>/mark-reviewed/", view(mark_reviewed),
                 name=f"{app}_{model}_mark_reviewed"),
            path("refresh-account/<path:account_id>/",
                 view(RefreshAccountView.as_view(model_admin=self)),
                 name=f"{app}_{model}_refresh_account"),
            *super().get_urls(),
        ]  # fmt: skip

    @property
    def find_url(self) -> str:
        """The list's search goes straight to the entitlement or account when one matches."""
        return reverse("admin:entitlements_entitlement_find")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {"title": "Entitlement", **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.entitlement_page_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def entitlement_page_context(self, request, entitlement: Entitlement) -> dict:
        """What the page shows beside the fields: the change in flight, history, the button."""
        rows = selectors.change_history(entitlement)[: HISTORY_ROWS + 1]
        history = with_reason_labels(list(rows))
        audit_log = self.admin_site.get_model_admin(ChangeAttempt)
        audit_url = None
        if audit_log.has_view_permission(request):
            audit_url = (
                reverse("admin:entitlements_changeattempt_changelist")
                + f"?entitlement__id__exact={entitlement.pk}"
            )
        current = selectors.open_change(entitlement)
        refusal = rules.change_refusal(entitlement, current)
        overdue = current is not None and selectors.is_overdue(current)
        return {
            "open_change": current,
            # An open change explains itself (its box says what it waits for): no red refusal.
            "change_refusal": None if current else refusal,
            "open_change_note": self.open_change_note(entitlement, current),
            "overdue_message": messages.OVERDUE_FOR_AGENT.format(
                since=f"{current.created_at:%Y-%m-%d %H:%M} UTC"
            )
            if overdue
            else "",
            "account_url": account_url(entitlement.account_id),
            "may_refresh": self.has_refresh_permission(request, entitlement),
            "refresh_url": reverse("admin:entitlements_entitlement_refresh", args=[entitlement.pk]),
            "status_url": reverse("admin:entitlements_entitlement_status", args=[entitlement.pk]),
            "may_change_product": self.has_change_product_permission(request, entitlement),
            "change_product_url": reverse(
                "admin:entitlements_entitlement_change_product", args=[entitlement.pk]
            ),
            "history": history[:HISTORY_ROWS],
            "history_has_more": len(history) > HISTORY_ROWS,
            "audit_url": audit_url,
        }

    def index_context(self, request) -> dict:
        """The admin index's search box, and the agent's own changes still waiting."""
        if not self.has_view_permission(request):
            return {}
        waiting = selectors.waiting_changes_of(request.user.get_username())
        return {
            "find_url": reverse("admin:entitlements_entitlement_find"),
            "my_waiting": list(waiting[:MY_WAITING_ROWS]),
        }

    @staticmethod
    def open_change_note(entitlement: Entitlement, change: ChangeAttempt | None) -> str:
        """What the open change waits for, in the place a refusal would be."""
        if change is None:
            return ""
        if change.outcome == Outcome.AWAITING_CONFIRMATION:
            return messages.WAITS_FOR_PROVIDER.format(provider=entitlement.product.provider_label)
        if change.outcome == Outcome.OUTCOME_UNKNOWN:
            return messages.UNKNOWN_OUTCOME
        return messages.OUTCOME_MESSAGES[Outcome.IN_FLIGHT]
