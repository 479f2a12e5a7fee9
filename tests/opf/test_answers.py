"""The mapping of OPF's answers to outcomes, and the extraction of OPF's message from a 400."""

import pytest

from entitlements.opf.answers import opf_message, outcome_for_status
from entitlements.outcomes import Outcome


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.COMPLETED),
        (202, Outcome.AWAITING_CONFIRMATION),
        (400, Outcome.REJECTED),
        (404, Outcome.NOT_FOUND),
        (201, Outcome.OUTCOME_UNKNOWN),
        (204, Outcome.OUTCOME_UNKNOWN),
        (301, Outcome.OUTCOME_UNKNOWN),
        (302, Outcome.OUTCOME_UNKNOWN),
        (307, Outcome.OUTCOME_UNKNOWN),
        (409, Outcome.OUTCOME_UNKNOWN),
        (500, Outcome.OUTCOME_UNKNOWN),
        (502, Outcome.OUTCOME_UNKNOWN),
        (503, Outcome.OUTCOME_UNKNOWN),
        (504, Outcome.OUTCOME_UNKNOWN),
    ],
)
def test_only_documented_answers_have_a_definite_outcome(status, outcome):
    assert outcome_for_status(status) is outcome


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"code": "X", "message": "Product P does not exist."}', "Product P does not exist."),
        ('{"description": "bad tier"}', "bad tier"),
        ('{"error": "invalid_request"}', "invalid_request"),
        ('{"error": {"message": "nested words"}}', "nested words"),
        ('[{"message": "first"}, {"message": "second"}]', "first"),
        ('{"message": "", "description": "fallback"}', "fallback"),
        ("plain text reason\n", "plain text reason"),
        ("", ""),
        ('{"unrelated": 1}', '{"unrelated": 1}'),
        ("<b>not json</b>", "<b>not json</b>"),
    ],
)
def test_opf_message(body, message):
    assert opf_message(body) == message


def test_opf_message_is_bounded():
    assert len(opf_message('{"message": "' + "x" * 10_000 + '"}')) == 1000
    assert len(opf_message("y" * 10_000)) == 1000


def test_deeply_nested_json_does_not_crash():
    assert opf_message("[" * 100_000 + "]" * 100_000)
