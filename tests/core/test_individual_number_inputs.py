"""Every text input refuses an Individual Number before anything is saved or audited: every
form class, every admin (generated over the registered admins and their text fields), the JSON
API's request shapes, the imports."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, cast

import pytest
from django import forms
from django.contrib import admin
from django.db import models
from django.test import Client, RequestFactory

import madoguchi
from madoguchi.core.admin_site import RefusesIndividualNumbersAdmin
from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.core.models import AuditEvent
from madoguchi.offices.models import Counter, Site
from tests.offices import factories

NUMBER_SPELLINGS = [
    "1234.5678.9018",
    "1234_5678_9018@example.jp",
    "123456-789018",
    "1234\u20105678\u20109018",
    "１２３４\u3000５６７８\u3000９０１８",
    "メモ 1234ー5678ー9018 です",
]


def _madoguchi_modules() -> list[Any]:
    found = []
    for info in pkgutil.walk_packages(madoguchi.__path__, "madoguchi."):
        if ".migrations" in info.name or ".management." in info.name:
            continue
        found.append(importlib.import_module(info.name))
    return found


def _form_classes() -> list[type[forms.BaseForm]]:
    _madoguchi_modules()
    seen: list[type[forms.BaseForm]] = []
    pending: list[type[Any]] = [forms.BaseForm]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("madoguchi.") and sub not in seen:
                seen.append(sub)
    return seen


FORM_CLASSES = _form_classes()


def test_the_project_has_forms_to_check() -> None:
    names = {cls.__name__ for cls in FORM_CLASSES}
    assert {"IdentifyForm", "LookupForm", "PhoneBookingForm", "HandOverForm"} <= names


@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_form_of_the_project_refuses_individual_numbers(form_class: type[Any]) -> None:
    assert issubclass(form_class, RefusesIndividualNumbers), (
        f"{form_class.__qualname__}: mix in madoguchi.core.forms.RefusesIndividualNumbers"
    )


def _registered() -> list[tuple[type[models.Model], admin.ModelAdmin[Any]]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize(
    ("model", "model_admin"), _registered(), ids=lambda v: getattr(v, "__name__", "")
)
def test_every_registered_admin_refuses_individual_numbers(
    model: type[models.Model], model_admin: admin.ModelAdmin[Any]
) -> None:
    assert isinstance(model_admin, RefusesIndividualNumbersAdmin)


class _Superuser:
    """Enough of a user for building admin forms without a database."""

    is_active = is_staff = is_superuser = True

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return True


def _admin_request() -> Any:
    request = RequestFactory().get("/")
    request.user = cast(Any, _Superuser())
    return request


def _admin_text_fields() -> list[tuple[str, str, bool]]:
    """(model label, form field, add form?) for every text field of every admin form."""
    cases = []
    request = _admin_request()
    for model, model_admin in _registered():
        for add in (True, False):
            form_class = model_admin.get_form(request, None, change=not add)
            for name, field in form_class.base_fields.items():
                if isinstance(field, forms.CharField) and not isinstance(
                    field.widget, forms.PasswordInput
                ):
                    cases.append((model._meta.label, name, add))
    return sorted(set(cases))


def _admin_text_fields_by_form() -> list[tuple[str, bool, tuple[str, ...]]]:
    """(model label, add form?, its text fields) for every admin form with text fields."""
    forms_: dict[tuple[str, bool], list[str]] = {}
    for label, field, add in _admin_text_fields():
        forms_.setdefault((label, add), []).append(field)
    return [(label, add, tuple(fields)) for (label, add), fields in sorted(forms_.items())]


ADMIN_TEXT_FORMS = _admin_text_fields_by_form()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("label", "add", "fields"),
    ADMIN_TEXT_FORMS,
    ids=[f"{label}-{'add' if add else 'change'}" for label, add, _ in ADMIN_TEXT_FORMS],
)
def test_every_admin_text_field_refuses_every_spelling(
    label: str, add: bool, fields: tuple[str, ...]
) -> None:
    """Every text field of the form, each spelling typed into all of them at once (the refusal
    is each field's own: `RefusesIndividualNumbers.full_clean` looks at every field); every
    field that does not refuse it is named with the spelling and its errors."""
    model = next(m for m, _ in _registered() if m._meta.label == label)
    model_admin = admin.site._registry[model]
    request = _admin_request()
    form_class = model_admin.get_form(request, None, change=not add)
    not_refused = []
    for spelling in NUMBER_SPELLINGS:
        form = form_class(data=dict.fromkeys(fields, spelling))
        assert not form.is_valid()
        errors = form.errors.as_data()
        not_refused += [
            (field, spelling, errors.get(field))
            for field in fields
            if "individual_number" not in [e.code for e in errors.get(field, [])]
        ]
    assert not_refused == [], (label, "add" if add else "change")


def test_admin_text_fields_were_found() -> None:
    fields = {(label, field) for label, field, _ in _admin_text_fields()}
    assert ("offices.Site", "address") in fields
    assert ("staff.StaffUser", "username") in fields


def _site_change_form(site: Site, **changes: str) -> dict[str, str]:
    data = {
        "municipality": str(site.municipality_id),
        "name": site.name,
        "kind": site.kind,
        "postal_code": site.postal_code,
        "address": site.address,
        "access_notes": "",
        "is_active": "on",
        "counters-TOTAL_FORMS": "0",
        "counters-INITIAL_FORMS": "0",
        "terminals-TOTAL_FORMS": "0",
        "terminals-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("spelling", NUMBER_SPELLINGS)
def test_an_admin_edit_with_a_number_is_refused_and_never_audited(
    admin_client: Client, spelling: str
) -> None:
    site = factories.site(
        factories.municipality(), weekday_hours=None, counters=0, terminals=0, address="中央1-1"
    )
    events = AuditEvent.objects.count()
    response = admin_client.post(
        f"/admin/offices/site/{site.pk}/change/",
        _site_change_form(site, address=f"中央1-1 {spelling}"),
    )
    assert response.status_code == 200
    assert "個人番号（マイナンバー）" in response.content.decode()
    site.refresh_from_db()
    assert site.address == "中央1-1"
    assert AuditEvent.objects.count() == events
    assert not AuditEvent.objects.filter(after__icontains="9018").exists()


def test_an_admin_inline_row_with_a_number_is_refused(admin_client: Client) -> None:
    site = factories.site(
        factories.municipality(), weekday_hours=None, counters=0, terminals=0, address="中央1-1"
    )
    data = _site_change_form(
        site,
        **{
            "counters-TOTAL_FORMS": "1",
            "counters-0-name": "窓口 1234.5678.9018",
            "counters-0-site": str(site.pk),
        },
    )
    response = admin_client.post(f"/admin/offices/site/{site.pk}/change/", data)
    assert response.status_code == 200
    assert "個人番号（マイナンバー）" in response.content.decode()
    assert not Counter.objects.exists()


def test_negative_control_an_admin_edit_without_a_number_is_saved(admin_client: Client) -> None:
    site = factories.site(
        factories.municipality(), weekday_hours=None, counters=0, terminals=0, address="中央1-1"
    )
    response = admin_client.post(
        f"/admin/offices/site/{site.pk}/change/",
        _site_change_form(site, address="中央1-1 1234.5678.9019"),  # wrong check digit
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.address == "中央1-1 1234.5678.9019"
