"""Read-only admin views of slots and reservations: every change goes through the services
(capacity claims and status transitions must never be edited by hand)."""

from __future__ import annotations

from django.contrib import admin

from madoguchi.core.admin import ReadOnlyModelAdmin
from madoguchi.reservations.models import Reservation, Slot
from madoguchi.staff.access import MunicipalityScopedAdmin


@admin.register(Slot)
class SlotAdmin(MunicipalityScopedAdmin, ReadOnlyModelAdmin):
    municipality_path = "site__municipality"
    list_display = ("site", "procedure", "starts_at", "capacity", "booked", "is_offered")
    list_filter = ("site", "procedure", "is_offered")
    date_hierarchy = "starts_at"


@admin.register(Reservation)
class ReservationAdmin(MunicipalityScopedAdmin, ReadOnlyModelAdmin):
    municipality_path = "slot__site__municipality"
    list_display = ("code", "slot", "procedure", "status", "channel", "is_proxy")
    list_filter = ("status", "procedure", "channel")
    search_fields = ("code", "notice_number")
