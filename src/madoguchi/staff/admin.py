from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from madoguchi.staff.access import MunicipalityScopedAdmin
from madoguchi.staff.models import StaffUser


@admin.register(StaffUser)
class StaffUserAdmin(MunicipalityScopedAdmin, UserAdmin):  # type: ignore[type-arg]  # django-stubs' UserAdmin generic needs the concrete user
    list_display = ("username", "last_name", "first_name", "role", "municipality", "is_active")
    list_filter = ("role", "municipality", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("役割と担当", {"fields": ("role", "municipality", "sites")}),
    )
    filter_horizontal = ("sites", "groups", "user_permissions")
