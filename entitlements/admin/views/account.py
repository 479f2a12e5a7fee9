"""The customer's account at a glance, and the one search box that goes straight to it.

The account page lists every entitlement of one account (provider, tier, status, a change
waiting and since when, the newest change), the Change product / Refresh from OPF buttons of
each, and the account's changes across its entitlements, newest first: a constant number of
queries whatever the number of rows (tests/admin/test_account.py).
"""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from ... import rules, selectors
from ...models import ChangeAttempt, Entitlement
from ..links import account_url, entitlement_url, refresh_url
from ..search import account_ids_matching, entitlement_pks_matching, search_term
from .base import AdminFlowView, with_reason_labels

ACCOUNT_ENTITLEMENTS = 100  # an account holds a handful; the list shows the rest
ACCOUNT_HISTORY = 50


class AccountView(AdminFlowView):
    def has_permission(self, request) -> bool:
        return self.model_admin.has_view_permission(request)

    def get(self, request, account_id):
        rows = list(selectors.account_entitlements(account_id)[: ACCOUNT_ENTITLEMENTS + 1])
        history = list(selectors.account_history(account_id)[: ACCOUNT_HISTORY + 1])
        audit_log = self.model_admin.admin_site.get_model_admin(ChangeAttempt)
        audit_url = None
        if audit_log.has_view_permission(request):
            audit_url = reverse("admin:entitlements_changeattempt_changelist")
            audit_url += "?" + urlencode({"q": account_id})
        return self.render(
            "entitlements/account.html",
            title=f"Account {account_id}",
            account_id=account_id,
            entitlements=self.with_actions(rows[:ACCOUNT_ENTITLEMENTS]),
            entitlements_has_more=len(rows) > ACCOUNT_ENTITLEMENTS,
            entitlements_url=self.model_admin_list_url(account_id),
            history=with_reason_labels(history[:ACCOUNT_HISTORY]),
            history_has_more=len(history) > ACCOUNT_HISTORY,
            audit_url=audit_url,
        )

    def with_actions(self, entitlements: list[Entitlement]) -> list[Entitlement]:
        """Each entitlement with its page, its buttons, and why it may not change now."""
        may_change = self.model_admin.has_change_product_permission(self.request)
        open_changes = selectors.open_changes([e.pk for e in entitlements])
        for entitlement in entitlements:
            entitlement.page_url = entitlement_url(entitlement.pk)
            entitlement.open_change = open_changes.get(entitlement.pk)
            refusal = rules.change_refusal(entitlement, entitlement.open_change)
            entitlement.change_product_url = (
                reverse("admin:entitlements_entitlement_change_product", args=[entitlement.pk])
                if may_change and not refusal
                else None
            )
            entitlement.refresh_url = refresh_url(entitlement.pk)
        return entitlements

    @staticmethod
    def model_admin_list_url(account_id: str) -> str:
        return (
            reverse("admin:entitlements_entitlement_changelist")
            + "?"
            + urlencode({"q": account_id})
        )


class FindView(AdminFlowView):
    """One box for an entitlement id or an account id, whole or its beginning: straight to the
    entitlement or the account when exactly one matches, else to the filtered list."""

    def has_permission(self, request) -> bool:
        return self.model_admin.has_view_permission(request)

    def get(self, request):
        term = search_term(request.GET.get("q", ""))
        list_url = reverse("admin:entitlements_entitlement_changelist")
        if not term:
            return redirect(list_url)
        target = self.only_match(term)
        if target:
            return redirect(target)
        params = {k: v for k, v in request.GET.items() if k != "q"}
        return redirect(list_url + "?" + urlencode({**params, "q": term}))

    def only_match(self, term: str) -> str | None:
        """The page of the one entitlement or account `term` names, if it names exactly one."""
        queryset = self.model_admin.get_queryset(self.request).order_by()
        by_id = entitlement_pks_matching(queryset, term, limit=2)
        accounts = account_ids_matching(queryset, term, limit=2)
        if len(by_id) + len(accounts) != 1:
            return None
        return entitlement_url(by_id[0]) if by_id else account_url(accounts[0])
