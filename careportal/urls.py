from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

handler500 = "careportal.errors.server_error"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("", include("careportal.sso.urls")),  # SSO: before the admin (its login, logout)
    # OPF notifications (issue 5) mount /opf/notifications here.
    path("admin/", admin.site.urls),
]
