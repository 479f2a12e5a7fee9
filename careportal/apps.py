from django.contrib.admin.apps import AdminConfig


class CarePortalAdminConfig(AdminConfig):
    """django.contrib.admin with the Care Portal site as `admin.site`."""

    default_site = "careportal.admin.CarePortalAdminSite"
