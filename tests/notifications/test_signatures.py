"""Standard Webhooks verification, without HTTP (the endpoint tests cover it over HTTP)."""

import pytest

from entitlements.notifications.signatures import (
    InvalidSignature,
    decode_secret,
    decode_secrets,
    sign,
    verify,
)

from .conftest import OLD_SECRET, OTHER_SECRET, SECRET, signature

# The test vector published with the Standard Webhooks reference implementations.
VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "webhook_id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
NOW = 1_750_000_000


def check(body=b"{}", *, webhook_id="msg_1", timestamp=NOW, sig=None, keys=None, now=NOW):
    sig = signature(body, webhook_id=webhook_id, timestamp=timestamp) if sig is None else sig
    return verify(
        keys=decode_secrets([SECRET, OLD_SECRET]) if keys is None else keys,
        webhook_id=webhook_id,
        timestamp=str(timestamp),
        signature=sig,
        body=body,
        tolerance=300,
        now=now,
    )


def test_the_published_test_vector_signs_and_verifies():
    v = VECTOR
    assert (
        sign(
            secret=v["secret"], webhook_id=v["webhook_id"], timestamp=v["timestamp"], body=v["body"]
        )
        == v["signature"]
    )
    assert (
        verify(
            keys=decode_secrets([v["secret"]]),
            webhook_id=v["webhook_id"],
            timestamp=str(v["timestamp"]),
            signature=v["signature"],
            body=v["body"],
            tolerance=300,
            now=v["timestamp"] + 10,
        )
        == v["timestamp"]
    )


def test_either_configured_secret_verifies_during_a_rotation():
    assert check() == NOW
    body = b'{"a": 1}'
    old = signature(body, webhook_id="msg_1", timestamp=NOW, secret=OLD_SECRET)
    assert check(body, sig=old) == NOW
    with pytest.raises(InvalidSignature):
        check(body, sig=signature(body, webhook_id="msg_1", timestamp=NOW, secret=OTHER_SECRET))


def test_one_matching_entry_among_several_is_enough_and_other_versions_are_ignored():
    good = signature(b"{}", webhook_id="msg_1", timestamp=NOW)
    assert check(sig=f"v1a,c29tZXRoaW5n v1,bm9wZQ== {good}") == NOW


@pytest.mark.parametrize("skew", [-301, 301, -10_000_000])
def test_a_timestamp_outside_the_window_either_way_is_refused(skew):
    with pytest.raises(InvalidSignature, match="tolerance"):
        check(timestamp=NOW + skew)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_a_timestamp_inside_the_window_is_accepted(skew):
    assert check(timestamp=NOW + skew) == NOW + skew


def test_the_signature_covers_id_timestamp_and_body():
    good = signature(b'{"a": 1}', webhook_id="msg_1", timestamp=NOW)
    with pytest.raises(InvalidSignature):
        check(b'{"a": 2}', sig=good)
    with pytest.raises(InvalidSignature):
        check(b'{"a": 1}', webhook_id="msg_2", sig=good)
    with pytest.raises(InvalidSignature):
        verify(
            keys=decode_secrets([SECRET]),
            webhook_id="msg_1",
            timestamp=str(NOW + 1),
            signature=good,
            body=b'{"a": 1}',
            tolerance=300,
            now=NOW,
        )


@pytest.mark.parametrize(
    "webhook_id, timestamp, sig",
    [
        (None, str(NOW), "v1,AAAA"),
        ("msg_1", None, "v1,AAAA"),
        ("msg_1", str(NOW), None),
        ("", str(NOW), "v1,AAAA"),
        ("msg 1", str(NOW), "v1,AAAA"),
        ("x" * 201, str(NOW), "v1,AAAA"),
        ("msg_\u00e9", str(NOW), "v1,AAAA"),
        ("msg_1", "-1", "v1,AAAA"),
        ("msg_1", "1.5", "v1,AAAA"),
        ("msg_1", "12345678901234", "v1,AAAA"),
        ("msg_1", str(NOW), "AAAA"),
        ("msg_1", str(NOW), "v2,AAAA"),
        ("msg_1", str(NOW), "v1,not base64!"),
        ("msg_1", str(NOW), " ".join(["v1,AAAA"] * 9)),
        ("msg_1", str(NOW), "v1," + "A" * 3000),
        ("msg_1", str(NOW), "v1,\u00e9\u00e9"),
    ],
)
def test_malformed_headers_are_refused_without_an_error(webhook_id, timestamp, sig):
    with pytest.raises(InvalidSignature):
        verify(
            keys=decode_secrets([SECRET]),
            webhook_id=webhook_id,
            timestamp=timestamp,
            signature=sig,
            body=b"{}",
            tolerance=300,
            now=NOW,
        )


@pytest.mark.parametrize(
    "secret", ["", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64", "whsec_c2hvcnQ="]
)
def test_a_secret_must_be_whsec_base64_of_enough_bytes(secret):
    with pytest.raises(ValueError):
        decode_secret(secret)
