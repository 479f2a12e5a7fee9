"""The change-product form care agents fill in."""

from django import forms
from django.conf import settings

from . import messages, rules, selectors
from .models import Entitlement, Product


def tier_direction(product: Product, current: Product) -> str:
    if product.tier > current.tier:
        return "upgrade"
    if product.tier < current.tier:
        return "downgrade"
    return "same tier"


def product_choice_label(product: Product, current: Product) -> str:
    """e.g. "Netflix Premium (upgrade)"."""
    return f"{product.name} ({tier_direction(product, current)})"


def reason_label(code: str) -> str:
    return dict(settings.CHANGE_REASONS).get(code, code)


class ChangeProductForm(forms.Form):
    """New product, reason and comment for one entitlement, plus the version it was opened on.

    The offered products are the entitlement's allowed tiers. A product posted by hand is still
    looked up, so the refusal names why it is not allowed (other provider, current, inactive).
    """

    new_product = forms.CharField(label="New product", widget=forms.RadioSelect)
    reason = forms.ChoiceField(label="Reason")
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
        self.fields["new_product"].widget.choices = [
            (str(p.pk), product_choice_label(p, current)) for p in self.allowed
        ]
        self.fields["new_product"].error_messages["required"] = messages.PRODUCT_REQUIRED
        self.fields["reason"].choices = [("", messages.REASON_PROMPT)] + list(
            settings.CHANGE_REASONS
        )
        self.fields["reason"].error_messages["required"] = messages.REASON_REQUIRED

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

    @property
    def direction(self) -> str:
        return tier_direction(self.cleaned_data["new_product"], self.entitlement.product)
