from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.offices.models import Procedure


class TakeTicketForm(RefusesIndividualNumbers, forms.Form):
    procedure = forms.ModelChoiceField(
        label="ご用件",
        queryset=Procedure.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "ご用件を選んでください。",
            "invalid_choice": _("この窓口では扱っていないご用件です。一覧から選んでください。"),
        },
    )

    def __init__(self, *args: Any, procedures: list[Procedure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["procedure"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Procedure.objects.filter(pk__in=[p.pk for p in procedures])
