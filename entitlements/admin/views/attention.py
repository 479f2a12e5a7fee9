"""Needs attention: everything that waits for a supervisor, each row with its next action.

Changes of unknown outcome and overdue confirmations (Check OPF now, Settle), OPF notifications
kept for review and entitlements flagged for review (Mark reviewed). Each list is read through
its index (the open-change partial index, needs_review's indexes), newest first, at most
ATTENTION_ROWS rows: a constant number of queries whatever the tables hold.
"""

from dataclasses import dataclass

from ... import messages, selectors
from .base import AdminFlowView

ATTENTION_ROWS = 100  # of each list; the audit log filters show the rest


@dataclass(frozen=True)
class Newest:
    """The newest rows of a list, at most ATTENTION_ROWS, and whether there are more."""

    rows: list
    has_more: bool


def newest(queryset) -> Newest:
    rows = list(queryset[: ATTENTION_ROWS + 1])
    return Newest(rows[:ATTENTION_ROWS], len(rows) > ATTENTION_ROWS)


class AttentionView(AdminFlowView):
    def has_permission(self, request) -> bool:
        return self.model_admin.has_attention_permission(request)

    def get(self, request):
        sections = {
            "unknown": newest(selectors.unknown_outcome_changes()),
            "overdue": newest(selectors.overdue_changes()),
            "notifications": newest(selectors.notifications_for_review()),
            "flagged": newest(selectors.entitlements_for_review()),
        }
        return self.render(
            "entitlements/attention.html",
            title=messages.NEEDS_ATTENTION,
            **sections,
            nothing=not any(section.rows for section in sections.values()),
            rows=ATTENTION_ROWS,
            may_settle=self.model_admin.has_settle_permission(request),
            here=request.get_full_path(),
        )
