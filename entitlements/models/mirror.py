"""The mirror of OPF: the product catalogue and the entitlements, as OPF last told us."""

from django.db import models
from django.db.models import Q


class Product(models.Model):
    """An OPF third-party product: one tier of one provider's service."""

    opf_id = models.CharField(
        "OPF product id", max_length=200, unique=True, help_text="<providerId>_<providerResourceId>"
    )
    provider_id = models.CharField("provider id", max_length=100)
    # What care staff call the provider ("Netflix"), from the catalogue's optional
    # `providerName`; empty means the id is all there is.
    provider_name = models.CharField("provider", max_length=200, blank=True)
    provider_resource_id = models.CharField("provider resource id", max_length=100)
    name = models.CharField(max_length=200)
    # Rank inside the provider: a higher tier is an upgrade.
    tier = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["provider_id", "tier", "opf_id"]
        indexes = [models.Index(fields=["provider_id", "tier"], name="product_provider_tier")]

    def __str__(self) -> str:
        return f"{self.name} ({self.opf_id})"

    @property
    def provider_label(self) -> str:
        """The provider as care staff read it: its display name, else its OPF id."""
        return self.provider_name or self.provider_id


class EntitlementStatus(models.TextChoices):
    # The statuses OPF names for third-party entitlements.
    SUBSCRIBED = "SUBSCRIBED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    SUSPENDED = "SUSPENDED"
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    ACTIVE_ENDING = "ACTIVE-ENDING"
    CANCELLED = "CANCELLED"
    REVOKED = "REVOKED"


class Entitlement(models.Model):
    """A customer's third-party entitlement as OPF knows it."""

    opf_id = models.CharField("entitlement id", max_length=200, unique=True)
    account_id = models.CharField("account id", max_length=100, db_index=True)
    # Tiers of one service share the provider, and a change never leaves it: stored here so
    # the list can filter by provider without a join.
    provider_id = models.CharField("provider", max_length=100, db_index=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=EntitlementStatus.choices, db_index=True)
    pending_product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    pending_since = models.DateTimeField(null=True, blank=True)
    needs_review = models.BooleanField("needs review", default=False)
    # Bumped on every change to the mirror: a form opened on an older version is stale.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When OPF says the product / the status last changed: the occurredAt of the newest
    # notification applied, or for the product the time OPF answered a change the portal
    # completed. A notification older than that is ignored (stale), whenever it arrives.
    product_reported_at = models.DateTimeField(null=True, blank=True, editable=False)
    status_reported_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When a read of OPF last showed it (refresh, sync, reconciliation), different or not.
    confirmed_by_opf_at = models.DateTimeField("last confirmed by OPF", null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("change_entitlement_product", "Can change the product of an entitlement")]
        indexes = [
            models.Index(
                fields=["pending_since"],
                name="entitlement_pending",
                condition=Q(pending_product__isnull=False),
            ),
            models.Index(  # the few flagged for review, listed on "Needs attention"
                fields=["id"], name="entitlement_review", condition=Q(needs_review=True)
            ),
        ]

    def __str__(self) -> str:
        return self.opf_id
