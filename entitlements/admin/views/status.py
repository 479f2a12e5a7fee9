"""A tiny JSON status of one entitlement, polled by waiting-change.js while a change waits.

One read by primary key: the page compares the product with the one it waits for, so it can
say "confirmed" or "declined" without a reload.
"""

from django.contrib.admin.utils import unquote
from django.http import Http404, JsonResponse

from ... import selectors
from .base import AdminFlowView


class EntitlementStatusView(AdminFlowView):
    def has_permission(self, request) -> bool:
        return self.model_admin.has_view_permission(request)

    def get(self, request, object_id):
        pk = unquote(object_id)
        state = selectors.entitlement_state(int(pk)) if pk.isdigit() else None
        if state is None:
            raise Http404("No such entitlement.")
        response = JsonResponse(
            {
                "version": state["version"],
                "product_id": state["product_id"],
                "product": state["product__name"],
                "waiting": state["pending_product_id"] is not None,
            }
        )
        response["Cache-Control"] = "no-store"
        return response
