"""Every label the admin shows is Japanese: the changelist's filters ("… で絞り込む") and
columns, and the add/change form's fields (inlines and read-only fields included), for every
registered model — a model field without a Japanese verbose_name shows its ASCII name."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.utils import flatten_fieldsets, label_for_field
from django.db.models import Model
from django.test import Client

from tests import personas as p
from tests.conftest import login_staff

pytestmark = pytest.mark.django_db

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
"""Kana or kanji: a label without one is a field name (or an English word) shown as it is."""

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def _operator(world: p.World) -> Client:
    """The deployment's operator: every registered model, the audit log included."""
    client = Client()
    login_staff(client, world.users["superuser_nowhere"])
    return client


def _not_japanese(labels: dict[str, Any]) -> dict[str, str]:
    return {where: str(label) for where, label in labels.items() if not JAPANESE.search(str(label))}


def _changelist_labels(client: Client, model: type[Model]) -> dict[str, Any]:
    meta = model._meta
    response = client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
    assert response.status_code == 200, (meta.label, response.status_code)
    changelist = response.context_data["cl"]
    labels: dict[str, Any] = {
        f"filter {spec.title!s}": spec.title for spec in changelist.filter_specs
    }
    for header in result_headers(changelist):
        if header.get("class_attrib") != ' class="action-checkbox-column"':
            labels[f"column {header['text']!s}"] = header["text"]
    return labels


def _form_labels(client: Client, model: type[Model]) -> dict[str, Any]:
    meta = model._meta
    response = client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
    request = response.wsgi_request
    model_admin = admin.site._registry[model]
    labels: dict[str, Any] = {}
    form = model_admin.get_form(request, None, change=False)
    for name, field in form.base_fields.items():
        labels[f"form {name}"] = field.label
    shown = flatten_fieldsets(model_admin.get_fieldsets(request))
    for name in model_admin.get_readonly_fields(request):
        labels[f"read-only {name}"] = label_for_field(name, model, model_admin)
    for name in shown:
        if name not in form.base_fields:
            labels.setdefault(f"read-only {name}", label_for_field(name, model, model_admin))
    for inline in model_admin.get_inline_instances(request):
        formset: Any = inline.get_formset(request)
        parent_link = formset.fk.name  # hidden: the row belongs to the object on the page
        for name, field in formset.form.base_fields.items():
            if name not in (parent_link, "id", "DELETE"):
                labels[f"inline {inline.model._meta.model_name}.{name}"] = field.label
    return labels


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_every_filter_and_column_of_the_changelist_is_labelled_in_japanese(
    personas: p.World, model: type[Model]
) -> None:
    labels = _changelist_labels(_operator(personas), model)
    assert labels  # the walk reads something: at least one column
    assert _not_japanese(labels) == {}


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_every_field_of_the_admin_form_is_labelled_in_japanese(
    personas: p.World, model: type[Model]
) -> None:
    labels = _form_labels(_operator(personas), model)
    assert _not_japanese(labels) == {}


def test_a_field_without_a_japanese_verbose_name_is_caught() -> None:
    """The check itself: a field named in ASCII, as Django shows one without a verbose_name."""
    assert _not_japanese({"filter procedure": "procedure", "column ID": "ID"}) == {
        "filter procedure": "procedure",
        "column ID": "ID",
    }
    assert (
        _not_japanese({"filter": "手続", "column": "予約コード", "form": "e-mail アドレス"}) == {}
    )


def test_every_field_of_the_projects_models_has_a_japanese_verbose_name() -> None:
    """Also the fields no admin shows yet: a field added to an admin later is labelled already."""
    unnamed = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model.__module__.startswith("madoguchi.")
        for field in model._meta.concrete_fields
        if not field.primary_key and not JAPANESE.search(str(field.verbose_name))
    ]
    assert unnamed == []
