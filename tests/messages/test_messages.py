"""Templates read their sentences from entitlements/messages.py through the care_messages tag."""

import pytest
from django.template import Context, Template

from entitlements import messages


def render(source: str, **context) -> str:
    return Template("{% load care_messages %}" + source).render(Context(context))


def test_a_sentence_comes_from_messages_with_its_values_escaped():
    page = render('{% message "NO_OTHER_TIER" provider=p %}', p="<b>Netflix</b>")
    assert page == messages.NO_OTHER_TIER.format(provider="&lt;b&gt;Netflix&lt;/b&gt;")


def test_an_unknown_sentence_fails_loudly():
    with pytest.raises(AttributeError):
        render('{% message "NO_SUCH_SENTENCE" %}')


def test_the_unknown_outcome_heading_and_message_give_the_same_advice():
    heading = messages.OPEN_CHANGE_HEADINGS[messages.Outcome.OUTCOME_UNKNOWN]
    assert messages.DO_NOT_RESUBMIT in heading
    assert messages.DO_NOT_RESUBMIT in messages.OUTCOME_MESSAGES[messages.Outcome.OUTCOME_UNKNOWN]
