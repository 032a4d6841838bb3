"""The admin of the municipality's set-up — municipalities, sites, counters, terminals,
procedures, opening sessions, closures, special openings — with Japanese validation, audited,
and limited to the signed-in account's municipality (`access.MunicipalityScopedAdmin`).

It lives with the access rules rather than in `offices` because it asks them, and they read
`offices`' models: `offices` stays below `staff` (docs/ARCHITECTURE.md, Layers). Registered when
`staff.admin` is loaded by the admin's autodiscovery.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest

from madoguchi.core import clock
from madoguchi.core.admin import AuditedModelAdmin
from madoguchi.core.audit import Actor
from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.offices.models import (
    Closure,
    Counter,
    Municipality,
    OpeningSession,
    Procedure,
    Site,
    SpecialOpening,
    Terminal,
    Translatable,
)
from madoguchi.offices.services import save_site
from madoguchi.offices.signals import calendar_changed
from madoguchi.staff.access import MunicipalityScopedAdmin


def translation_field_name(field: str, language: str) -> str:
    """The admin form's input for `field` in `language` (``name__zh_hans``)."""
    return f"{field}__{language.replace('-', '_')}"


class TranslationsForm(RefusesIndividualNumbers, forms.ModelForm):  # type: ignore[type-arg]  # ModelForm generic over the model
    """A model form with one input per language (settings.LANGUAGES but Japanese) for each of
    the model's `TRANSLATED_FIELDS`; saved into `translations` (empty inputs are left out, so
    the Japanese value is shown). The inputs are built by `with_translations`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        entries = self.instance.translations if isinstance(self.instance.translations, dict) else {}
        for language, field in _languages_and_fields(self._meta.model):
            name = translation_field_name(field, language)
            if name in self.fields and not self.is_bound:
                self.initial.setdefault(name, (entries.get(language) or {}).get(field, ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        entries: dict[str, dict[str, str]] = {}
        for language, field in _languages_and_fields(self._meta.model):
            text = (cleaned.get(translation_field_name(field, language)) or "").strip()
            if text:
                entries.setdefault(language, {})[field] = text
        self.instance.translations = entries
        return cleaned


def _languages_and_fields(model: type[Translatable]) -> list[tuple[str, str]]:
    return [
        (code, field)
        for code, _name in settings.LANGUAGES
        if code != settings.LANGUAGE_CODE
        for field in model.TRANSLATED_FIELDS
    ]


def with_translations(
    model: type[Translatable],
    base: type[forms.ModelForm] = forms.ModelForm,  # type: ignore[type-arg]
) -> type[TranslationsForm]:
    """A `TranslationsForm` for `model` (on top of `base`): its per-language inputs are class
    attributes, so the admin lays them out after the model's fields."""
    attributes: dict[str, Any] = {"__module__": __name__}
    names = dict(settings.LANGUAGES)
    for language, field in _languages_and_fields(model):
        model_field = model._meta.get_field(field)
        assert isinstance(model_field, models.Field)
        long_text = isinstance(model_field, models.TextField)
        attributes[translation_field_name(field, language)] = forms.CharField(
            label=f"{model_field.verbose_name}（{names[language]}）",
            required=False,
            max_length=model_field.max_length,
            widget=forms.Textarea(attrs={"rows": 3}) if long_text else forms.TextInput(),
            help_text="空のときは日本語で表示します。",
        )
    meta = type("Meta", (), {"model": model, "exclude": ["translations"]})
    if hasattr(base, "Meta"):
        meta = type("Meta", (base.Meta,), {})
    attributes["Meta"] = meta
    return type(f"{model.__name__}TranslationsForm", (TranslationsForm, base), attributes)


class _SiteForm(RefusesIndividualNumbers, forms.ModelForm):  # type: ignore[type-arg]  # ModelForm generic over Site
    class Meta:
        model = Site
        fields = [
            "municipality",
            "name",
            "kind",
            "postal_code",
            "address",
            "access_notes",
            "open_from",
            "open_until",
            "procedures",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        refused = [
            p.name for p in cleaned.get("procedures") or [] if kind and not p.allowed_at(kind)
        ]
        if refused:
            self.add_error(
                "procedures",
                f"この種類の窓口では取り扱えない手続きです: {'、'.join(refused)}",
            )
        return cleaned


SiteForm = with_translations(Site, _SiteForm)


class CounterInline(admin.StackedInline):  # type: ignore[type-arg]
    """Stacked, not tabular: a tabular row's inputs have no label of their own (axe-core's
    `label`, `select-name`), a stacked one's each have theirs."""

    model = Counter
    form = with_translations(Counter)
    extra = 0


class TerminalInline(admin.StackedInline):  # type: ignore[type-arg]
    model = Terminal
    extra = 0


def _shared_with_others(request: HttpRequest) -> bool:
    """Whether the signed-in account belongs to one municipality of several on this deployment."""
    municipality_id = getattr(request.user, "municipality_id", None)
    return municipality_id is not None and Municipality.objects.exclude(pk=municipality_id).exists()


def _sites_of(obj: Any) -> set[int]:
    """The sites whose calendar `obj` (a municipality, a site, weekly hours, a special opening or
    a closure — one site's, or every site of its municipality) is part of."""
    if obj is None:
        return set()
    if isinstance(obj, Municipality):  # its booking window and walk-in share shape every slot
        return set(Site.objects.filter(municipality_id=obj.pk).values_list("pk", flat=True))
    if isinstance(obj, Site):
        return {obj.pk} if obj.pk is not None else set()
    if isinstance(obj, Closure) and obj.site_id is None:
        return set(
            Site.objects.filter(municipality_id=obj.municipality_id).values_list("pk", flat=True)
        )
    return {obj.site_id} if obj.site_id is not None else set()


class ChangesCalendar(AuditedModelAdmin):
    """Admin of a part of a site's calendar: a save or delete makes the sites' slots match the
    calendar in the same transaction (`offices.signals.calendar_changed`, which
    `reservations.slots.match_slots_to_calendars` receives — it sits above `staff`), so a day
    closed here is not offered from that moment — not only after the nightly `generate-slots` —
    and hours opened here are bookable at once. Bookings on times that no longer fit are kept
    and flagged; the manager is told which, to call those residents."""

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool
    ) -> None:
        before = type(obj).objects.filter(pk=obj.pk).first() if change and obj.pk else None
        request._calendar_sites = _sites_of(before)  # type: ignore[attr-defined]  # read in save_related
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        sites = request.__dict__.pop("_calendar_sites", set()) | _sites_of(form.instance)
        self._match(request, sites)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        sites = _sites_of(obj)
        super().delete_model(request, obj)
        self._match(request, sites)

    def _match(self, request: HttpRequest, site_ids: set[int]) -> None:
        answers = calendar_changed.send(
            type(self), site_ids=site_ids, actor=Actor.staff(request.user)
        )
        conflicts: list[Any] = [slot for _receiver, slots in answers for slot in slots or []]
        if not conflicts:
            return
        lines = [
            f"{slot.site.name} {clock.to_jst(slot.starts_at):%Y-%m-%d %H:%M} "
            f"{slot.procedure.name} 予約{slot.booked}件"
            for slot in conflicts[:CONFLICTS_NAMED]
        ]
        more = len(conflicts) - len(lines)
        messages.warning(
            request,
            f"予約の入っている枠が{len(conflicts)}件、開庁時間に合わなくなりました。新しい予約は"
            "受け付けませんが、入っている予約はそのままです。予約した方に連絡して日時の変更を"
            "お願いしてください：" + "、".join(lines) + (f"、ほか{more}件" if more > 0 else ""),
        )


CONFLICTS_NAMED = 20
"""At most this many times with bookings are named in the admin's message (then "and N more")."""


@admin.register(Municipality)
class MunicipalityAdmin(MunicipalityScopedAdmin, ChangesCalendar):
    municipality_path = ""
    form = with_translations(Municipality)
    list_display = ("name", "code")


@admin.register(Procedure)
class ProcedureAdmin(AuditedModelAdmin):
    """Procedures are shared by every municipality on the deployment (their names, documents
    and minutes are read by all): where there are several, one municipality's account reads
    them and only the deployment's operators (no municipality) change them; a municipality
    alone on its deployment changes its own."""

    form = with_translations(Procedure)
    list_display = ("name", "code", "duration_minutes", "needs_terminal", "proxy_allowed")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not _shared_with_others(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _shared_with_others(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _shared_with_others(request) and super().has_delete_permission(request, obj)


class _SavedBySiteService(admin.ModelAdmin):  # type: ignore[type-arg]  # Site's admin only
    """The one write of a site in the admin: `offices.services.save_site` instead of Django's
    `obj.save()` — last before `ModelAdmin` in `SiteAdmin`'s bases, so the audit and calendar
    mixins above it still read the site before it and act after it. A new name or address
    raises the revision of the bookings still to come there, whose residents are told after
    the commit; the manager is told how many."""

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool
    ) -> None:
        saved = save_site(obj, actor=Actor.staff(request.user))
        if saved.revised:
            messages.info(
                request,
                f"窓口の名称・所在地が変わったため、これからの予約{saved.revised}件の"
                "カレンダー用ファイル（.ics）を更新しました。そのうち連絡先のある"
                f"{saved.told}件の方に、新しい名称・所在地をメールまたはSMSでお知らせします"
                "（変わった言語で予約した方のみ）。",
            )


@admin.register(Site)
class SiteAdmin(MunicipalityScopedAdmin, ChangesCalendar, _SavedBySiteService):
    form = SiteForm
    list_display = ("name", "kind", "municipality", "open_from", "open_until", "is_active")
    list_filter = ("kind", "municipality")
    # the procedures as labelled checkboxes: the admin's two-list chooser (`filter_horizontal`)
    # gives its search icons an aria-label a <span> may not carry (axe-core)
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    inlines = [CounterInline, TerminalInline]


@admin.register(OpeningSession)
class OpeningSessionAdmin(MunicipalityScopedAdmin, ChangesCalendar):
    municipality_path = "site__municipality"
    list_display = ("site", "weekday", "kind", "starts_at_time", "ends_at_time", "counters_open")
    list_filter = ("site", "kind", "weekday")


@admin.register(Closure)
class ClosureAdmin(MunicipalityScopedAdmin, ChangesCalendar):
    form = with_translations(Closure)
    list_display = ("first_day", "last_day", "kind", "reason", "site", "recurs_yearly")
    list_filter = ("kind",)


@admin.register(SpecialOpening)
class SpecialOpeningAdmin(MunicipalityScopedAdmin, ChangesCalendar):
    municipality_path = "site__municipality"
    list_display = ("day", "site", "starts_at_time", "ends_at_time", "counters_open", "reason")
