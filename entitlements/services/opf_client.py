"""The portal's one OPF client, built from the settings."""

from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

from ..opf import OpfClient, OpfConfig


@lru_cache(maxsize=1)
def get_opf_client() -> OpfClient:
    """One client per process: its pooled session keeps connections to OPF alive."""
    return OpfClient(
        OpfConfig(
            base_url=settings.OPF_BASE_URL,
            token_url=settings.OPF_TOKEN_URL,
            token_grant=settings.OPF_TOKEN_GRANT,
            client_id=settings.OPF_CLIENT_ID,
            client_secret=settings.OPF_CLIENT_SECRET,
            username=settings.OPF_USERNAME,
            password=settings.OPF_PASSWORD,
            tenant_id=settings.OPF_TENANT_ID,
            # Empty: the read is not configured and the services never ask for it.
            entitlements_path=settings.OPF_ENTITLEMENTS_PATH or OpfConfig.entitlements_path,
            connect_timeout=settings.OPF_CONNECT_TIMEOUT,
            read_timeout=settings.OPF_READ_TIMEOUT,
        ),
        cache=cache,
    )


@receiver(setting_changed)
def _forget_opf_client(*, setting: str, **kwargs) -> None:
    # Tests (override_settings) point the portal at another sandbox: build a new client.
    if setting.startswith("OPF_"):
        get_opf_client.cache_clear()
