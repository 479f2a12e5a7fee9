"""The change-product form care agents fill in."""

from django import forms
from django.conf import settings

from . import messages, rules, selectors
from .models import Entitlement, Product
from .rules import tier_direction


def product_choice_label(product: Product, current: Product) -> str:
    """e.g. "Netflix Premium (upgrade)"."""
    return f"{product.name} ({tier_direction(product, current)})"


def reason_label(code: str) -> str:
    return dict(settings.CHANGE_REASONS).get(code, code)


class _DirectionTagged:
    """A choice widget whose options carry `data-direction`, so change-reasons.js offers
    only the reasons that fit the chosen tier (the form refuses the others anyway)."""

    directions: dict[str, str] = {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        direction = self.directions.get(str(value))
        if direction:
            option["attrs"]["data-direction"] = direction
        return option


class ProductRadios(_DirectionTagged, forms.RadioSelect):
    pass


class ReasonSelect(_DirectionTagged, forms.Select):
    pass


class ChangeProductForm(forms.Form):
    """New product, reason, ticket and comment for one entitlement, plus its version.

    The offered products are the entitlement's allowed tiers. A product posted by hand is still
    looked up, so the refusal names why it is not allowed (other provider, current, inactive).
    A reason tied to a direction is refused for a change the other way.
    """

    new_product = forms.CharField(label="New product", widget=ProductRadios)
    reason = forms.ChoiceField(label="Reason", widget=ReasonSelect)
    ticket = forms.CharField(
        label="Ticket", required=False, max_length=100, help_text=messages.TICKET_HELP
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=2000,
        # Stored as typed: the audit keeps what the agent wrote.
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=messages.COMMENT_HELP,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, entitlement: Entitlement, **kwargs):
        super().__init__(*args, **kwargs)
        self.entitlement = entitlement
        current = entitlement.product
        self.allowed = list(selectors.allowed_products(entitlement))
        products = self.fields["new_product"].widget
        products.choices = [(str(p.pk), product_choice_label(p, current)) for p in self.allowed]
        products.directions = {str(p.pk): tier_direction(p, current) for p in self.allowed}
        self.fields["new_product"].error_messages["required"] = messages.PRODUCT_REQUIRED
        self.fields["reason"].choices = [("", messages.REASON_PROMPT)] + list(
            settings.CHANGE_REASONS
        )
        self.fields["reason"].widget.directions = dict(settings.CHANGE_REASON_DIRECTIONS)
        self.fields["reason"].error_messages["required"] = messages.REASON_REQUIRED
        self.fields["ticket"].required = settings.CHANGE_TICKET_REQUIRED
        self.fields["ticket"].error_messages["required"] = messages.TICKET_REQUIRED

    def clean_new_product(self) -> Product:
        raw = self.cleaned_data["new_product"]
        product = next((p for p in self.allowed if str(p.pk) == raw), None)
        if product is None:
            is_id = raw.isascii() and raw.isdigit() and len(raw) < 19  # fits a bigint
            product = Product.objects.filter(pk=int(raw)).first() if is_id else None
            # Allowed products are offered above; one posted by hand is refused with the reason.
            raise forms.ValidationError(
                rules.product_refusal(self.entitlement, product) or messages.PRODUCT_UNKNOWN
            )
        return product

    def clean(self):
        data = super().clean()
        product, reason = data.get("new_product"), data.get("reason")
        if product and reason:
            refusal = rules.reason_refusal(reason, self.entitlement.product, product)
            if refusal:
                self.add_error("reason", refusal)
        return data

    @property
    def direction(self) -> str:
        return tier_direction(self.cleaned_data["new_product"], self.entitlement.product)
