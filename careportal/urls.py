from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from entitlements.views import opf_notification

handler500 = "careportal.errors.server_error"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # SSO (issue 4) mounts its routes here.
    path("opf/notifications", opf_notification, name="opf-notifications"),
    path("admin/", admin.site.urls),
]
