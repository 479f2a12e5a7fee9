"""The supervisors' settle form: what OPF shows for a change of unknown outcome, and a note."""

from django import forms

from ..models import ChangeAttempt

SETTLE_CHOICE_REQUIRED = "Choose what OPF shows for this change."


class SettleForm(forms.Form):
    """`found` says whether OPF shows the change applied; the note is checked by the service."""

    found = forms.ChoiceField(
        label="OPF shows",
        widget=forms.RadioSelect,
        error_messages={
            "required": SETTLE_CHOICE_REQUIRED,
            "invalid_choice": SETTLE_CHOICE_REQUIRED,
        },
    )
    note = forms.CharField(
        label="Note",
        required=False,
        # The browser asks for it; the service refuses a blank one with the sentence agents read.
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "required": True}),
        help_text="What you checked in OPF, and when.",
    )

    def __init__(self, *args, attempt: ChangeAttempt, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["found"].choices = [
            ("applied", f"the change applied: the entitlement is on {attempt.to_product.name}"),
            (
                "not_applied",
                f"the change not applied: the entitlement is still on {attempt.from_product.name}",
            ),
        ]

    @property
    def applied(self) -> bool:
        return self.cleaned_data["found"] == "applied"
