"""For supervisors: awaited confirmations past the deadline, and changes of unknown outcome."""

from dataclasses import dataclass

from ... import selectors
from .base import AdminFlowView, with_reason_labels

ATTENTION_ROWS = 100  # of each list; the audit log filters show the rest


@dataclass(frozen=True)
class Newest:
    """The newest changes of a list, at most ATTENTION_ROWS, and whether there are more."""

    rows: list
    has_more: bool


def newest(queryset) -> Newest:
    rows = list(queryset.select_related("from_product", "to_product")[: ATTENTION_ROWS + 1])
    return Newest(with_reason_labels(rows[:ATTENTION_ROWS]), len(rows) > ATTENTION_ROWS)


class AttentionView(AdminFlowView):
    def has_permission(self, request) -> bool:
        return self.model_admin.has_attention_permission(request)

    def get(self, request):
        return self.render(
            "entitlements/attention.html",
            title="Overdue and outcome unknown",
            overdue=newest(selectors.overdue_changes()),
            unknown=newest(selectors.unknown_outcome_changes()),
            rows=ATTENTION_ROWS,
        )
