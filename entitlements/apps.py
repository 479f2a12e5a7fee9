from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EntitlementsConfig(AppConfig):
    name = "entitlements"
    verbose_name = "Entitlements"

    def ready(self) -> None:
        from careportal.metrics.gauges import register_source

        from .bulk.metrics import bulk_job_gauges
        from .roles import ensure_roles

        register_source(bulk_job_gauges)  # bulk job progress in /metrics

        # The roles migration creates the groups; this keeps them, with exactly their
        # permissions, after every migrate and after a test database flush.
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="entitlements.ensure_roles")
