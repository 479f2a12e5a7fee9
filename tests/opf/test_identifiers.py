"""O13, the validation half: ids that must never reach a URL are refused before any request.

The sandbox half (what actually arrives for awkward but valid ids) is in test_change_product.py.
"""

import json

import pytest

from entitlements.opf import InvalidIdentifier, validate_identifier
from entitlements.opf.identifiers import (
    path_segment,
    validate_correlation_id,
    validate_entitlement_id,
    validate_product_id,
)


@pytest.mark.parametrize(
    "value",
    ["", ".", "..", " x", "x ", "a\nb", "a\rb", "a\x00b", "a\x7fb", "x" * 257, "\ud800", None, 12],
)
def test_unsafe_ids_are_refused(value):
    for validate in (validate_identifier, validate_entitlement_id, validate_product_id):
        with pytest.raises(InvalidIdentifier):
            validate(value)


def test_invalid_identifier_is_a_value_error():
    assert issubclass(InvalidIdentifier, ValueError)


@pytest.mark.parametrize(
    "value", ["ENT-1", "a/b", "a b", "%2F", "...", ".x", "Ünïcødé-Ω", "x" * 256, "a?b#c", "a;b"]
)
def test_awkward_but_safe_ids_pass(value):
    assert validate_entitlement_id(value) == value
    assert validate_product_id(value) == value


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("a/b", "a%2Fb"),
        ("%2F", "%252F"),
        ("a b", "a%20b"),
        ("a?b#c", "a%3Fb%23c"),
        ("é", "%C3%A9"),
        ("...", "..."),
    ],
)
def test_path_segment_encodes_everything_that_could_leave_the_segment(value, segment):
    assert path_segment(value) == segment


@pytest.mark.parametrize("value", ["", "é", "a b\n", "a\tb", "x" * 129])
def test_correlation_ids_must_be_printable_ascii(value):
    with pytest.raises(InvalidIdentifier):
        validate_correlation_id(value)


def test_a_uuid_is_a_valid_correlation_id():
    value = "4f1c2a7e-0b1d-4c55-9a3e-2b8f3c1d9e70"
    assert validate_correlation_id(value) == value


# The one rule: the import, the notification endpoint and the client refuse the same values.
ONE_RULE_REFUSES = ["\ud800", "ENT-\udfff", "ENT\x00-1", "ENT-\x1b1", "ENT\u200b-1", "a\u2028b"]


@pytest.mark.parametrize("value", [*ONE_RULE_REFUSES, " ENT-1", ".", ".."])
def test_the_import_the_notifications_and_the_client_refuse_alike(value):
    from entitlements.importing.rows import parse_entitlement
    from entitlements.notifications.payload import InvalidPayload, parse_notification

    row = {"entitlementId": value, "accountId": "A", "productId": "P_1", "status": "ACTIVE"}
    _row, problems = parse_entitlement(row)
    assert [name for name, _message in problems] == ["entitlementId"]

    body = json.dumps(
        {"eventType": "STATUS_CHANGED", "status": "ACTIVE", "entitlementId": value}
        | {"occurredAt": "2025-03-01T10:00:00Z"}
    ).encode()
    with pytest.raises(InvalidPayload) as caught:
        parse_notification(body)
    assert set(caught.value.errors) == {"entitlementId"}

    with pytest.raises(InvalidIdentifier):
        validate_entitlement_id(value)
