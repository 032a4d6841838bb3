"""The start-up warm-up (`core.warmup`, run by `madoguchi.wsgi` before gunicorn forks): what a
first request used to build is built, and the database is not opened."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import django.forms
import pytest
from django.conf import settings
from django.db import connection
from django.forms.renderers import get_default_renderer
from django.template import engines
from django.template.backends.django import DjangoTemplates
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver

from madoguchi.core import clock, holidays, warmup
from madoguchi.core.code_version import code_digest


def _cached_loader(backend: Any = None) -> Any:
    backend = backend or engines["django"]
    assert isinstance(backend, DjangoTemplates)
    (loader,) = backend.engine.template_loaders
    return loader


def _form_engine() -> Any:
    """The form renderer's own template engine (Django's default renderer)."""
    return getattr(get_default_renderer(), "engine")  # noqa: B009 — not in the base type


@pytest.fixture
def cold() -> None:
    """Forget what the process built: compiled templates, reverse tables, holidays, the digest."""
    _cached_loader().reset()
    _cached_loader(_form_engine()).reset()
    for urlconf in warmup.URLCONFS:
        get_resolver(urlconf)._reverse_dict.clear()
    holidays._holidays_of.cache_clear()
    code_digest.cache_clear()


def test_every_project_and_form_widget_template_is_compiled_before_the_first_request(
    cold: None,
) -> None:
    names = warmup.template_names()
    assert "base.html" in names and "forecasts/planning.html" in names
    widgets = warmup.template_names(Path(django.forms.__file__).parent)
    assert "django/forms/widgets/input.html" in widgets
    loader, forms = _cached_loader(), _cached_loader(_form_engine())
    assert not any(loader.cache_key(name) in loader.get_template_cache for name in names)
    assert not any(forms.cache_key(name) in forms.get_template_cache for name in widgets)
    done = warmup.warm_up()
    assert done["templates"] == len(names) + len(widgets)
    assert all(loader.cache_key(name) in loader.get_template_cache for name in names)
    assert all(forms.cache_key(name) in forms.get_template_cache for name in widgets)


def test_the_reverse_tables_of_every_language_are_built(cold: None) -> None:
    languages = {code for code, _ in settings.LANGUAGES}
    assert not get_resolver()._reverse_dict
    warmup.warm_up()
    for urlconf in warmup.URLCONFS:
        assert languages <= set(get_resolver(urlconf)._reverse_dict)


def test_the_holidays_of_the_years_around_this_one_are_computed(cold: None) -> None:
    warmup.warm_up()
    assert holidays._holidays_of.cache_info().currsize == len(warmup.HOLIDAY_YEARS)
    misses = holidays._holidays_of.cache_info().misses
    year = clock.today().year
    assert holidays.national_holiday_name(dt.date(year + 1, 1, 1)) == "元日"
    assert holidays._holidays_of.cache_info().misses == misses  # no computation left for it
    assert code_digest.cache_info().currsize == 1


@pytest.mark.django_db
def test_the_warm_up_sends_nothing_to_the_database(cold: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        warmup.warm_up()
    assert list(queries) == []
