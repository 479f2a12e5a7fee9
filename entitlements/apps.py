from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EntitlementsConfig(AppConfig):
    name = "entitlements"
    verbose_name = "Entitlements"

    def ready(self) -> None:
        from .roles import ensure_roles

        # The roles migration creates the groups; this keeps them, with exactly their
        # permissions, after every migrate and after a test database flush.
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="entitlements.ensure_roles")
