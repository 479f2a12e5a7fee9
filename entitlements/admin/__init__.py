"""The Care Portal admin: find entitlements, change their product, review the audit log.

One module per ModelAdmin (products, entitlements, audit_log), declarative on purpose; what they
share in mixins.py; filters, search and paging for the large tables in filters.py, search.py and
paginators.py; the bigger flows (change product, settle, export, the attention list) as
class-based views in views/, mounted through each ModelAdmin's get_urls() and
`admin_site.admin_view`. Who may use a flow is the ModelAdmin's `has_<name>_permission` hook.
"""

from ..bulk.admin import BulkJobAdmin  # bulk tier migration (issue 12): lives with its code
from .audit_log import AuditLogAdmin
from .entitlements import EntitlementAdmin
from .notifications import NotificationAdmin
from .products import ProductAdmin

__all__ = ["AuditLogAdmin", "BulkJobAdmin", "EntitlementAdmin", "NotificationAdmin", "ProductAdmin"]
