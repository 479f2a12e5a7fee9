"""Never a 500 from input (issue 9, item 6): every admin page answers malformed query strings
and paths with a 4xx or a normal page, as an agent and as a supervisor; so does the
notification endpoint. The known cases first, then Hypothesis throws random and hostile values
at every query parameter and path id (bounded: a few dozen examples per page)."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entitlements.models import Entitlement, Product
from tests.factories import change_attempt

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(b"hostile-input-test-key-000000001").decode()


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def records(world, agent):
    """One of each row, so every detail page has something to show."""
    change = change_attempt(outcome="outcome_unknown", user=agent)
    return {
        "entitlement": Entitlement.objects.get(opf_id="ENT-NFX-1").pk,
        "product": Product.objects.first().pk,
        "change": change.pk,
    }


def _status(client, url: str) -> int:
    return client.get(url).status_code


KNOWN = [
    ("agent", "/admin/entitlements/entitlement/?p=99999999999999999999"),
    ("agent", "/admin/entitlements/entitlement/?provider=%00"),
    ("agent", "/admin/entitlements/entitlement/?status=%00"),
    ("agent", "/admin/entitlements/entitlement/?q=ENT%00"),
    ("agent", "/admin/entitlements/product/?provider_id__exact=%00"),
    ("supervisor", "/admin/entitlements/changeattempt/?actor_username=%00"),
    ("supervisor", "/admin/entitlements/changeattempt/?created_to=9999-12-31"),
    ("supervisor", "/admin/entitlements/changeattempt/?created_from=0001-01-01"),
    ("supervisor", "/admin/entitlements/changeattempt/?outcome=%00"),
    ("supervisor", "/admin/entitlements/changeattempt/?p=-99999999999999999999"),
    ("supervisor", "/admin/entitlements/changeattempt/export/?created_to=9999-12-31"),
    ("supervisor", "/admin/entitlements/changeattempt/export/?provider=%00"),
    ("supervisor", "/admin/entitlements/changeattempt/abc/settle/"),
    ("supervisor", "/admin/entitlements/changeattempt/99999999999999999999/settle/"),
    ("agent", "/admin/entitlements/entitlement/99999999999999999999/change-product/"),
]


@pytest.mark.parametrize(("role", "url"), KNOWN)
def test_the_known_hostile_requests_get_no_5xx(request, records, role, url):
    status = _status(_client(request.getfixturevalue(role)), url)
    assert status < 500, f"{url} -> {status}"


# --- Hypothesis: random and hostile values everywhere -------------------------------------------

HOSTILE_VALUES = st.sampled_from(
    [
        "%00",
        "%ED%A0%80",
        "%FF%FE",
        "%",
        "%%",
        "%G0",
        "%2",
        "99999999999999999999",
        "-99999999999999999999",
        "-1",
        "0",
        "1e309",
        "NaN",
        "9999-12-31",
        "0001-01-01",
        "2026-02-30",
        "0000-00-00",
        "\u202e",
        "ü",
        "𝕏",
        "x" * 5000,
        "'",
        '"',
        "<script>",
        "../..",
        "/",
        "?",
        "&",
        "=",
        "+",
        " ",
        "%0A",
        "%0D",
        "yes",
        "no",
        "today",
        "7d",
    ]
)
HOSTILE_TEXT = st.one_of(
    HOSTILE_VALUES,
    HOSTILE_VALUES,  # twice: most values are the known hostile ones
    st.text(max_size=40).map(lambda s: quote(s, safe="")),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates(min_value=__import__("datetime").date(1, 1, 1)).map(str),
)  # fmt: skip

LIST_PARAMS = {
    "/admin/entitlements/entitlement/": [
        "p", "q", "provider", "product__id__exact", "status", "status__exact", "awaiting", "o",
        "e", "all", "_to_field", "_popup",
    ],
    "/admin/entitlements/changeattempt/": [
        "p", "q", "outcome", "outcome__exact", "provider", "actor_username", "created",
        "created_from", "created_to", "entitlement__id__exact", "o", "e",
    ],
    "/admin/entitlements/changeattempt/export/": [
        "q", "outcome__exact", "provider", "actor_username", "created_from", "created_to",
    ],
    "/admin/entitlements/product/": ["p", "q", "provider_id__exact", "active__exact", "o"],
    "/admin/entitlements/changeattempt/attention/": ["p"],
    "/admin/": ["p"],
}  # fmt: skip
PATH_PAGES = [
    "/admin/entitlements/entitlement/{}/change/",
    "/admin/entitlements/entitlement/{}/change-product/",
    "/admin/entitlements/entitlement/{}/history/",
    "/admin/entitlements/changeattempt/{}/change/",
    "/admin/entitlements/changeattempt/{}/settle/",
    "/admin/entitlements/product/{}/change/",
]
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def query_strings(draw, page: str):
    names = draw(st.lists(st.sampled_from(LIST_PARAMS[page]), min_size=1, max_size=3, unique=True))
    pairs = [(name, draw(HOSTILE_TEXT)) for name in names]
    if draw(st.booleans()):  # and a name the page does not know
        pairs.append((draw(HOSTILE_TEXT), draw(HOSTILE_TEXT)))
    return page + "?" + "&".join(f"{name}={value}" for name, value in pairs)


def _path(page: str, value: str) -> str:
    return page.format(value.replace("?", "%3F").replace("#", "%23") or "%20")


@pytest.mark.parametrize("role", ["agent", "supervisor"])
@pytest.mark.parametrize("page", sorted(LIST_PARAMS))
@PROPERTY
@given(data=st.data())
def test_no_admin_list_answers_a_hostile_query_string_with_a_5xx(
    request, records, role, page, data
):
    url = data.draw(query_strings(page))
    status = _status(_client(request.getfixturevalue(role)), url)
    assert status < 500, f"{role} {url} -> {status}"


@pytest.mark.parametrize("role", ["agent", "supervisor"])
@pytest.mark.parametrize("page", PATH_PAGES)
@PROPERTY
@given(value=HOSTILE_TEXT)
def test_no_admin_page_answers_a_hostile_path_id_with_a_5xx(request, records, role, page, value):
    url = _path(page, value)
    status = _status(_client(request.getfixturevalue(role)), url)
    assert status < 500, f"{role} {url} -> {status}"


def _signed(body: bytes) -> dict:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    webhook_id, timestamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "HTTP_WEBHOOK_ID": webhook_id,
        "HTTP_WEBHOOK_TIMESTAMP": timestamp,
        "HTTP_WEBHOOK_SIGNATURE": "v1," + base64.b64encode(digest).decode(),
    }


JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False), st.text(max_size=60),
    st.sampled_from(["ENT-NFX-1", "Netflix_EU_B_BUNDLE_BASIC", "ACTIVE", "SUSPENDED",
                     "PRODUCT_CHANGED_AT_PROVIDER", "STATUS_CHANGED", "CHANGE_CONFIRMED",
                     "CHANGE_DECLINED", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                     "2026-12-01T09:00:00Z", "\x00", "\ud800", "x" * 300]),
    st.lists(st.integers(), max_size=3),
)  # fmt: skip
NOTIFICATIONS = st.fixed_dictionaries(
    {},
    optional={
        name: JSON_VALUES
        for name in (
            "eventType",
            "entitlementId",
            "productId",
            "status",
            "occurredAt",
            "correlationId",
        )
    },  # fmt: skip
)


@PROPERTY
@given(payload=NOTIFICATIONS, signed=st.booleans())
def test_the_notification_endpoint_answers_hostile_deliveries_without_a_5xx(
    client, world, settings, payload, signed
):
    settings.OPF_NOTIFICATION_SECRETS = [SECRET]
    body = json.dumps(payload).encode()
    headers = _signed(body) if signed else {"HTTP_WEBHOOK_ID": "msg_x"}
    answer = client.post("/opf/notifications", body, content_type="application/json", **headers)
    assert answer.status_code < 500, (payload, answer.content)
