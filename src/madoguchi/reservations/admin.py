"""Read-only admin views of slots and reservations: every change goes through the services
(capacity claims and status transitions must never be edited by hand)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.reservations.models import Reservation, Slot


class _ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # shared by two models
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Slot)
class SlotAdmin(_ReadOnlyAdmin):
    list_display = ("site", "procedure", "starts_at", "capacity", "booked", "is_offered")
    list_filter = ("site", "procedure", "is_offered")
    date_hierarchy = "starts_at"


@admin.register(Reservation)
class ReservationAdmin(_ReadOnlyAdmin):
    list_display = ("code", "slot", "procedure", "status", "channel", "is_proxy")
    list_filter = ("status", "procedure", "channel")
    search_fields = ("code", "notice_number")
