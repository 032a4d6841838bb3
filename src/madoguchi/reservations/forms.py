"""Booking forms shared by every interface that books for a resident (the residents' pages, the
counter's phone bookings): they parse and check input shape; services decide.

Messages are Japanese and say what to do. Normalisation of full-width digits and kana variants is
the services' job; the forms only refuse what can never be right (a date that does not exist, a
notice number of the wrong shape), so the resident hears about it next to the field.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.forms.widgets import SelectDateWidget
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from madoguchi.core import clock
from madoguchi.core.dates import year_with_wareki
from madoguchi.core.errors import DomainError
from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.core.validators import validate_no_individual_number
from madoguchi.issuance.numbers import normalize_notice_number as normalize_notice_number_or_blank
from madoguchi.offices.models import ProcedureCode
from madoguchi.reservations import services
from madoguchi.reservations.normalize import (
    normalize_kana,
    normalize_mobile,
    normalize_notice_number,
    normalize_phone,
    normalize_reservation_code,
)

OLDEST_AGE_YEARS = 120
EMAIL_MAX_LENGTH = 254
"""What `Reservation.email` stores (Django's form field would let 320 characters through)."""

TOO_LONG = _("%(field)sは%(limit)s文字以内で入力してください（%(count)s文字入力されています）。")


class _TooLong:
    """A field's maximum length, refused with a message that names the field, the limit and
    the length typed (Django's own names neither the field nor, on the page, where it is)."""

    def __init__(self, field: forms.Field, limit: int) -> None:
        self.field = field
        self.limit = limit

    def __call__(self, value: Any) -> None:
        count = len(value)
        if count > self.limit:
            raise ValidationError(
                TOO_LONG,
                code="max_length",
                params={"field": str(self.field.label), "limit": self.limit, "count": count},
            )


class _WithinLimit:
    """Another check of the field, run only on a value of an allowed length: an over-long
    value gets the one message saying so, not a second one about its shape."""

    def __init__(self, check: Any, limit: int) -> None:
        self.check = check
        self.limit = limit

    def __call__(self, value: Any) -> None:
        if len(value) <= self.limit:
            self.check(value)


class NamesLengthLimits(RefusesIndividualNumbers):
    """Mixin for the residents' forms: every field with a maximum length refuses a longer
    value with `TOO_LONG` — in the page's language, naming the field (its label, read when
    the value is refused) and the limit — and with nothing else.

    Not Django's `error_messages["max_length"]`: the MaxLengthValidator's params are the limit
    and the length (`limit_value`, `show_value`), not the field, so the message would have to
    be built per field with the label spliced in ahead of Django's own interpolation; and a
    field runs every validator, so an over-long e-mail address would still get the shape's
    message too — the `_WithinLimit` wrapping would stay either way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            limit = getattr(field, "max_length", None)
            if limit is None:
                continue
            others = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
            field.validators = [
                _TooLong(field, int(limit)),
                *(_WithinLimit(check, int(limit)) for check in others),
            ]


def _normalised(normalise: Callable[[str], str], value: str) -> str:
    """`value` through a reservations normaliser; its DomainError becomes a field error."""
    try:
        return normalise(value)
    except DomainError as error:
        raise forms.ValidationError(error.message, code=error.code) from error


class BirthDateWidget(SelectDateWidget):
    """Year, month and day as three selects: the easiest birth-date input on a phone, no JS.

    Always year → month → day (the Japanese order, whatever the interface language), each
    select with its own visible label (年・月・日).
    """

    template_name = "reservations/widgets/birth_date.html"

    @staticmethod
    def _parse_date_fmt() -> Any:
        return iter(("year", "month", "day"))

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            attrs=attrs,
            # lazy: the page's language, not the one the form class was defined in
            empty_label=cast(tuple[str, ...], (_("年を選ぶ"), _("月を選ぶ"), _("日を選ぶ"))),
        )
        self._follow_the_year()

    def _follow_the_year(self) -> None:
        """This year back to the oldest age, from the clock at each rendering: the widget is
        made once with its form class, and a server running over New Year must still offer
        the new year (a newborn's first card)."""
        this_year = self.this_year = clock.today().year
        self.years = range(this_year, this_year - OLDEST_AGE_YEARS - 1, -1)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        """Every select starts with its empty choice, also on a required field (Django leaves
        it out there, so an untouched form sent this year's 1 January as a birth date), and
        each year carries its 和暦 (「1985年（昭和60年）」)."""
        self._follow_the_year()
        required, self.is_required = self.is_required, False
        try:
            context: dict[str, Any] = super().get_context(name, value, attrs)
        finally:
            self.is_required = required
        pattern = str(_("%(year)s年（%(eras)s）"))
        year_select = context["widget"]["subwidgets"][0]
        for _group, options, _index in year_select["optgroups"]:
            for option in options:
                if option["value"] not in ("", None):
                    option["label"] = year_with_wareki(int(option["value"]), pattern=pattern)
        return context

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        """The same selects for the same name, attributes, value and language: ~160 options
        rendered one template each cost the booking form most of its time (20–60 ms), so the
        HTML is kept per process (bounded)."""
        self._follow_the_year()
        key = repr((name, value, attrs, self.attrs, self.this_year, get_language()))
        html = _rendered_birth_dates.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(_rendered_birth_dates) >= 2_000:
                _rendered_birth_dates.clear()
            _rendered_birth_dates[key] = html
        return html


_rendered_birth_dates: dict[str, SafeString] = {}


class BirthDateField(forms.DateField):
    """A birth date from three selects, refusing impossible and future dates."""

    widget = BirthDateWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("生年月日"))
        kwargs.setdefault(
            "error_messages",
            {
                "required": _("生年月日の年・月・日をすべて選んでください。"),
                "invalid": _("生年月日が正しくありません。存在する日付を選んでください。"),
            },
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        """A date with a select left empty (the widget sends `1985-0-0`) is asked for again as
        missing, not called impossible."""
        if isinstance(value, str) and any(part in ("", "0") for part in value.split("-")):
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return super().to_python(value)

    def validate(self, value: dt.date | None) -> None:
        super().validate(value)
        if value is not None and value > clock.today():
            raise forms.ValidationError(_("生年月日に未来の日付は選べません。"), code="future")


class IdentifyForm(NamesLengthLimits, RefusesIndividualNumbers, forms.Form):
    """Who is coming: what each procedure needs to identify the resident (docs/contract.md)."""

    notice_number = forms.CharField(
        label=_("交付通知書番号"),
        max_length=40,
        required=False,
        help_text=_("交付通知書に印刷された9桁の番号です（英数字3桁＋数字6桁、例：ABC123456）。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    family_name_kana = forms.CharField(
        label=_("氏（フリガナ）"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    given_name_kana = forms.CharField(
        label=_("名（フリガナ）"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    birth_date = BirthDateField()
    email = forms.EmailField(
        label=_("メールアドレス"),
        max_length=EMAIL_MAX_LENGTH,
        required=False,
        help_text=_("予約の確認メールと前日のお知らせをお送りします。"),
        error_messages={
            "invalid": _("メールアドレスの形が正しくありません（例：taro@example.jp）。")
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("電話番号"),
        max_length=20,
        required=False,
        help_text=_("ハイフンはあってもなくてもかまいません。"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    is_proxy = forms.BooleanField(label=_("代理人が来庁します"), required=False)

    def __init__(self, *args: Any, procedure: Any, site: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        self.site = site
        if self.needs_notice:
            # A card pick-up is identified by the notice; a contact is optional, for the
            # confirmation and the day-before reminder (by mail, or SMS to a mobile).
            for name in ("family_name_kana", "given_name_kana"):
                del self.fields[name]
            self.fields["email"].help_text = _(
                "入力すると、予約の確認と予約日の前日のお知らせをメールでお送りします。"
            )
            self.fields["phone"].label = _("携帯電話番号")
            self.fields["phone"].help_text = _(
                "入力すると、予約の確認と予約日の前日のお知らせをSMSでお送りします"
                "（070・080・090で始まる番号、ハイフンはなくてもかまいません）。"
            )
        else:
            del self.fields["notice_number"]
        if not procedure.proxy_allowed:
            del self.fields["is_proxy"]
        for name, field in self.fields.items():
            if name != "birth_date":
                field.validators.append(validate_no_individual_number)

    @property
    def needs_notice(self) -> bool:
        """A card pick-up identifies by notice number; other procedures by kana name and contact."""
        return bool(self.procedure.code == ProcedureCode.CARD_PICKUP)

    def clean_notice_number(self) -> str:
        value = str(self.cleaned_data.get("notice_number", "")).strip()
        if not value:
            message = _("交付通知書番号を入力してください。")
            raise forms.ValidationError(message, code="required")
        return _normalised(normalize_notice_number, value)

    def clean_family_name_kana(self) -> str:
        value = str(self.cleaned_data.get("family_name_kana", "")).strip()
        if not value:
            message = _("氏をフリガナ（カタカナ）で入力してください。")
            raise forms.ValidationError(message, code="required")
        return _normalised(lambda v: normalize_kana(v, field="氏（フリガナ）"), value)

    def clean_given_name_kana(self) -> str:
        value = str(self.cleaned_data.get("given_name_kana", "")).strip()
        if not value:
            message = _("名をフリガナ（カタカナ）で入力してください。")
            raise forms.ValidationError(message, code="required")
        return _normalised(lambda v: normalize_kana(v, field="名（フリガナ）"), value)

    @property
    def site_takes_proxies(self) -> bool:
        """False at a post office (the holder in person only): the page says so up front."""
        return self.site is None or bool(self.site.takes_proxies)

    def clean_is_proxy(self) -> bool:
        """A proxy is refused here, before the confirmation page, where the site takes none
        (the booking service refuses it too: `proxy_not_at_site`)."""
        wanted = bool(self.cleaned_data.get("is_proxy"))
        if wanted and not self.site_takes_proxies:
            message = services.proxy_not_at_site().message
            raise forms.ValidationError(message, code="proxy_not_at_site")
        return wanted

    def clean_phone(self) -> str:
        value = str(self.cleaned_data.get("phone", "")).strip()
        if not value:
            return ""
        if self.needs_notice:  # asked for as a mobile number: the SMS goes to it
            return _normalised(normalize_mobile, value)
        return _normalised(normalize_phone, value)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        missing_contact = not cleaned.get("email") and not cleaned.get("phone")
        contact_errors = "email" in self.errors or "phone" in self.errors
        if not self.needs_notice and missing_contact and not contact_errors:
            self.add_error("email", _("メールアドレスか電話番号のどちらかを入力してください。"))
        return cleaned

    def booking_arguments(self) -> dict[str, Any]:
        """The cleaned values under the names `book_reservation` takes (docs/contract.md fields)."""
        data = self.cleaned_data
        arguments: dict[str, Any] = {
            "birth_date": data["birth_date"],
            "is_proxy": bool(data.get("is_proxy", False)),
        }
        if self.needs_notice:
            arguments["notice_number"] = data["notice_number"]
        else:
            arguments["family_name_kana"] = data["family_name_kana"]
            arguments["given_name_kana"] = data["given_name_kana"]
        arguments["email"] = data.get("email") or ""
        arguments["phone"] = data.get("phone") or ""
        return arguments


class FamilyMemberForm(IdentifyForm):
    """One more family member in the same visit (a family booking, as the API's
    `family_members`): identified like the first person, without contact fields — the booking's
    contact is the first person's (`booking_arguments(contact=…)`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("email", "phone"):
            self.fields.pop(name, None)

    def clean(self) -> dict[str, Any]:
        return forms.Form.clean(self) or {}

    def booking_arguments(self, *, contact: dict[str, str] | None = None) -> dict[str, Any]:
        """As `IdentifyForm`'s, with `contact` (the first person's e-mail and phone) where the
        procedure needs one for everybody (not a card pick-up: that holder's own is optional)."""
        arguments = super().booking_arguments()
        if contact and not self.needs_notice:
            arguments.update(email=contact.get("email", ""), phone=contact.get("phone", ""))
        return arguments


def no_one_named_twice(lead: IdentifyForm, members: Sequence[FamilyMemberForm]) -> bool:
    """True when the people of a family booking (validated forms) are all different people;
    else each one who repeats someone named before them gets the booking service's own refusal
    (`invalid_group`) — on the notice number for a card pick-up — and False. Checked on the
    page, before the confirmation page shows a booking that cannot be made: the same person
    by the service's own key (`services.person_key`) of what the forms normalised."""
    seen: set[str] = set()
    for person in (lead, *members):
        data = person.cleaned_data
        key = (
            services.person_key(notice=data["notice_number"])
            if person.needs_notice
            else services.person_key(
                family=data["family_name_kana"],
                given=data["given_name_kana"],
                birth_date=data["birth_date"],
            )
        )
        if key in seen:
            field = "notice_number" if person.needs_notice else None
            person.add_error(field, _("同じ方が2回入力されています。"))
        seen.add(key)
    return not any(person.errors for person in (lead, *members))


def member_prefix(index: int) -> str:
    """The field prefix of the family member at `index` (0: the second person) — every
    interface that books a family names the members' fields alike."""
    return f"member{index + 1}"


def sent_values(data: Mapping[str, Any], form: forms.Form, *, prefix: str = "") -> dict[str, Any]:
    """The values `data` (a POST) holds for `form`'s fields, as `initial` to show them again
    without validating them (a family member added or removed, the confirmation's 修正する): a
    birth date from its three selects when they make a date; `prefix` names a family member's
    fields."""
    name_of = (lambda name: f"{prefix}-{name}") if prefix else (lambda name: name)
    initial: dict[str, Any] = {name: data.get(name_of(name), "") for name in form.fields}
    initial["is_proxy"] = bool(data.get(name_of("is_proxy")))
    try:
        initial["birth_date"] = dt.date(
            int(data.get(name_of("birth_date_year"), "")),
            int(data.get(name_of("birth_date_month"), "")),
            int(data.get(name_of("birth_date_day"), "")),
        )
    except ValueError:
        initial.pop("birth_date", None)
    return initial


class LookupForm(NamesLengthLimits, RefusesIndividualNumbers, forms.Form):
    """Find a reservation again: its booking code (予約コード) or, for a card pick-up, the
    notice number (交付通知書番号), with the birth date given when booking."""

    code = forms.CharField(
        label=_("予約コード または 交付通知書番号"),
        max_length=40,
        help_text=_(
            "予約コードは予約のときに表示された10文字です（確認メールにも書かれています）。"
            "カードの受け取りの予約は、交付通知書番号（例：ABC-123456）でも探せます。"
        ),
        error_messages={"required": _("予約コードか交付通知書番号を入力してください。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    birth_date = BirthDateField()

    def clean_code(self) -> str:
        """A booking code as `normalize_reservation_code` spells it, a notice number as
        `issuance.numbers` does (what the look-up and its rate limits use); a text that can be
        neither is kept as typed and finds nothing."""
        typed = str(self.cleaned_data["code"])
        return (
            normalize_reservation_code(typed)
            or normalize_notice_number_or_blank(typed)
            or unicodedata.normalize("NFKC", typed).strip()
        )
