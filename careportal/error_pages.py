"""How refusals and missing pages look: inside the portal, with its header and a way back.

(careportal/errors.py logs unhandled errors and renders the 500 page.)
"""

from django.contrib import admin
from django.http import HttpResponseForbidden, HttpResponseNotFound
from django.template import loader

from entitlements.roles import CARE_AGENT, CARE_SUPERVISOR

# Which role a refused page needs, by its URL name: the supervisors' pages are the audit log's.
_SUPERVISOR_PAGES = "entitlements_changeattempt_"
_AGENT_PAGES = ("entitlements_entitlement_change_product",)


def role_needed(request) -> str:
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match else ""
    if name and name.startswith(_SUPERVISOR_PAGES):
        return CARE_SUPERVISOR
    if name in _AGENT_PAGES:
        return CARE_AGENT
    return f"{CARE_AGENT} or {CARE_SUPERVISOR}"


def _page(request, template: str, **context) -> str:
    user = getattr(request, "user", None)
    site_context = admin.site.each_context(request) if user and user.is_authenticated else {}
    return loader.render_to_string(template, {**site_context, **context}, request=request)


def permission_denied(request, exception=None):
    referer = request.headers.get("referer", "")
    back_url = referer if referer.startswith(request.build_absolute_uri("/")) else ""
    html = _page(request, "403.html", role_needed=role_needed(request), back_url=back_url)
    return HttpResponseForbidden(html)


def page_not_found(request, exception=None):
    return HttpResponseNotFound(_page(request, "404.html"))
