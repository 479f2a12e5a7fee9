"""What the portal's ModelAdmins share: care staff's page names, read-only rows, large tables."""

from django.contrib import admin

from .paginators import CheckedChangeList, LookaheadChangeList, LookaheadPaginator, page_number


class NamedAdminMixin:
    """Pages titled with the names care staff use ("Audit log", "Catalogue")."""

    index_name = None  # shown in the admin index, the sidebar and the breadcrumbs
    list_title = None

    def changelist_view(self, request, extra_context=None):
        context = {"title": self.list_title, "model_label": self.index_name}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

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


class LargeTableAdminMixin:
    """Changelist settings whose cost per page does not grow with the table.

    No COUNT(*) (neither of the filtered list nor of the whole table), no "show all", no
    facet counts, no sorting by arbitrary columns (each would sort the whole table): the
    list keeps the model's index-backed ordering.
    """

    paginator = LookaheadPaginator
    show_full_result_count = False
    list_max_show_all = 0
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return self.paginator(
            queryset, per_page, orphans, allow_empty_first_page, page_number=page_number(request)
        )

    def get_changelist(self, request, **kwargs):
        return LookaheadChangeList


def may_reconcile(request) -> bool:
    """The supervisors' right to settle changes and mark what was kept for review reviewed."""
    return request.user.has_perm("entitlements.reconcile_changeattempt")
