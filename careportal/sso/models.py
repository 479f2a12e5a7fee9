from django.conf import settings
from django.db import models


class SsoIdentity(models.Model):
    """Links a portal account to its subject at the identity provider.

    Accounts are matched on the subject (`sub`) only, never on email or username: an account at
    the provider that merely shares an email with a local user never becomes that user.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity"
    )
    subject = models.CharField(max_length=255, unique=True)
    issuer = models.CharField(max_length=255, help_text="The provider that vouched for it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"

    def __str__(self) -> str:
        return f"{self.subject} ({self.user_id})"
