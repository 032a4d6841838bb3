"""Staff forms of the calling page: issue a ticket at the counter, transfer a visitor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.offices.models import Counter, Procedure


def _limit(field: forms.Field, queryset: Any) -> None:
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


class StaffIssueForm(forms.Form):
    """A ticket for somebody without a phone: the procedure they came for."""

    procedure = forms.ModelChoiceField(
        label=_("手続き"),
        queryset=Procedure.objects.none(),
        empty_label=None,
        error_messages={
            "required": _("手続きを選んでください。"),
            "invalid_choice": _("この庁舎では扱っていない手続きです。"),
        },
    )

    def __init__(self, *args: Any, procedures: list[Procedure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(
            self.fields["procedure"], Procedure.objects.filter(pk__in=[p.pk for p in procedures])
        )


class TransferForm(forms.Form):
    """Send a visitor to another counter and/or procedure (at least one of the two)."""

    counter = forms.ModelChoiceField(
        label=_("回付先の窓口"),
        queryset=Counter.objects.none(),
        required=False,
        empty_label=_("（どの窓口でも）"),
        error_messages={"invalid_choice": _("この庁舎の窓口を選んでください。")},
    )
    procedure = forms.ModelChoiceField(
        label=_("手続き"),
        queryset=Procedure.objects.none(),
        required=False,
        empty_label=_("（変えない）"),
        error_messages={"invalid_choice": _("この庁舎では扱っていない手続きです。")},
    )

    def __init__(
        self, *args: Any, counters: list[Counter], procedures: list[Procedure], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _limit(self.fields["counter"], Counter.objects.filter(pk__in=[c.pk for c in counters]))
        _limit(
            self.fields["procedure"], Procedure.objects.filter(pk__in=[p.pk for p in procedures])
        )
