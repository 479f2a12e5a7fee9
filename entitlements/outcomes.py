"""The words the UI, the audit log and the code share for the outcome of one change attempt.

Plain Python (no Django) so the OPF client can return them without importing the ORM.
"""

from enum import StrEnum


class Outcome(StrEnum):
    # Recorded before OPF is called; a record left here means the process died mid-call.
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"  # OPF answered 200
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # OPF answered 202
    CONFIRMED = "confirmed"  # the provider confirmed an awaited change
    DECLINED = "declined"  # the provider declined an awaited change
    REJECTED = "rejected"  # OPF answered 400 (or refused our credentials twice)
    NOT_FOUND = "not_found"  # OPF answered 404
    NOT_SENT = "not_sent"  # failed before the request could reach OPF
    OUTCOME_UNKNOWN = "outcome_unknown"  # may have reached OPF, no clear answer

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


# Outcomes after which the record is final: the database refuses to update it any more.
FINISHED = frozenset(
    {
        Outcome.COMPLETED,
        Outcome.CONFIRMED,
        Outcome.DECLINED,
        Outcome.REJECTED,
        Outcome.NOT_FOUND,
        Outcome.NOT_SENT,
    }
)

# Changes that are still under way.
OPEN = frozenset({Outcome.IN_FLIGHT, Outcome.AWAITING_CONFIRMATION})

# A change in one of these blocks any other change on the same entitlement: an unknown outcome
# too, since a new attempt could repeat a change OPF already made.
BLOCKING = OPEN | {Outcome.OUTCOME_UNKNOWN}

# A change OPF never answered clearly, or whose confirmation never came, can be settled (by a
# supervisor, or by reconciliation from OPF's state): its outcome stays, the settlement is kept
# beside it.
SETTLEABLE = frozenset({Outcome.OUTCOME_UNKNOWN, Outcome.AWAITING_CONFIRMATION})
