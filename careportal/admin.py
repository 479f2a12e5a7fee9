"""The admin site the care staff work in, branded "Care Portal"."""

from django.contrib import admin

from entitlements.dashboard import supervisor_dashboard


class CarePortalAdminSite(admin.AdminSite):
    site_header = "Care Portal"
    site_title = "Care Portal"
    index_title = "Customer care"
    site_url = None  # the portal is the admin; there is no public site to link to

    def index(self, request, extra_context=None):
        """The index; above the lists, supervisors (who may read the audit log) get their
        dashboard (templates/admin/_dashboard.html), agents only the lists. Each model admin
        may add to it too (`index_context(request)`: the entitlements' search box and the
        agent's waiting changes), each shown by its own include in templates/admin/index.html."""
        context = {}
        for model_admin in self._registry.values():
            if hasattr(model_admin, "index_context"):
                context.update(model_admin.index_context(request))
        if request.user.has_perm("entitlements.view_changeattempt"):
            context["dashboard"] = supervisor_dashboard()
        return super().index(request, {**context, **(extra_context or {})})

    def get_app_list(self, request, app_label=None):
        """The admin's list, with the names care staff use and the supervisors' extra pages.

        A model admin may set `index_name` (shown instead of the model's plural name, e.g.
        "Audit log") and `index_links(request)` (more pages of that model for this user).
        """
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            extra = []
            for entry in app["models"]:
                model_admin = self._registry.get(entry["model"])
                entry["name"] = getattr(model_admin, "index_name", None) or entry["name"]
                if hasattr(model_admin, "index_links"):
                    extra.extend(model_admin.index_links(request))
            app["models"].extend(extra)
            app["models"].sort(key=lambda entry: entry["name"])
        return app_list
