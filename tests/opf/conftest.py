"""Fixtures for the OPF client tests: a real sandbox over real HTTP on 127.0.0.1.

Nothing here mocks the client or requests; faults come from the sandbox (or from real sockets
for the cases a server cannot stage, like a closed port).
"""

import logging
import socket
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.core.cache.backends.locmem import LocMemCache

from entitlements.opf import OpfClient, OpfConfig
from entitlements.opf_sandbox.keycloak import Credentials
from entitlements.opf_sandbox.server import Sandbox

# 2 providers x 3 tiers, in OPF's own shape (product id = <providerId>_<providerResourceId>).
TIERS = (("BASIC", 1), ("STANDARD", 2), ("PREMIUM", 3))
PROVIDERS = ("Netflix_EU_B", "DisneyPlus_EU")
PRODUCTS = [
    {
        "productId": f"{provider}_BUNDLE_{tier}",
        "name": f"{provider} {tier.title()}",
        "providerId": provider,
        "providerResourceId": f"BUNDLE_{tier}",
        "tier": rank,
    }
    for provider in PROVIDERS
    for tier, rank in TIERS
]
NETFLIX_BASIC, NETFLIX_STANDARD, NETFLIX_PREMIUM = (p["productId"] for p in PRODUCTS[:3])
DISNEY_BASIC = PRODUCTS[3]["productId"]
ENTITLEMENTS = [
    {"entitlementId": "ENT-NF-1", "accountId": "ACC-1", "productId": NETFLIX_BASIC},
    {"entitlementId": "ENT-NF-2", "accountId": "ACC-2", "productId": NETFLIX_STANDARD},
    {"entitlementId": "ENT-DP-1", "accountId": "ACC-3", "productId": DISNEY_BASIC},
    {
        "entitlementId": "ENT-NF-CANCELLED",
        "accountId": "ACC-4",
        "productId": NETFLIX_BASIC,
        "status": "CANCELLED",
    },
]
# Distinctive secrets, so a test can search every log line and result for them.
CREDENTIALS = Credentials(
    client_id="opf-operator",
    username="careportal",
    password="pw-7f3a9c-never-logged",
    client_secret="cs-51be02-never-logged",
)
# Short timeouts keep fault tests fast; loopback answers in well under a millisecond.
FAST = {"connect_timeout": 0.5, "read_timeout": 0.5}


def new_cache() -> LocMemCache:
    # LocMemCache instances with the same name share storage: a fresh name is a fresh cache.
    return LocMemCache(f"opf-test-{uuid.uuid4().hex}", {})


def new_correlation_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox per test: its own port, catalogue, tokens, faults and recordings."""
    sb = Sandbox(port=0, credentials=CREDENTIALS).start()
    sb.load(products=PRODUCTS, entitlements=ENTITLEMENTS)
    yield sb
    sb.stop()


@pytest.fixture
def make_client(sandbox: Sandbox) -> Iterator[Callable[..., OpfClient]]:
    """Build clients pointing at the sandbox; keyword arguments override OpfConfig fields."""
    clients: list[OpfClient] = []

    def make(cache: object | None = None, **overrides: object) -> OpfClient:
        fields: dict[str, object] = {
            "base_url": sandbox.url,
            "token_url": sandbox.token_url,
            "token_grant": "password",
            "client_id": CREDENTIALS.client_id,
            "username": CREDENTIALS.username,
            "password": CREDENTIALS.password,
            **FAST,
        }
        fields.update(overrides)
        client = OpfClient(OpfConfig(**fields), cache if cache is not None else new_cache())
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., OpfClient]) -> OpfClient:
    """An OpfClient on the sandbox (password grant). Shadows pytest-django's `client` here."""
    return make_client()


@pytest.fixture
def opf_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog for the `entitlements.opf` loggers.

    The project's LOGGING stops `entitlements` records from propagating to the root logger,
    where caplog listens, so its handler is attached to the client's logger directly (and
    propagation stopped there, so no record is captured twice when that LOGGING is absent).
    """
    logger = logging.getLogger("entitlements.opf")
    previous = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)
    logger.setLevel(previous[0])
    logger.propagate = previous[1]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose connect never completes, for a real connect timeout.

    A listener with a full accept queue drops new SYNs on Linux, so the client's connect() waits
    until its own timeout. No traffic leaves 127.0.0.1.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    probe = socket.socket()
    probe.settimeout(0.3)
    try:
        probe.connect(("127.0.0.1", port))
    except TimeoutError:
        pass
    else:
        pytest.skip("this kernel completes connects to a listener with a full accept queue")
    finally:
        probe.close()
    yield port
    for filler in fillers:
        filler.close()
    listener.close()
