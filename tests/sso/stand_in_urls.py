"""TEMPORARY stand-ins for the admin pages of issue 3, until it lands on this branch.

The entitlement list and the audit log at their admin URLs, behind the permissions the admin
will require (view_entitlement; view_changeattempt, supervisors only). test_browser.py routes
through them only while `entitlements.ChangeAttempt` is not registered in the admin; once it is,
the real pages are used and this file can go.
"""

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.urls import path

from careportal.urls import urlpatterns as portal_urlpatterns


def _stand_in(title: str, permission: str):
    @staff_member_required
    @permission_required(permission, raise_exception=True)
    def view(request):
        return HttpResponse(f"<!doctype html><title>{title}</title><h1>{title} (stand-in)</h1>")

    return view


urlpatterns = [
    path(
        "admin/entitlements/entitlement/",
        _stand_in("Entitlements", "entitlements.view_entitlement"),
    ),
    path(
        "admin/entitlements/changeattempt/",
        _stand_in("Audit log", "entitlements.view_changeattempt"),
    ),
    *portal_urlpatterns,
]
