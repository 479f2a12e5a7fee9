"""The admin's bigger flows as class-based views, each mounted by its ModelAdmin's get_urls()."""

from .account import AccountView, FindView
from .actions import CheckOpfView, MarkReviewedView, RefreshAccountView, RefreshView
from .attention import AttentionView
from .base import with_reason_labels
from .change_product import ChangeProductView
from .export import AuditExportView
from .settle import SettleView
from .status import EntitlementStatusView

__all__ = [
    "AccountView",
    "AttentionView",
    "AuditExportView",
    "ChangeProductView",
    "CheckOpfView",
    "EntitlementStatusView",
    "FindView",
    "MarkReviewedView",
    "RefreshAccountView",
    "RefreshView",
    "SettleView",
    "with_reason_labels",
]
