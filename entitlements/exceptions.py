"""Why a change was refused before anything was sent to OPF; each message is for the agent."""


class ChangeRefused(Exception):
    """The change was refused before anything was sent; the message is for the agent."""


class StaleEntitlement(ChangeRefused):
    """The entitlement changed since the agent's form was opened on it."""


class ChangeInProgress(ChangeRefused):
    """Another change of the same entitlement is in flight, awaited or of unknown outcome."""
