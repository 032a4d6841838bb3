"""Staff forms of the calling page: issue a ticket at the counter, transfer a visitor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.offices.models import Counter, Procedure


def _limit(field: forms.Field, queryset: Any) -> None:
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


def _drawn_from(field: forms.Field, rows: list[Any]) -> None:
    """`field`'s select shows `rows` — the rows its queryset holds, in its order, as the page
    read them — instead of reading them again by id each time it is drawn (twice: for its
    options and for its `required`); what a form sent is still checked against the queryset."""
    assert isinstance(field, forms.ModelChoiceField)
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.widget.choices = [
        *empty,
        *((row.pk, field.label_from_instance(row)) for row in rows),
    ]


class StaffIssueForm(RefusesIndividualNumbers, forms.Form):
    """A ticket for somebody without a phone: the procedure they came for, and optionally the
    language the clerk chose for them (the slip's printed part and the ticket's phone page are
    in it; none — the default — leaves the page to the phone that opens it)."""

    procedure = forms.ModelChoiceField(
        label=_("手続き"),
        queryset=Procedure.objects.none(),
        empty_label=None,
        error_messages={
            "required": _("手続きを選んでください。"),
            "invalid_choice": _("この庁舎では扱っていない手続きです。"),
        },
    )

    language = forms.ChoiceField(
        label=_("ご本人の言語"),
        required=False,
        help_text=_("受付票と待ち状況のページをこの言語で表示します。"),
        error_messages={"invalid_choice": _("その言語は選べません。一覧から選んでください。")},
    )

    def __init__(self, *args: Any, procedures: list[Procedure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(
            self.fields["procedure"], Procedure.objects.filter(pk__in=[p.pk for p in procedures])
        )
        _drawn_from(self.fields["procedure"], procedures)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        # none first (chosen), then every offered language named in itself
        language.choices = [
            ("", _("指定しない（日本語、またはスマートフォンの言語）")),
            *((code, str(name)) for code, name in settings.LANGUAGES),
        ]


class TransferForm(RefusesIndividualNumbers, forms.Form):
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
        # one site's counters: by name, the model's order (site, name) without its join
        _limit(
            self.fields["counter"],
            Counter.objects.filter(pk__in=[c.pk for c in counters]).order_by("name"),
        )
        _limit(
            self.fields["procedure"], Procedure.objects.filter(pk__in=[p.pk for p in procedures])
        )
        # what the page's lists show (walkins/transfer_form.html, once per ticket): the rows
        # the fields take, as the page read them — not read again by id
        self.counters = counters
        self.procedures = procedures


MAX_REPORT_DAYS = 93
"""The statistics cover at most about three months at a time."""


class StatsForm(RefusesIndividualNumbers, forms.Form):
    """Which sites and days the queue statistics cover."""

    site = forms.TypedChoiceField(
        label=_("窓口（庁舎）"), coerce=int, required=False, empty_value=None
    )
    first = forms.DateField(
        label=_("開始日"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("開始日を 2025-06-10 の形で入力してください。")},
    )
    last = forms.DateField(
        label=_("終了日"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("終了日を 2025-06-10 の形で入力してください。")},
    )

    def __init__(self, *args: Any, sites: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["site"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("担当のすべての窓口")), *((s.pk, s.name) for s in sites)]
        field.error_messages["invalid_choice"] = _("担当の窓口から選んでください。")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if last < first:
                raise forms.ValidationError(_("終了日は開始日と同じか後の日にしてください。"))
            if (last - first).days >= MAX_REPORT_DAYS:
                raise forms.ValidationError(
                    _("期間は%(n)s日以内にしてください。") % {"n": MAX_REPORT_DAYS}
                )
        return data


class KioskForm(RefusesIndividualNumbers, forms.Form):
    """Register a tablet as the site's entrance kiosk: its name (where it stands)."""

    name = forms.CharField(
        label=_("発行機の名前（置き場所）"),
        max_length=50,
        error_messages={
            "required": _("発行機の名前を入力してください（例：正面入口）。"),
            "max_length": _("発行機の名前は50文字以内にしてください。"),
        },
    )
