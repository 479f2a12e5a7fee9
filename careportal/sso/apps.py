from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "careportal.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from . import discovery  # noqa: F401  (resets the discovery cache on setting changes)
