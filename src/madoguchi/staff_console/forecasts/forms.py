from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.offices.models import Site


class WhatIfForm(RefusesIndividualNumbers, forms.Form):
    """A manager's what-if: more counters, Saturday sessions, a temporary counter."""

    months = forms.IntegerField(label=_("期間（月）"), min_value=1, max_value=36, initial=12)
    take_up = forms.IntegerField(
        label=_("更新する人の割合（％）"), min_value=0, max_value=100, initial=90
    )
    site = forms.ModelChoiceField(
        label=_("対象の窓口"), queryset=Site.objects.none(), required=False
    )
    extra_counters = forms.IntegerField(
        label=_("窓口を増やす数（全時間帯）"), min_value=0, max_value=20, initial=0, required=False
    )
    saturday_counters = forms.IntegerField(
        label=_("土曜午前（9:00〜12:00）に開く窓口数"),
        min_value=0,
        max_value=20,
        initial=0,
        required=False,
    )
    temporary_counters = forms.IntegerField(
        label=_("臨時窓口の窓口数"), min_value=0, max_value=20, initial=0, required=False
    )
    temporary_from = forms.DateField(label=_("臨時窓口の開設週（月曜日）"), required=False)
    temporary_weeks = forms.IntegerField(
        label=_("臨時窓口の開設週数"), min_value=0, max_value=104, initial=0, required=False
    )
    temporary_hours_per_week = forms.IntegerField(
        label=_("臨時窓口の週あたり開設時間"), min_value=0, max_value=84, initial=0, required=False
    )

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]  # ModelChoiceField

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (cleaned.get("extra_counters") or cleaned.get("saturday_counters")) and not cleaned.get(
            "site"
        ):
            self.add_error("site", _("窓口を増やす場合は対象の窓口を選んでください。"))
        if cleaned.get("temporary_counters") and not (
            cleaned.get("temporary_from")
            and cleaned.get("temporary_weeks")
            and cleaned.get("temporary_hours_per_week")
        ):
            self.add_error(
                "temporary_from",
                _("臨時窓口は開設週・週数・週あたり時間をすべて入力してください。"),
            )
        return cleaned


class RegisterUploadForm(RefusesIndividualNumbers, forms.Form):
    """A small register file uploaded by a manager (large ones: `madoguchi import-register`)."""

    file = forms.FileField(
        label=_("住民台帳の抜粋（CSV または Parquet）"),
        widget=forms.FileInput(attrs={"accept": ".csv,.parquet,text/csv"}),
        error_messages={"required": _("ファイルを選んでください。")},
    )
    taken_on = forms.DateField(
        label=_("台帳の基準日（空欄なら今日）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("基準日は YYYY-MM-DD の形で入力してください。")},
    )

    def __init__(self, *args: Any, max_bytes: int, today: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.today = today

    def clean_file(self) -> Any:
        uploaded = self.cleaned_data["file"]
        if uploaded.size is not None and uploaded.size > self.max_bytes:
            raise forms.ValidationError(
                _(
                    "ファイルが大きすぎます（上限 %(max_mb)sMB）。"
                    "大きなファイルは `madoguchi import-register` で取り込んでください。"
                ),
                params={"max_mb": self.max_bytes // (1024 * 1024)},
            )
        return uploaded

    def clean_taken_on(self) -> Any:
        taken_on = self.cleaned_data.get("taken_on")
        if taken_on is not None and taken_on > self.today:
            raise forms.ValidationError(_("基準日に未来の日付は指定できません。"))
        return taken_on


class ReportExportForm(RefusesIndividualNumbers, forms.Form):
    """The municipality's signed report: which form to save it in."""

    format = forms.ChoiceField(
        label=_("形式"),
        choices=(("json", "JSON"), ("csv", "CSV")),
        initial="json",
        widget=forms.RadioSelect,
    )


class ReportUploadForm(RefusesIndividualNumbers, forms.Form):
    """Another municipality's signed report, for the roll-up."""

    file = forms.FileField(
        label=_("自治体の報告書（JSON または CSV）"),
        widget=forms.FileInput(attrs={"accept": ".json,.csv,application/json,text/csv"}),
        error_messages={"required": _("ファイルを選んでください。")},
    )


class TrustedKeyForm(RefusesIndividualNumbers, forms.Form):
    """A municipality's public key the roll-up is to trust (`forecasts.report_keys`)."""

    municipality_code = forms.CharField(
        label=_("地方公共団体コード（6桁）"),
        max_length=6,
        error_messages={"required": _("地方公共団体コードを入力してください。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    public_key = forms.CharField(
        label=_("公開鍵（base64）"),
        max_length=64,
        error_messages={"required": _("公開鍵を入力してください。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    note = forms.CharField(
        label=_("確かめた方法（任意）"),
        max_length=200,
        required=False,
    )
