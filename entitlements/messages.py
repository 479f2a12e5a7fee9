"""What the portal tells a care agent, in words they can act on. Defined once, used everywhere."""

from .outcomes import Outcome

# What an agent must do about a change of unknown outcome: the flash and the heading share it.
DO_NOT_RESUBMIT = "do not resubmit, a supervisor will reconcile"

# After a change attempt, by outcome.
OUTCOME_MESSAGES: dict[Outcome, str] = {
    # Each keeps the exact words agents are trained on (the and the matrix's phrases).
    Outcome.COMPLETED: "Change completed: OPF has moved the entitlement to the new tier.",
    Outcome.AWAITING_CONFIRMATION: (
        "Change accepted, waiting for provider confirmation: the entitlement keeps its current "
        "tier until the provider confirms."
    ),
    Outcome.CONFIRMED: "The provider confirmed the change.",
    Outcome.DECLINED: "The provider declined the change; the entitlement keeps its tier.",
    Outcome.REJECTED: "Change rejected by OPF, nothing was changed. OPF's reason: {opf_message}",
    Outcome.NOT_FOUND: (
        "Change refused: entitlement not found in OPF, nothing was changed. It has been flagged "
        "for review."
    ),
    Outcome.NOT_SENT: (
        "Change not sent: OPF unreachable, nothing changed, try again in a moment. The request "
        "never reached OPF, so nothing was changed."
    ),
    Outcome.OUTCOME_UNKNOWN: (
        f"Change outcome unknown, {DO_NOT_RESUBMIT}. OPF may have received the change without "
        "giving a clear answer; it will be reconciled."
    ),
    Outcome.IN_FLIGHT: "The change is being sent to OPF.",
}
# Beside a "not sent" with an OPF status: OPF answered, so "unreachable" would contradict the
# history next to it.
NOT_SENT_REFUSED = (
    "Change not made: OPF refused the portal's sign-in (status {status}) and a fresh sign-in "
    "failed, so nothing was changed. Try again in a moment."
)
# What the agent tells the customer, by outcome (appended to the outcome message).
TELL_CUSTOMER: dict[Outcome, str] = {
    Outcome.COMPLETED: "Tell the customer: the new tier is active now.",
    Outcome.AWAITING_CONFIRMATION: (
        "Tell the customer: the provider confirms the change, usually within minutes; until "
        "then they keep their current tier."
    ),
    Outcome.CONFIRMED: "Tell the customer: the new tier is active now.",
    Outcome.DECLINED: "Tell the customer: the provider did not accept the change.",
    Outcome.REJECTED: "Tell the customer: the change could not be made; their tier is unchanged.",
    Outcome.NOT_FOUND: (
        "Tell the customer: their tier is unchanged; the portal's team will look into it."
    ),
    Outcome.NOT_SENT: "Tell the customer: their tier is unchanged; you will try again shortly.",
    Outcome.OUTCOME_UNKNOWN: (
        "Tell the customer: the change is being checked and they will hear back; do not promise "
        "the new tier yet."
    ),
}
# The database failed after the change may have reached OPF, so not even its outcome was saved.
OUTCOME_NOT_RECORDED = (
    f"Change outcome unknown, {DO_NOT_RESUBMIT}. OPF may have received the change, but the "
    "portal could not record its answer; the change shows as being sent until it is reconciled."
)
CREDENTIALS_REFUSED = (
    "OPF refused the portal's credentials, nothing was changed. Operators have been alerted; "
    "please try again later."
)

# Refusals before anything is sent.
REASON_REQUIRED = "Choose a reason for the change."
INVALID_IDENTIFIER = "This entitlement or product id cannot be sent to OPF."
STALE_ENTITLEMENT = "This entitlement changed since you opened the form, please review it."
CHANGE_IN_PROGRESS = (
    "A change for this entitlement is already in progress or awaiting confirmation."
)
STATUS_FORBIDS = "An entitlement that is {status} cannot change product."
PENDING_CHANGE = "A change to {product} is already awaiting provider confirmation."
UNKNOWN_OUTCOME = "A previous change has an unknown outcome; a supervisor must reconcile it first."
PRODUCT_UNKNOWN = "That product is not in the catalogue."
PRODUCT_INACTIVE = "That product is no longer offered."
PRODUCT_OTHER_PROVIDER = (
    "That product belongs to another provider; choose a tier of the same service."
)
PRODUCT_SAME = "That is already the current product."


def outcome_message(
    outcome: Outcome, *, opf_message: str = "", credentials_refused=False, http_status=None
) -> str:
    outcome = Outcome(outcome)
    if credentials_refused:
        text = CREDENTIALS_REFUSED
    elif outcome == Outcome.NOT_SENT and http_status:
        text = NOT_SENT_REFUSED.format(status=http_status)
    else:
        text = OUTCOME_MESSAGES[outcome].format(opf_message=opf_message or "no reason given")
    tell = TELL_CUSTOMER.get(outcome)
    return f"{text} {tell}" if tell else text


def change_message(change) -> str:
    """The message for a recorded change (a ChangeAttempt): what happened, what to tell."""
    return outcome_message(
        Outcome(change.outcome),
        opf_message=change.opf_message,
        credentials_refused=change.credentials_refused,
        http_status=change.http_status,
    )


# The entitlement page's heading over its open change, by the change's outcome.
OPEN_CHANGE_HEADINGS: dict[Outcome, str] = {
    Outcome.AWAITING_CONFIRMATION: "Change waiting for provider confirmation",
    Outcome.OUTCOME_UNKNOWN: f"Change outcome unknown: {DO_NOT_RESUBMIT}",
    Outcome.IN_FLIGHT: "Change being sent to OPF",
}
AWAITING_HEADING = OPEN_CHANGE_HEADINGS[Outcome.AWAITING_CONFIRMATION]
CHANGE_NOT_POSSIBLE = "Change product is not possible now:"
# Under the agent's own waiting change, instead of a refusal: what the page waits for.
WAITS_FOR_PROVIDER = (
    "Waiting for {provider} to confirm or decline; this page updates by itself when it answers. "
    "Another change is possible after that."
)
CONFIRMED_NOW = "The provider confirmed: the entitlement is now on {product}."
DECLINED_NOW = "The provider declined: the entitlement stays on {product}."
NEEDS_REVIEW_BADGE = "Needs review"
MADE_AT_PROVIDER = "made by the customer at the provider"
NO_CHANGES_YET = "No change attempts yet."
NEWEST_CHANGES_SHOWN = "Showing the newest {count} attempts."
NEEDS_REVIEW = (
    "Flagged for review: OPF did not know this entitlement, or a change of it is unresolved."
)

# The change-product form and its confirmation.
PRODUCT_REQUIRED = "Choose the new product."
REASON_PROMPT = "Choose a reason"
COMMENT_HELP = "Optional. Shown in the entitlement's history and the audit log."
TICKET_HELP = "The call, chat or ticket id of this customer contact."
TICKET_REQUIRED = "Give the Ticket: the call, chat or ticket id of this customer contact."
REASON_WRONG_DIRECTION = "That reason does not fit a {direction}; choose another."
NO_OTHER_TIER = "No other active tier of {provider} is in the catalogue."
NEW_PRODUCT_HELP = "Active tiers of the same service; the current one is not listed."
# The review step, by what OPF answered the last change of this provider (selectors).
PROVIDER_MAY_CONFIRM = (
    "The provider may need to confirm this change. Until it does, the entitlement stays on "
    "{product} and the change shows as waiting for provider confirmation. Tell the customer the "
    "new tier starts once the change completes."
)
PROVIDER_CONFIRMS = (
    "{provider} confirms changes itself: until it does, usually within minutes, the entitlement "
    "stays on {product}. Tell the customer the new tier starts once {provider} confirms."
)
PROVIDER_APPLIES_AT_ONCE = (
    "{provider} applies changes at once. Tell the customer the new tier is active as soon as "
    "you confirm."
)
SUBMISSION_EXPIRED = (
    "This confirmation was already used or has expired, so nothing was sent. "
    "Review the entitlement and start again if the change is still needed."
)
AUDIT_FILTERS_INVALID = "Those audit log filters are not valid."

# Supervisors settling a change of unknown outcome.
SETTLEMENT_NOTE_REQUIRED = "Say what you found in OPF: a note is required."
SETTLEMENT_NOT_UNKNOWN = "This change is no longer of unknown outcome; nothing was settled."
SETTLEMENT_FOUND_REQUIRED = "Choose what OPF shows for this change."
NOTHING_TO_SETTLE = (
    "This change is {outcome}, neither of unknown outcome nor an overdue confirmation (or it is "
    "settled already): there is nothing to settle."
)
SETTLE_ADVICE = (
    "Check the entitlement in OPF first. Settling records what you found; nothing is sent to "
    "OPF, and the entitlement can change again afterwards."
)
SETTLEMENT_NOTE_HELP = "What you checked in OPF, and when."
SETTLEMENT_FOUND = {  # the supervisor's choices, by the settle form's values
    "applied": "the change applied: the entitlement is on {to_product}",
    "not_applied": "the change not applied: the entitlement is still on {from_product}",
}
SETTLED = {
    True: "Settled: OPF shows the change applied; the entitlement is on the new tier.",
    False: "Settled: OPF shows the change not applied; the entitlement keeps its tier.",
}

# Supervisors' list of overdue confirmations and unknown outcomes.
NO_OVERDUE = "No overdue confirmations."
NO_UNKNOWN = "No changes of unknown outcome."
RECONCILE_ADVICE = (
    "Check OPF now reads OPF and settles the change when OPF's state answers; otherwise check "
    "in OPF yourself and use Settle to record what it shows. Nothing is ever resent."
)

# Refusal and error pages.
ROLE_NEEDED = "This page needs the {role} role."
ROLE_ADVICE = "If your work needs it, ask your team lead to have the role given to you."
NOT_FOUND_PAGE = "There is no such page or record. It may have been mistyped or never existed."

# Reads of OPF (issue 10): refresh, the change form's check, Check OPF now.
NEEDS_ATTENTION = "Needs attention"
NOTHING_NEEDS_ATTENTION = "Nothing needs attention."
NO_NOTIFICATIONS_FOR_REVIEW = "No OPF notifications kept for review."
NO_ENTITLEMENTS_FOR_REVIEW = "No entitlements flagged for review."
NEVER_CONFIRMED = "never (not read from OPF yet)"
REFRESHED_NO_DIFFERENCE = "Refreshed from OPF: the mirror matches OPF."
REFRESHED_DIFFERENCES = "Refreshed from OPF: {count} difference(s) applied and audited. {details}"
REFRESH_PROBLEMS = "Not applied: {problems}"
OPF_UNREAD = (
    "OPF could not be read, nothing was changed: {why}. The mirror was last confirmed by OPF "
    "{confirmed}."
)
FORM_OPF_UNREAD = (
    "OPF could not be read when this form opened ({why}); the tier shown is the mirror's, last "
    "confirmed by OPF {confirmed}. You may still go ahead: OPF applies the new tier whatever "
    "it holds now."
)
FORM_OPF_CHANGED = (
    "OPF already showed another state for this entitlement: {details} The mirror has been "
    "refreshed and this form now starts from OPF's current tier."
)
FORM_OPF_CONFIRMED = "Checked with OPF when this form opened: the current tier is OPF's."
OVERDUE_FOR_AGENT = (
    "The provider's confirmation is overdue (waiting since {since}). Supervisors have it on "
    "their Needs attention page and will settle it; nothing needs to be resent."
)
CHECKED = {
    "settled applied": "Checked OPF: it shows the new product, so the change is settled applied.",
    "settled not applied": (
        "Checked OPF: it shows the old product, so the change is settled not applied."
    ),
    "left open, escalated": "Checked OPF: its state does not settle this change ({why}).",
    "OPF could not be read, nothing changed": "OPF could not be read, nothing changed: {why}.",
    "no longer open, nothing to do": "This change is no longer open: nothing to check.",
}
MARKED_REVIEWED = "Marked reviewed."
ALREADY_REVIEWED = "This was already reviewed; nothing changed."
