"""BulkJobAdmin: the list of bulk changes; "add" is the plan form, a job's page its dashboard.

Declarative like the rest of the admin; the flows are in views.py.
"""

from django.contrib import admin
from django.urls import path

from . import views
from .models import BulkJob
from .planning import PERMISSION


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "created_by_username", "source", "target_product",
                    "state", "qualifying_count", "blocked_count")  # fmt: skip
    list_display_links = ("id", "created_at")
    list_select_related = ("source_product", "target_product")
    list_filter = ("state",)
    sortable_by = ()
    list_per_page = 50
    actions = None

    @admin.display(description="source")
    def source(self, obj):
        return obj.source_product or f"CSV {obj.ids_file_name}"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(PERMISSION) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return request.user.has_perm(PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        return views.plan_view(request, self)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return views.job_view(request, object_id, self)

    def get_urls(self):
        site = self.admin_site
        return [
            path("<path:object_id>/progress/", site.admin_view(self.progress_view),
                 name="entitlements_bulkjob_progress"),
            path("<path:object_id>/control/", site.admin_view(self.control_view),
                 name="entitlements_bulkjob_control"),
            path("<path:object_id>/results.csv", site.admin_view(self.results_view),
                 name="entitlements_bulkjob_results"),
            *super().get_urls(),
        ]  # fmt: skip

    def progress_view(self, request, object_id):
        return views.progress_view(request, object_id, self)

    def control_view(self, request, object_id):
        return views.control_view(request, object_id, self)

    def results_view(self, request, object_id):
        return views.results_view(request, object_id, self)
