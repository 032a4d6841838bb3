"""Forms of the counter console (staff). Services decide; forms only parse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from madoguchi.reservations.forms import IdentifyForm


class PhoneBookingForm(IdentifyForm):
    """A booking taken by phone: the slot chosen from a list, then the resident's details and
    the language the resident is told in (the confirmation and the day-before reminder, mail
    and SMS: `Reservation.language`), Japanese unless the clerk chooses another."""

    slot = forms.TypedChoiceField(label=_("時間"), coerce=int, empty_value=None)
    language = forms.ChoiceField(
        label=_("ご本人の言語"),
        required=False,
        help_text=_("予約の確認と前日のお知らせ（メール・SMS）をこの言語で送ります。"),
    )

    field_order = ["slot"]

    def __init__(
        self, *args: Any, slot_choices: list[tuple[int, str]], party: int = 1, **kwargs: Any
    ) -> None:
        """`slot_choices`: the times with a free seat for each of the `party` people booked
        together (the caller and the family members added)."""
        super().__init__(*args, **kwargs)
        slot = self.fields["slot"]
        assert isinstance(slot, forms.TypedChoiceField)
        slot.choices = [("", _("選んでください")), *slot_choices]
        slot.error_messages["required"] = _("時間を選んでください。")
        if party > 1:
            slot.help_text = _("%(count)s人分の空きがある時間だけを表示しています。") % {
                "count": party
            }
            slot.error_messages["invalid_choice"] = _(
                "選んだ時間には%(count)s人分の空きがありません。ほかの時間を選んでください。"
            ) % {"count": party}
        else:
            slot.error_messages["invalid_choice"] = _(
                "選んだ時間には空きがありません。ほかの時間を選んでください。"
            )
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        # every offered language, named in itself (a language added to settings.LANGUAGES
        # is offered here without a change)
        language.choices = [(code, str(name)) for code, name in settings.LANGUAGES]
        language.initial = settings.LANGUAGE_CODE
        language.error_messages["invalid_choice"] = _(
            "その言語は選べません。一覧から選んでください。"
        )
        self.order_fields(["slot"])

    def clean_language(self) -> str:
        """The chosen language's code; Japanese when none was sent."""
        return str(self.cleaned_data.get("language") or settings.LANGUAGE_CODE)
