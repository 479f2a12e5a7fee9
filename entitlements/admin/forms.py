"""The supervisors' settle form: what OPF shows for a change of unknown outcome, and a note."""

from django import forms

from .. import messages
from ..models import ChangeAttempt


class SettleForm(forms.Form):
    """`found` says whether OPF shows the change applied; the note is checked by the service."""

    found = forms.ChoiceField(
        label="OPF shows",
        widget=forms.RadioSelect,
        error_messages={
            "required": messages.SETTLEMENT_FOUND_REQUIRED,
            "invalid_choice": messages.SETTLEMENT_FOUND_REQUIRED,
        },
    )
    note = forms.CharField(
        label="Note",
        required=False,
        # The browser asks for it; the service refuses a blank one with the sentence agents read.
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "required": True}),
        help_text=messages.SETTLEMENT_NOTE_HELP,
    )

    def __init__(self, *args, change: ChangeAttempt, **kwargs):
        super().__init__(*args, **kwargs)
        products = {"to_product": change.to_product.name, "from_product": change.from_product.name}
        self.fields["found"].choices = [
            (value, text.format(**products)) for value, text in messages.SETTLEMENT_FOUND.items()
        ]

    @property
    def applied(self) -> bool:
        return self.cleaned_data["found"] == "applied"
