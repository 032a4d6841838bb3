"""Admin: tickets can be looked at and searched, never edited (statuses change only in services)."""

from __future__ import annotations

from django.contrib import admin

from madoguchi.core.admin import ReadOnlyModelAdmin
from madoguchi.walkins.models import QueueDay, QueueTicket


@admin.register(QueueTicket)
class QueueTicketAdmin(ReadOnlyModelAdmin):
    list_display = (
        "business_day",
        "site",
        "number",
        "procedure",
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
class QueueDayAdmin(ReadOnlyModelAdmin):
    list_display = (
        "business_day",
        "site",
        "last_number",
    )
    list_filter = ("site",)
