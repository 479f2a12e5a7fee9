"""SSO routes, mounted at the root before the admin's: the admin's login and logout URLs lead
through the provider. The mozilla-django-oidc route names are kept (its middleware uses them).
"""

from django.urls import path

from . import views

urlpatterns = [
    path("admin/login/", views.admin_login, name="sso_admin_login"),
    path("admin/logout/", views.SsoLogoutView.as_view(), name="sso_admin_logout"),
    path(
        "oidc/authenticate/",
        views.SsoAuthenticationRequestView.as_view(),
        name="oidc_authentication_init",
    ),
    path("oidc/callback/", views.SsoCallbackView.as_view(), name="oidc_authentication_callback"),
    path("oidc/logout/", views.SsoLogoutView.as_view(), name="oidc_logout"),
    path("sso/signed-out/", views.signed_out, name="sso_signed_out"),
    path("break-glass/login/", views.BreakGlassLoginView.as_view(), name="sso_break_glass_login"),
]
