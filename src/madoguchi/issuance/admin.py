"""Admin for the card pipeline: cards, imports and notice batches are read-only (every change
of a card goes through `issuance.services`, audited); the issuance policy is edited here,
audited by `AuditedModelAdmin`."""

from __future__ import annotations

from django.contrib import admin

from madoguchi.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from madoguchi.issuance.models import (
    ApplicationCount,
    CardRecord,
    DeliveryImport,
    IssuancePolicy,
    NoticeBatch,
)
from madoguchi.staff.access import MunicipalityScopedAdmin


@admin.register(CardRecord)
class CardRecordAdmin(MunicipalityScopedAdmin, ReadOnlyModelAdmin):
    list_display = ("application_id", "status", "delivered_on", "notice_number", "municipality")
    list_filter = ("status",)
    search_fields = ("application_id", "notice_number")
    date_hierarchy = "delivered_on"
    list_select_related = ("municipality",)
    show_full_result_count = False  # no COUNT(*) over every card on each search


@admin.register(DeliveryImport)
class DeliveryImportAdmin(MunicipalityScopedAdmin, ReadOnlyModelAdmin):
    list_display = ("file_name", "imported_at", "imported_by", "rows", "created_rows")
    list_filter = ("municipality",)


@admin.register(NoticeBatch)
class NoticeBatchAdmin(MunicipalityScopedAdmin, ReadOnlyModelAdmin):
    list_display = ("created_at", "created_by", "cards", "municipality")
    list_filter = ("municipality",)


@admin.register(ApplicationCount)
class ApplicationCountAdmin(MunicipalityScopedAdmin, ReadOnlyModelAdmin):
    list_display = ("week", "applications", "municipality", "updated_at")
    list_filter = ("municipality",)


@admin.register(IssuancePolicy)
class IssuancePolicyAdmin(MunicipalityScopedAdmin, AuditedModelAdmin):
    list_display = (
        "municipality",
        "notice_target_days",
        "notice_limit_days",
        "destroy_rule",
        "pacing_horizon_weeks",
    )
