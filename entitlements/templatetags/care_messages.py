"""Templates take the sentences agents read from messages.py: `{% message "NAME" %}`."""

from django import template

from .. import messages
from ..outcomes import Outcome

register = template.Library()


@register.simple_tag
def message(name: str, **values) -> str:
    """The sentence messages.NAME, its {placeholders} filled from `values` (escaped as usual).

    A missing name fails loudly, not with an empty string.
    """
    text = getattr(messages, name)
    if not isinstance(text, str):
        raise template.TemplateSyntaxError(f"messages.{name} is not a sentence")
    return text.format(**values) if values else text


@register.simple_tag
def open_change_heading(change) -> str:
    """The heading over an entitlement's open change, by its outcome."""
    outcome = Outcome(change.outcome)
    return messages.OPEN_CHANGE_HEADINGS.get(
        outcome, messages.OPEN_CHANGE_HEADINGS[Outcome.IN_FLIGHT]
    )


@register.filter
def outcome_words(value: str) -> str:
    """An outcome code in words ("awaiting confirmation"), as the badges show it."""
    try:
        return Outcome(value).label
    except ValueError:
        return value
