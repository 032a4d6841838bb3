"""Admin: tickets can be looked at and searched, never edited (statuses change only in services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.walkins.models import QueueDay, QueueTicket


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # shared by both models
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QueueTicket)
class QueueTicketAdmin(ReadOnlyAdmin):
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
class QueueDayAdmin(ReadOnlyAdmin):
    list_display = (
        "business_day",
        "site",
        "last_number",
    )
    list_filter = ("site",)
