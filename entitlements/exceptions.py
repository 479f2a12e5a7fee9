"""Why a change was refused before anything was sent to OPF, or why its outcome could not be
recorded after it may have been sent; each message is for the agent."""


class ChangeRefused(Exception):
    """The change was refused before anything was sent; the message is for the agent."""


class StaleEntitlement(ChangeRefused):
    """The entitlement changed since the agent's form was opened on it."""


class ChangeInProgress(ChangeRefused):
    """Another change of the same entitlement is in flight, awaited or of unknown outcome."""


class OutcomeNotRecorded(Exception):
    """The change may have reached OPF, but not even "outcome unknown" could be recorded (the
    database is gone): the record stays in flight for reconcile_changes. Never "nothing sent"."""
