"""Staff accounts in the admin: every change (role, municipality, sites, flags, password) is an
audit event — never with the password hash — and an administrator resets a lost second factor
here (also audited). The admin has no login page of its own: it signs in through the staff
login, with its attempt limits and second factor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.core.admin import AuditedModelAdmin, is_operator
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.staff import offices_admin  # noqa: F401 — registers the offices' admin
from madoguchi.staff.access import MunicipalityScopedAdmin
from madoguchi.staff.models import StaffUser
from madoguchi.staff.second_factor import reset_second_factor


def _login_through_the_staff_page(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin's own login form would skip the attempt limits and the second factor."""
    if request.user.is_authenticated:  # signed in, but not admin staff
        raise PermissionDenied
    return redirect_to_login(request.get_full_path())


admin.site.login = _login_through_the_staff_page  # type: ignore[method-assign]

# Second-factor devices change only through `staff.second_factor` (audited): django-otp's own
# device admin pages, which would show secrets and edit them unaudited, are removed.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class OperatorsGroupAdmin(AuditedModelAdmin, GroupAdmin):
    """Permission groups belong to the deployment's operators (no municipality): a group's
    permissions reach every account in it, whatever its municipality, and only operators put
    accounts in groups. Audited like every admin change."""

    # its permissions as labelled checkboxes, as the accounts' (axe-core: the two-list chooser)
    filter_horizontal = ()
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_operator(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_operator(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_operator(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_operator(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_operator(request) and super().has_delete_permission(request, obj)


class LabelledSplitDateTime(AdminSplitDateTime):
    """The admin's date and time inputs, each with a <label> of its own: Django's gives the
    pair one legend and the inputs none (axe-core's `label`)."""

    template_name = "staff/admin/labelled_split_datetime.html"


@admin.register(StaffUser)
class StaffUserAdmin(MunicipalityScopedAdmin, AuditedModelAdmin, UserAdmin):  # type: ignore[type-arg]  # django-stubs' UserAdmin generic needs the concrete user
    list_display = ("username", "last_name", "first_name", "role", "municipality", "is_active")
    list_filter = ("role", "municipality", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("役割と担当", {"fields": ("role", "municipality", "sites")}),
    )
    # sites, groups and permissions as labelled checkboxes: the admin's two-list chooser
    # (`filter_horizontal`) gives its search icons an aria-label a <span> may not carry, and the
    # split date-and-time inputs of the last sign-in and the joining date each their label
    # (axe-core); the same fields, the same POST data
    filter_horizontal = ()
    formfield_overrides = {
        models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple},
        models.DateTimeField: {
            "form_class": forms.SplitDateTimeField,
            "widget": LabelledSplitDateTime,
        },
    }
    actions = ["reset_second_factor"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """An account added by a municipality's administrator is of that municipality: the
        admin shows them their municipality's accounts only, so without it the new account
        could not be opened to give it its role and sites (the add page's next step)."""
        if not change and obj.municipality_id is None:
            obj.municipality_id = getattr(request.user, "municipality_id", None)
        super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """An account of a municipality cannot hand out powers beyond it: only the deployment's
        operators (no municipality) make superusers or grant Django permissions and groups."""
        fields = tuple(super().get_readonly_fields(request, obj))
        if getattr(request.user, "municipality_id", None) is not None:
            fields += ("is_superuser", "user_permissions", "groups")
        return fields

    @admin.action(
        description=gettext_lazy("二要素認証をリセットする（次のログインで登録し直し）"),
        permissions=["change"],
    )
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[StaffUser]) -> None:
        for user in queryset:
            reset_second_factor(user, actor=Actor.staff(request.user))
        self.message_user(
            request,
            gettext("%(count)d 件のアカウントの二要素認証をリセットしました。")
            % {"count": queryset.count()},
            messages.SUCCESS,
        )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Django's password page, plus an audit event (without the hash) when it saved."""
        with transaction.atomic():
            before = StaffUser.objects.filter(pk=id).values_list("password", flat=True).first()
            response = super().user_change_password(request, id, form_url)
            after = StaffUser.objects.filter(pk=id).values_list("password", flat=True).first()
            if request.method == "POST" and before is not None and before != after:
                record_audit_event(
                    actor=Actor.staff(request.user),
                    action="staff.password_changed",
                    subject_type="staff.StaffUser",
                    subject_id=id,
                    after={"usable": bool(after) and not str(after).startswith("!")},
                )
        return response
