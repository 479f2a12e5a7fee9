from django.contrib.admin.apps import AdminConfig
from django.core.signals import got_request_exception


class CarePortalAdminConfig(AdminConfig):
    """django.contrib.admin with the Care Portal site as `admin.site`."""

    default_site = "careportal.admin.CarePortalAdminSite"

    def ready(self):
        super().ready()
        from .errors import log_uncaught_exception

        # Every 500 gets its error id here, wherever it was raised (see careportal.errors).
        got_request_exception.connect(log_uncaught_exception, dispatch_uid="careportal.errors")
