"""OPF's notifications as received, for supervisors (view_notificationdelivery): read-only.

The list filters by what the portal did and by review state; a delivery's page shows its raw
body and headers, who reviewed it and when, and "Mark reviewed" while it is kept for review.
"""

from django.contrib import admin
from django.urls import path
from django.utils.html import format_html, format_html_join

from ..models import NotificationDelivery
from ..services.review import mark_notification_reviewed
from ..upkeep import ReviewMark
from .mixins import LargeTableAdminMixin, NamedAdminMixin, ReadOnlyAdminMixin, may_reconcile
from .views import MarkReviewedView


class ReviewStateFilter(admin.SimpleListFilter):
    title = "review state"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("kept", "Kept for review"),
            ("reviewed", "Reviewed"),
            ("none", "Nothing to review"),
        ]

    def queryset(self, request, queryset):
        reviewed = ReviewMark.objects.filter(delivery__isnull=False).values("delivery_id")
        if self.value() == "kept":
            return queryset.filter(needs_review=True)
        if self.value() == "reviewed":
            return queryset.filter(pk__in=reviewed)
        if self.value() == "none":
            return queryset.filter(needs_review=False).exclude(pk__in=reviewed)
        return queryset


@admin.register(NotificationDelivery)
class NotificationAdmin(
    ReadOnlyAdminMixin, LargeTableAdminMixin, NamedAdminMixin, admin.ModelAdmin
):
    index_name = "OPF notifications"
    list_title = "OPF notifications"
    list_display = (
        "received_at", "event_type", "entitlement_opf_id", "product_opf_id", "result",
        "needs_review", "webhook_id",
    )  # fmt: skip
    list_filter = ("result", ReviewStateFilter, "event_type")
    fieldsets = (
        ("Received", {"fields": (
            "received_at", "sent_at", "webhook_id", "event_type", "entitlement_opf_id",
            "product_opf_id", "status", "occurred_at", "correlation_id", "remote_addr",
        )}),
        ("What the portal did", {"fields": (
            "result", "detail", "entitlement", "change", "needs_review", "reviewed",
        )}),
        ("As OPF sent it", {"fields": ("raw_body", "raw_headers")}),
    )  # fmt: skip
    readonly_fields = [f for _title, options in fieldsets for f in options["fields"]]
    change_form_template = "admin/entitlements/notificationdelivery/change_form.html"

    def has_mark_reviewed_permission(self, request, obj=None) -> bool:
        return self.has_view_permission(request) and may_reconcile(request)

    @admin.display(description="raw body")
    def raw_body(self, obj):
        return format_html("<pre>{}</pre>", obj.body)

    @admin.display(description="headers")
    def raw_headers(self, obj):
        lines = format_html_join("\n", "{}: {}", sorted(obj.headers.items()))
        return format_html("<pre>{}</pre>", lines)

    @admin.display(description="reviewed")
    def reviewed(self, obj):
        marks = obj.reviews.order_by("created_at")
        return (
            format_html_join(", ", "by {} at {}", ((m.actor_username, m.created_at) for m in marks))
            or "not yet"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {
            "title": "OPF notification",
            "may_mark_reviewed": self.has_mark_reviewed_permission(request),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        view = MarkReviewedView.as_view(model_admin=self, mark=mark_notification_reviewed)
        return [
            path("<path:object_id>/mark-reviewed/", self.admin_site.admin_view(view),
                 name=f"{app}_{model}_mark_reviewed"),
            *super().get_urls(),
        ]  # fmt: skip
