"""The planning policy in the admin: validated with Japanese messages, every change audited."""

from __future__ import annotations

from django.contrib import admin

from madoguchi.core.admin import AuditedModelAdmin
from madoguchi.forecasts.models import PlanningPolicy
from madoguchi.staff.access import MunicipalityScopedAdmin


@admin.register(PlanningPolicy)
class PlanningPolicyAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    list_display = (
        "municipality",
        "allow_evenings",
        "allow_saturdays",
        "take_up_percent",
        "notice_delay_weeks",
    )
