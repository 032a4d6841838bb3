"""Admin pieces shared by every app: every change made in the admin is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import ModelForm
from django.forms.models import model_to_dict
from django.http import HttpRequest

from madoguchi.core.admin_site import RefusesIndividualNumbersAdmin
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.models import AuditEvent

NEVER_AUDITED = frozenset({"password"})
"""Fields whose values never reach the audit log (a password hash); the admin records that
they changed instead."""


def _snapshot(obj: models.Model) -> dict[str, Any]:
    return {
        key: (value if not isinstance(value, list) else [getattr(v, "pk", v) for v in value])
        for key, value in model_to_dict(obj).items()
        if key not in NEVER_AUDITED
    }


_PENDING = "_madoguchi_admin_audit"


class AuditedModelAdmin(RefusesIndividualNumbersAdmin):
    """Writes an audit event (before → after) for every save and delete in the admin.

    Its forms refuse Individual Numbers (the mixin): a refused form is never saved, so the
    number never reaches the append-only audit log. The admin saves the object (`save_model`)
    and then its many-to-many fields and inlines (`save_related`) in one transaction; the event
    is written after both, so "after" holds the new many-to-many values too."""

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool
    ) -> None:
        before = None
        if change and obj.pk is not None:
            previous = type(obj).objects.filter(pk=obj.pk).first()
            before = _snapshot(previous) if previous is not None else None
        super().save_model(request, obj, form, change)
        setattr(request, _PENDING, (obj, before, change))

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        pending = request.__dict__.pop(_PENDING, None)
        if pending is None:
            return
        obj, before, change = pending
        after = _snapshot(obj)
        record_audit_event(
            actor=Actor.staff(request.user),
            action=f"admin.{'change' if change else 'add'}",
            subject_type=obj._meta.label,
            subject_id=obj.pk,
            before=before,
            after=after,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            before, pk = _snapshot(obj), obj.pk
            super().delete_model(request, obj)
            record_audit_event(
                actor=Actor.staff(request.user),
                action="admin.delete",
                subject_type=obj._meta.label,
                subject_id=pk,
                before=before,
            )

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # shared by many models
    """Look, never touch: records that change only through their services (or never)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """The whole audit log, for the deployment's operators only: events carry no municipality,
    so an account of one municipality would read every municipality's events here. Municipal
    staff read a card's trail on its card page, scoped by the access rule."""

    list_display = ("number", "at", "actor", "action", "subject_type", "subject_id")
    list_filter = ("action", "subject_type")
    search_fields = ("actor", "subject_id")

    @admin.display(description="番号", ordering="id")
    def number(self, event: AuditEvent) -> int:
        return event.pk

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_operator(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_operator(request) and super().has_view_permission(request, obj)


def is_operator(request: HttpRequest) -> bool:
    """A superuser of the deployment itself: no municipality."""
    user = request.user
    return bool(user.is_superuser) and getattr(user, "municipality_id", None) is None


admin.site.site_header = "madoguchi 管理画面"
admin.site.site_title = "madoguchi"
admin.site.index_title = "設定"
