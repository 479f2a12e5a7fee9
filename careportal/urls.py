from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from careportal.health import readyz
from careportal.metrics.views import metrics
from entitlements.views import opf_notification

handler403 = "careportal.error_pages.permission_denied"
handler404 = "careportal.error_pages.page_not_found"
handler500 = "careportal.errors.server_error"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("", include("careportal.sso.urls")),  # SSO: before the admin (its login, logout)
    path("opf/notifications", opf_notification, name="opf-notifications"),
    # For load balancers and Prometheus: no sign-in, plain HTTP allowed (SECURE_REDIRECT_EXEMPT).
    # GET /healthz is answered by careportal.health.HealthzMiddleware, before everything else.
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
]
