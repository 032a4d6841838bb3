"""Forms of the counter console (staff). Services decide; forms only parse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.reservations.forms import IdentifyForm


class PhoneBookingForm(IdentifyForm):
    """A booking taken by phone: the slot chosen from a list, then the resident's details."""

    slot = forms.TypedChoiceField(label=_("時間"), coerce=int, empty_value=None)

    field_order = ["slot"]

    def __init__(self, *args: Any, slot_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slot = self.fields["slot"]
        assert isinstance(slot, forms.TypedChoiceField)
        slot.choices = [("", _("選んでください")), *slot_choices]
        slot.error_messages["required"] = _("時間を選んでください。")
        self.order_fields(["slot"])
