from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
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

    def show_waits(self, waits: dict[int, int] | None) -> None:
        """`waits`: per procedure id, the wait of somebody taking a ticket for it now, shown
        beside each choice (only the counters that take a procedure count for it) — given when
        the form is drawn: a ticket taken is issued without reading the queue for them."""
        if not waits:
            return
        field = self.fields["procedure"]
        assert isinstance(field, forms.ModelChoiceField)

        def label(procedure: Procedure) -> str:
            if procedure.pk not in waits:
                return procedure.localized("name")
            return gettext("%(procedure)s（待ち時間の目安：約%(minutes)s分）") % {
                "procedure": procedure.localized("name"),
                "minutes": waits[procedure.pk],
            }

        field.label_from_instance = label  # type: ignore[method-assign,assignment]
