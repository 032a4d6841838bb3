"""The planning policy and the temporary counters the planner may propose, in the admin:
validated with Japanese messages, every change audited."""

from __future__ import annotations

from django.contrib import admin

from madoguchi.core.admin import AuditedModelAdmin
from madoguchi.forecasts.models import (
    COUNTER_WORK_KINDS,
    PlanningPolicy,
    TemporaryCounterOption,
)
from madoguchi.staff.access import MunicipalityScopedAdmin
from madoguchi.staff.offices_admin import with_translations


@admin.register(PlanningPolicy)
class PlanningPolicyAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    list_display = (
        "municipality",
        "allow_evenings",
        "allow_saturdays",
        "allow_sundays",
        "take_up_percent",
        "notice_delay_weeks",
    )
    fieldsets = (
        (None, {"fields": ("municipality",)}),
        (
            "提案してよい開庁",
            {
                "fields": (
                    "allow_evenings",
                    "evening_weekdays",
                    ("evening_starts_at", "evening_ends_at"),
                    "allow_saturdays",
                    ("saturday_starts_at", "saturday_ends_at"),
                    "allow_sundays",
                    ("sunday_starts_at", "sunday_ends_at"),
                    "allow_temporary_counters",
                    "allow_post_office",
                    "post_office_fee_yen",
                    "post_office_share_percent",
                )
            },
        ),
        (
            "1時間あたりの人件費（円）",
            {
                "fields": (
                    *PlanningPolicy.rate_fields(),
                    "contractor_share_percent",
                    "staff_hours_per_week_limit",
                )
            },
        ),
        (
            "前提とサービス水準",
            {
                "fields": (
                    "take_up_percent",
                    "notice_delay_weeks",
                    "setup_deadline_days",
                    "service_level_percent",
                    "target_wait_minutes",
                    "patience_minutes",
                )
            },
        ),
        (
            "窓口と事務の作業：所要時間と端末",
            {
                "fields": tuple(
                    (f"{prefix}_minutes", f"{prefix}_needs_terminal")
                    for prefix, _label, _at_counter in COUNTER_WORK_KINDS
                )
            },
        ),
        (
            "来庁の件数",
            {
                "fields": (
                    "counter_application_percent",
                    "apply_in_person_percent",
                    "new_cards_per_1000_per_year",
                    "pin_resets_per_1000_per_month",
                    "other_visits_per_1000_per_month",
                )
            },
        ),
    )


@admin.register(TemporaryCounterOption)
class TemporaryCounterOptionAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    form = with_translations(TemporaryCounterOption)
    list_display = ("name", "municipality", "opens_on", "closes_on", "counters", "setup_cost_yen")
