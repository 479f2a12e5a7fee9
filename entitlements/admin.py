"""The Care Portal admin: find entitlements, change their product, review the audit log.

Declarative on purpose: the flows live in admin_views.py, searching and paging for large tables
in admin_search.py and paginators.py, the filters in admin_filters.py.
"""

import json

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from . import admin_views
from .admin_filters import AgentFilter, AwaitingConfirmationFilter, CreatedFilter, ProviderFilter
from .admin_search import audit_matching, entitlements_matching, search_term
from .forms import reason_label
from .models import ChangeAttempt, Entitlement, Product
from .paginators import LargeTableAdminMixin


class NamedAdminMixin:
    """Pages titled with the names care staff use ("Audit log", "Catalogue")."""

    index_name = None  # shown in the admin index, the sidebar and the breadcrumbs
    list_title = None

    def changelist_view(self, request, extra_context=None):
        context = {"title": self.list_title, "model_label": self.index_name}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def render_change_form(self, request, context, *args, **kwargs):
        context["model_label"] = self.index_name
        return super().render_change_form(request, context, *args, **kwargs)


class ReadOnlyAdminMixin:
    """Nobody, superusers included, adds, edits or deletes these rows through the admin."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(NamedAdminMixin, admin.ModelAdmin):
    """The catalogue: agents only view it (their role has view_product alone)."""

    index_name = "Catalogue"
    list_title = "Catalogue"
    list_display = ("name", "opf_id", "provider_id", "tier", "active")
    list_filter = ("provider_id", "active")
    search_fields = ("opf_id", "name")
    ordering = ("provider_id", "tier", "opf_id")
    list_per_page = 100


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdminMixin, LargeTableAdminMixin, NamedAdminMixin, admin.ModelAdmin):
    """The mirror of OPF's entitlements: changed by OPF and the change flow, never by hand."""

    index_name = "Entitlements"
    list_title = "Find an entitlement"
    list_display = (
        "opf_id",
        "account_id",
        "provider_id",
        "current_product",
        "status",
        "pending_change",
        "needs_review",
    )
    list_select_related = ("product", "pending_product")
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
        "needs_review",
        "version",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    change_form_template = "admin/entitlements/entitlement/change_form.html"

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

    @admin.display(description="current product")
    def current_product(self, obj):
        return obj.product.name

    @admin.display(description="pending change")
    def pending_change(self, obj):
        if obj.pending_product is None:
            return ""
        return f"to {obj.pending_product.name}, waiting since {obj.pending_since:%Y-%m-%d %H:%M}"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/change-product/",
                self.admin_site.admin_view(self.change_product_view),
                name="entitlements_entitlement_change_product",
            ),
            *super().get_urls(),
        ]

    def change_product_view(self, request, object_id):
        return admin_views.change_product_view(request, object_id, self)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {"title": "Entitlement", **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(admin_views.entitlement_page_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(ChangeAttempt)
class AuditLogAdmin(ReadOnlyAdminMixin, LargeTableAdminMixin, NamedAdminMixin, admin.ModelAdmin):
    """Every change attempt, for supervisors (view_changeattempt); append-only."""

    index_name = "Audit log"
    list_title = "Audit log"
    list_display = (
        "created_at",
        "actor_username",
        "account_id",
        "entitlement_link",
        "from_to",
        "reason",
        "short_comment",
        "outcome",
        "http_status",
        "correlation_id",
    )
    list_display_links = ("created_at",)
    list_select_related = ("from_product", "to_product")
    list_filter = ("outcome", ProviderFilter, AgentFilter, CreatedFilter)
    # Matched by get_search_results: exact or prefix, index-served.
    search_fields = ("entitlement_opf_id", "account_id", "correlation_id")
    search_help_text = (
        "Entitlement id, account id or correlation id: the whole id or its beginning."
    )
    fieldsets = (
        ("Who and when", {"fields": (
            "created_at", "finished_at", "actor_username", "actor_name", "actor_subject",
            "origin",
        )}),
        ("What", {"fields": (
            "entitlement", "account_id", "provider_id", "from_product", "to_product",
            "reason", "comment",
        )}),
        ("OPF", {"fields": (
            "outcome", "http_status", "opf_message", "detail", "opf_response", "requests",
            "duration_ms", "correlation_id",
        )}),
    )  # fmt: skip
    readonly_fields = [f for _title, options in fieldsets for f in options["fields"]]
    change_list_template = "admin/entitlements/changeattempt/change_list.html"

    def get_search_results(self, request, queryset, search_term_):
        term = search_term(search_term_)
        return (audit_matching(queryset, term) if term else queryset), False

    @admin.display(description="entitlement")
    def entitlement_link(self, obj):
        url = reverse("admin:entitlements_entitlement_change", args=[obj.entitlement_id])
        return format_html('<a href="{}">{}</a>', url, obj.entitlement_opf_id)

    @admin.display(description="from -> to")
    def from_to(self, obj):
        return f"{obj.from_product.name} -> {obj.to_product.name}"

    @admin.display(description="reason")
    def reason(self, obj):
        return reason_label(obj.reason_code)

    @admin.display(description="comment")
    def short_comment(self, obj):
        return obj.comment if len(obj.comment) <= 60 else obj.comment[:59] + "…"

    @admin.display(description="OPF response")
    def opf_response(self, obj):
        return format_html("<pre>{}</pre>", obj.response_body) if obj.response_body else ""

    @admin.display(description="requests to OPF")
    def requests(self, obj):
        if not obj.http_attempts:
            return ""
        return format_html("<pre>{}</pre>", json.dumps(obj.http_attempts, indent=1))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {
            "title": "Audit record",
            "may_settle": request.user.has_perm("entitlements.reconcile_changeattempt"),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def changelist_view(self, request, extra_context=None):
        context = {
            "may_export": request.user.has_perm("entitlements.export_changeattempt"),
            "export_url": reverse("admin:entitlements_changeattempt_export"),
            "attention_url": reverse("admin:entitlements_changeattempt_attention"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def get_urls(self):
        site = self.admin_site
        return [
            path("export/", site.admin_view(self.export_view),
                 name="entitlements_changeattempt_export"),
            path("attention/", site.admin_view(self.attention_view),
                 name="entitlements_changeattempt_attention"),
            path("<path:object_id>/settle/", site.admin_view(self.settle_view),
                 name="entitlements_changeattempt_settle"),
            *super().get_urls(),
        ]  # fmt: skip

    def export_view(self, request):
        return admin_views.audit_export_view(request, self)

    def attention_view(self, request):
        return admin_views.attention_view(request, self)

    def settle_view(self, request, object_id):
        return admin_views.settle_view(request, object_id, self)

    def index_links(self, request):
        """The supervisors' attention list, listed beside the audit log in the admin index."""
        if not self.has_view_permission(request):
            return []
        return [{
            "name": "Overdue and outcome unknown",
            "object_name": "attention",
            "admin_url": reverse("admin:entitlements_changeattempt_attention"),
            "add_url": None,
            "view_only": True,
            "perms": {"view": True},
        }]  # fmt: skip


# Bulk tier migration (issue 12): its admin lives with its code.
from .bulk import admin as bulk_admin  # noqa: E402, F401
