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
from django.contrib import admin

from madoguchi.core.admin import AuditedModelAdmin
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
)
from madoguchi.staff.access import MunicipalityScopedAdmin


class SiteForm(RefusesIndividualNumbers, forms.ModelForm):  # type: ignore[type-arg]  # ModelForm generic over Site
    class Meta:
        model = Site
        fields = [
            "municipality",
            "name",
            "name_en",
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


class CounterInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Counter
    extra = 0


class TerminalInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Terminal
    extra = 0


@admin.register(Municipality)
class MunicipalityAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    municipality_path = ""
    list_display = ("name", "code")


@admin.register(Procedure)
class ProcedureAdmin(AuditedModelAdmin):
    list_display = ("name", "code", "duration_minutes", "needs_terminal", "proxy_allowed")


@admin.register(Site)
class SiteAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    form = SiteForm
    list_display = ("name", "kind", "municipality", "open_from", "open_until", "is_active")
    list_filter = ("kind", "municipality")
    filter_horizontal = ("procedures",)
    inlines = [CounterInline, TerminalInline]


@admin.register(OpeningSession)
class OpeningSessionAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    municipality_path = "site__municipality"
    list_display = ("site", "weekday", "kind", "starts_at_time", "ends_at_time", "counters_open")
    list_filter = ("site", "kind", "weekday")


@admin.register(Closure)
class ClosureAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    list_display = ("first_day", "last_day", "kind", "reason", "site", "recurs_yearly")
    list_filter = ("kind",)


@admin.register(SpecialOpening)
class SpecialOpeningAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    municipality_path = "site__municipality"
    list_display = ("day", "site", "starts_at_time", "ends_at_time", "counters_open", "reason")
