"""The supervisors' plan form: source product or a CSV of ids, target, reason, comment."""

from django import forms
from django.conf import settings

from ..models import Product
from .planning import IDS_COLUMN, PlanRefused, PlanRequest, read_ids

MAX_CSV_BYTES = 5 * 1024 * 1024  # ~200,000 ids


class PlanForm(forms.Form):
    source_product = forms.ModelChoiceField(
        Product.objects.order_by("provider_id", "tier", "opf_id"),
        required=False,
        help_text="Every entitlement on this product; or leave empty and upload ids.",
    )
    ids_file = forms.FileField(
        label="CSV of entitlement ids",
        required=False,
        help_text=f"One entitlement id per line, or a column named {IDS_COLUMN}.",
    )
    target_product = forms.ModelChoiceField(
        Product.objects.filter(active=True).order_by("provider_id", "tier", "opf_id"),
        help_text="A tier of the same provider.",
    )
    reason = forms.ChoiceField(choices=())
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    first_batch = forms.IntegerField(
        min_value=1, initial=10, help_text="These run first; the job then pauses for review."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "---------"), *settings.CHANGE_REASONS]

    def clean_ids_file(self):
        upload = self.cleaned_data.get("ids_file")
        if upload is None:
            return None
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError("The CSV is larger than 5 MB; split it.")
        try:
            return read_ids(upload.read())
        except (PlanRefused, UnicodeDecodeError) as exc:
            raise forms.ValidationError(str(exc) or "The CSV is not UTF-8 text.") from exc

    def clean(self):
        data = super().clean()
        if not data.get("source_product") and not data.get("ids_file") and not self.errors:
            raise forms.ValidationError("Choose a source product or upload a CSV of ids.")
        return data

    def plan_request(self, user) -> PlanRequest:
        data = self.cleaned_data
        upload = self.files.get("ids_file")
        return PlanRequest(
            user=user,
            source_product=data["source_product"],
            target_product=data["target_product"],
            reason_code=data["reason"],
            comment=data["comment"],
            ids=data.get("ids_file"),
            ids_file_name=upload.name if upload else "",
            first_batch=data["first_batch"],
        )
