"""Admin: tickets can be looked at and searched, never edited (statuses change only in services)."""

from __future__ import annotations

from django.contrib import admin

from madoguchi.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from madoguchi.staff.access import MunicipalityScopedAdmin
from madoguchi.walkins.models import QueueDay, QueuePrefix, QueueSettings, QueueTicket


@admin.register(QueueSettings)
class QueueSettingsAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    municipality_path = "site__municipality"
    """Per site: the booked visitors' early window and late grace, recalls before a no-show."""

    list_display = ("site", "early_minutes", "late_grace_minutes", "recalls_before_no_show")


@admin.register(QueuePrefix)
class QueuePrefixAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    municipality_path = "site__municipality"
    """Per site and procedure: the letter its numbers carry (one sequence per letter)."""

    list_display = ("site", "procedure", "prefix")
    list_filter = ("site",)


@admin.register(QueueTicket)
class QueueTicketAdmin(MunicipalityScopedAdmin, ReadOnlyModelAdmin):
    municipality_path = "site__municipality"
    list_display = (
        "business_day",
        "site",
        "prefix",
        "number",
        "procedure",
        "channel",
        "status",
        "counter",
        "issued_at",
    )
    list_filter = (
        "status",
        "site",
        "business_day",
    )
    date_hierarchy = "business_day"
    search_fields = ("=number",)
    exclude = ("token",)


@admin.register(QueueDay)
class QueueDayAdmin(MunicipalityScopedAdmin, ReadOnlyModelAdmin):
    municipality_path = "site__municipality"
    list_display = (
        "business_day",
        "site",
        "last_number",
    )
    list_filter = ("site",)
