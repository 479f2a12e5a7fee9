"""The audit log: every change attempt, for supervisors (view_changeattempt); append-only."""

import json

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.urls import path, reverse
from django.utils.html import format_html

from .. import messages, selectors
from ..models import ChangeAttempt
from ..services.settlement import may_be_settled
from .filters import AgentFilter, CreatedFilter, ProviderFilter, SettlementFilter
from .links import account_url
from .mixins import LargeTableAdminMixin, NamedAdminMixin, ReadOnlyAdminMixin, may_reconcile
from .search import audit_matching, search_term
from .views import AttentionView, AuditExportView, CheckOpfView, SettleView
from .views.base import change_reason

COMMENT_CHARS = 40  # in the list; the record shows the whole comment


@admin.register(ChangeAttempt)
class AuditLogAdmin(ReadOnlyAdminMixin, LargeTableAdminMixin, NamedAdminMixin, admin.ModelAdmin):
    """Supervisors search, filter and export it; nobody adds, edits or deletes a record."""

    index_name = "Audit log"
    list_title = "Audit log"
    # The outcome first and the wide texts last, so a 1366 px screen with the sidebar open
    # shows outcome, OPF status and correlation id without sideways scrolling (care.css wraps).
    list_display = (
        "created_at", "outcome_badge", "settlement_shown", "http_status", "correlation_id",
        "entitlement_link", "account_link", "from_to", "actor_username", "reason", "ticket",
        "short_comment",
    )  # fmt: skip
    list_display_links = ("created_at",)
    list_select_related = ("from_product", "to_product")
    list_filter = (
        "outcome",
        SettlementFilter,
        "origin",
        ProviderFilter,
        AgentFilter,
        CreatedFilter,
    )
    # Matched by get_search_results: exact or prefix, index-served.
    search_fields = ("entitlement_opf_id", "account_id", "correlation_id")
    search_help_text = (
        "Entitlement id, account id, correlation id or Ticket: the whole id or its beginning."
    )
    fieldsets = (
        ("Who and when", {"fields": (
            "created_at", "finished_at", "actor_username", "actor_name", "actor_subject",
            "origin",
        )}),
        ("What", {"fields": (
            "entitlement", "account_id", "provider_id", "from_product", "to_product",
            "reason", "ticket", "comment",
        )}),
        ("OPF", {"fields": (
            "outcome", "http_status", "opf_message", "detail", "opf_response",
            "opf_response_bytes", "requests",
            "duration_ms", "correlation_id",
        )}),
        # Its own fact: who settled, when, what OPF showed; the outcome above stays as it was.
        ("Settlement", {"fields": (
            "settlement_shown", "settled_at", "settled_by", "settlement_opf_state",
            "settlement_note",
        )}),
    )  # fmt: skip
    readonly_fields = [f for _title, options in fieldsets for f in options["fields"]]
    change_list_template = "admin/entitlements/changeattempt/change_list.html"

    # --- who may use the supervisors' pages (the views ask these hooks) ------------------------

    def has_export_permission(self, request, obj=None) -> bool:
        codename = get_permission_codename("export", self.opts)
        return self.has_view_permission(request) and request.user.has_perm(
            f"{self.opts.app_label}.{codename}"
        )

    def has_attention_permission(self, request, obj=None) -> bool:
        return self.has_view_permission(request)

    def has_settle_permission(self, request, obj=None) -> bool:
        return may_reconcile(request)

    def get_search_results(self, request, queryset, search_term_):
        term = search_term(search_term_)
        return (audit_matching(queryset, term) if term else queryset), False

    def get_queryset(self, request):
        # The record's title names its products ("ENT-1: Netflix Premium → Netflix Standard").
        return super().get_queryset(request).select_related("from_product", "to_product")

    @admin.display(description="outcome")
    def outcome_badge(self, obj):
        return format_html('<span class="care-badge outcome-badge outcome-{}">{}</span>',
                           obj.outcome, obj.get_outcome_display())  # fmt: skip

    @admin.display(description="entitlement")
    def entitlement_link(self, obj):
        url = reverse("admin:entitlements_entitlement_change", args=[obj.entitlement_id])
        return format_html('<a href="{}">{}</a>', url, obj.entitlement_opf_id)

    @admin.display(description="account")
    def account_link(self, obj):
        return format_html('<a href="{}">{}</a>', account_url(obj.account_id), obj.account_id)

    @admin.display(description="settlement")
    def settlement_shown(self, obj):
        if not obj.settlement:
            return "not settled"
        return f"{obj.get_settlement_display()} by {obj.settled_by}"

    @admin.display(description="from → to")
    def from_to(self, obj):
        return f"{obj.from_product.name} → {obj.to_product.name}"

    @admin.display(description="reason")
    def reason(self, obj):
        return change_reason(obj)

    @admin.display(description="comment")
    def short_comment(self, obj):
        if len(obj.comment) <= COMMENT_CHARS:
            return obj.comment
        return obj.comment[: COMMENT_CHARS - 1] + "…"

    @admin.display(description="OPF response")
    def opf_response(self, obj):
        return format_html("<pre>{}</pre>", obj.response_body) if obj.response_body else ""

    @admin.display(description="OPF response (exact bytes)")
    def opf_response_bytes(self, obj):
        """Shown when the text above is not exactly what OPF sent (NUL, invalid UTF-8...)."""
        raw = bytes(obj.response_bytes or b"")
        if not raw or raw == obj.response_body.encode("utf-8"):
            return ""
        return format_html("<pre>{} bytes: {}</pre>", len(raw), repr(raw))

    @admin.display(description="requests to OPF")
    def requests(self, obj):
        if not obj.http_attempts:
            return ""
        return format_html("<pre>{}</pre>", json.dumps(obj.http_attempts, indent=1))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {
            "title": "Audit record",
            "may_settle": self.has_settle_permission(request),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["settleable"] = may_be_settled(obj)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def changelist_view(self, request, extra_context=None):
        context = {
            "may_export": self.has_export_permission(request),
            "export_url": reverse("admin:entitlements_changeattempt_export"),
            "attention_url": reverse("admin:entitlements_changeattempt_attention"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("export/", view(AuditExportView.as_view(model_admin=self)),
                 name=f"{app}_{model}_export"),
            path("attention/", view(AttentionView.as_view(model_admin=self)),
                 name=f"{app}_{model}_attention"),
            path("<path:object_id>/settle/", view(SettleView.as_view(model_admin=self)),
                 name=f"{app}_{model}_settle"),
            path("<path:object_id>/check-opf/", view(CheckOpfView.as_view(model_admin=self)),
                 name=f"{app}_{model}_check_opf"),
            *super().get_urls(),
        ]  # fmt: skip

    def index_links(self, request):
        """Needs attention, listed beside the audit log; on the index page with its count (the
        sidebar of every other page leaves the count out, so those pages cost no more)."""
        if not self.has_attention_permission(request):
            return []
        name = messages.NEEDS_ATTENTION
        match = request.resolver_match
        if match is not None and match.url_name == "index":
            # Asked twice per page (the index's list and the sidebar's): counted once.
            if not hasattr(request, "needs_attention_count"):
                request.needs_attention_count = selectors.attention_count()
            count = request.needs_attention_count
            more = "+" if count >= selectors.ATTENTION_COUNT_CAP else ""
            name = f"{name} ({count}{more})"
        return [{
            "name": name,
            "object_name": "attention",
            "admin_url": reverse("admin:entitlements_changeattempt_attention"),
            "add_url": None,
            "view_only": True,
            "perms": {"view": True},
        }]  # fmt: skip
