from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

handler500 = "careportal.errors.server_error"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # SSO (issue 4) mounts its routes here.
    # OPF notifications (issue 5) mount /opf/notifications here.
    path("admin/", admin.site.urls),
]
