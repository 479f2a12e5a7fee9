from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from entitlements.views import opf_notification

handler403 = "careportal.error_pages.permission_denied"
handler404 = "careportal.error_pages.page_not_found"
handler500 = "careportal.errors.server_error"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("", include("careportal.sso.urls")),  # SSO: before the admin (its login, logout)
    path("opf/notifications", opf_notification, name="opf-notifications"),
    path("admin/", admin.site.urls),
]
