"""The one test helper that names a site, procedure, counter … in other languages
(`tests.offices.factories.translations_for`), which every test of translated names uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from madoguchi.offices.models import Site
from tests.offices import factories

pytestmark = pytest.mark.django_db


def test_a_text_is_given_in_every_language_but_japanese_marked_with_its_code() -> None:
    site = factories.site(factories.municipality(), name="本庁舎", counters=0, terminals=0)
    factories.translations_for(site, name="Main office", address="1-1 Chuo")
    stored = Site.objects.get(pk=site.pk)
    others = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
    assert list(factories.OTHER_LANGUAGES) == others
    assert sorted(stored.translations) == sorted(others)
    for code in others:
        assert stored.localized("name", code) == f"Main office [{code}]"
        assert stored.localized("address", code) == factories.translated("1-1 Chuo", code)
    assert stored.localized("name", settings.LANGUAGE_CODE) == "本庁舎"


def test_a_mapping_is_given_in_its_languages_only() -> None:
    site = factories.site(factories.municipality(), name="本庁舎", counters=0, terminals=0)
    factories.translations_for(site, name={"en": "City Hall"}, access_notes={"ko": "도보 5분"})
    assert Site.objects.get(pk=site.pk).translations == {
        "en": {"name": "City Hall"},
        "ko": {"access_notes": "도보 5분"},
    }


def test_a_language_not_offered_is_refused_as_the_admin_refuses_it() -> None:
    site = factories.site(factories.municipality(), name="本庁舎", counters=0, terminals=0)
    with pytest.raises(ValidationError):
        factories.translations_for(site, name={"fr": "Mairie"})
    assert Site.objects.get(pk=site.pk).translations == {}


def test_no_test_builds_names_in_every_language_by_itself() -> None:
    """A test that names something in every other language uses `translations_for`, not a
    comprehension of its own over the languages (two such copies had drifted apart)."""
    tests_dir = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"\.translations\s*=\s*\{[^=]{0,200}?\bfor\s+[\w, ]+\s+in\b")
    copies = [
        str(path.relative_to(tests_dir))
        for path in sorted(tests_dir.rglob("*.py"))
        if path.name != "factories.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert copies == []
