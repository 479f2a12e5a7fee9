"""The portal's models: the mirror of OPF (products, entitlements), the audit of every change,
OPF's notifications, the audit's hash chain, the dashboard's counters; bulk jobs and upkeep
records live with their code and are registered here."""

from ..bulk.models import BulkJob, BulkJobEvent, BulkJobItem, RequestSlot
from ..upkeep import RECONCILIATION, ReviewMark, Settlement, SyncCheckpoint
from .changes import AuditQuerySet, ChangeAttempt, ChangeOrigin, new_correlation_id
from .deliveries import DeliveryResult, NotificationDelivery
from .mirror import Entitlement, EntitlementStatus, Product
from .seals import ChainHead, Seal
from .stats import DailyChangeStat, StatMeasure

__all__ = [
    "AuditQuerySet",
    "BulkJob",
    "BulkJobEvent",
    "BulkJobItem",
    "ChainHead",
    "ChangeAttempt",
    "ChangeOrigin",
    "DailyChangeStat",
    "DeliveryResult",
    "Entitlement",
    "EntitlementStatus",
    "NotificationDelivery",
    "Product",
    "RECONCILIATION",
    "RequestSlot",
    "ReviewMark",
    "Seal",
    "Settlement",
    "StatMeasure",
    "SyncCheckpoint",
    "new_correlation_id",
]
