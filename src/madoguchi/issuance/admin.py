"""Admin for the card pipeline: cards, imports and notice batches are read-only (every change
of a card goes through `issuance.services`, audited); the issuance policy is edited here,
audited by `AuditedModelAdmin`."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from madoguchi.core.admin import AuditedModelAdmin
from madoguchi.issuance.models import (
    ApplicationCount,
    CardRecord,
    DeliveryImport,
    IssuancePolicy,
    NoticeBatch,
)


class _ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # shared by three models
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CardRecord)
class CardRecordAdmin(_ReadOnlyAdmin):
    list_display = ("application_id", "status", "delivered_on", "notice_number", "municipality")
    list_filter = ("status",)
    search_fields = ("application_id", "notice_number")
    date_hierarchy = "delivered_on"
    list_select_related = ("municipality",)
    show_full_result_count = False  # no COUNT(*) over every card on each search


@admin.register(DeliveryImport)
class DeliveryImportAdmin(_ReadOnlyAdmin):
    list_display = ("file_name", "imported_at", "imported_by", "rows", "created_rows")
    list_filter = ("municipality",)


@admin.register(NoticeBatch)
class NoticeBatchAdmin(_ReadOnlyAdmin):
    list_display = ("created_at", "created_by", "cards", "municipality")
    list_filter = ("municipality",)


@admin.register(ApplicationCount)
class ApplicationCountAdmin(_ReadOnlyAdmin):
    list_display = ("week", "applications", "municipality", "updated_at")
    list_filter = ("municipality",)


@admin.register(IssuancePolicy)
class IssuancePolicyAdmin(AuditedModelAdmin):
    list_display = (
        "municipality",
        "notice_target_days",
        "notice_limit_days",
        "destroy_rule",
        "pacing_horizon_weeks",
    )
