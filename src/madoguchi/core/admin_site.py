"""The admin site: Django's, except that every model registered on it refuses Individual Numbers.

Settings install `AdminConfig` in place of `django.contrib.admin`, so `admin.site` (and every
`@admin.register`) is this site. Whatever ModelAdmin an app registers — audited, read-only,
Django's own `UserAdmin` — gets `RefusesIndividualNumbersAdmin` mixed in: its change form, its
inlines and its list-editable rows all check every field before anything is saved or audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.http import HttpRequest

from madoguchi.core.forms import refusing_individual_numbers


class RefusesIndividualNumbersAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # any model
    """Every form this ModelAdmin builds refuses a field holding an Individual Number."""

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        return refusing_individual_numbers(super().get_form(request, obj, change=change, **kwargs))

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        return refusing_individual_numbers(super().get_changelist_form(request, **kwargs))

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            inline.form = refusing_individual_numbers(inline.form)
        return inlines


def refusing_admin(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:  # type: ignore[type-arg]
    """`admin_class` with the mixin first in its bases (itself when it already has it)."""
    if issubclass(admin_class, RefusesIndividualNumbersAdmin):
        return admin_class
    return type(
        admin_class.__name__,
        (RefusesIndividualNumbersAdmin, admin_class),
        {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
    )


class AdminSite(admin.AdminSite):
    """Django's admin site; every registration goes through `refusing_admin`."""

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        super().register(
            model_or_iterable, refusing_admin(admin_class or admin.ModelAdmin), **options
        )


class AdminConfig(DjangoAdminConfig):
    """`django.contrib.admin` with `AdminSite` as `admin.site`."""

    default_site = "madoguchi.core.admin_site.AdminSite"
