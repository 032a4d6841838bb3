"""The demo names everything residents read in every offered language (decision 0029): its
municipalities, sites (name, address, access notes), procedures (name, what to bring), counters,
closure reasons and temporary-counter candidates (whose names go to the sites they open), so its
residents' pages in another language show no Japanese name."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client

from madoguchi.demo import names
from madoguchi.demo.city import DEMO_CITIES, DemoCity
from madoguchi.forecasts.models import TemporaryCounterOption
from madoguchi.offices.models import (
    Closure,
    Counter,
    Municipality,
    Procedure,
    ProcedureCode,
    Site,
    SiteKind,
    Translatable,
)
from tests import personas

pytestmark = pytest.mark.django_db

DEMO_CITY = personas.DemoCity(residents=200, seed=1)

TODAY = dt.date(2026, 11, 26)
OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
MODELS: tuple[type[Translatable], ...] = (
    Municipality,
    Site,
    Procedure,
    Counter,
    Closure,
    TemporaryCounterOption,
)


def _japanese_texts() -> dict[str, tuple[Translatable, str]]:
    """Every non-empty Japanese value of a translatable field the demo stored."""
    texts: dict[str, tuple[Translatable, str]] = {}
    for model in MODELS:
        for obj in model._default_manager.all():
            for field in obj.TRANSLATED_FIELDS:
                value = str(getattr(obj, field) or "")
                if value.strip():
                    texts[value] = (obj, field)
    return texts


def test_the_demo_translates_into_exactly_the_offered_languages() -> None:
    assert list(names.LANGUAGES) == OTHER_LANGUAGES
    for japanese, texts in names.TEXTS.items():
        assert len(texts) == len(OTHER_LANGUAGES), japanese
        assert all(text.strip() and text != japanese for text in texts), japanese


def _every_text_has_every_language() -> None:
    texts = _japanese_texts()
    assert len(texts) >= 10
    for japanese, (obj, field) in texts.items():
        obj.clean_translations()  # the admin's own check of the JSON
        for language in OTHER_LANGUAGES:
            shown = obj.localized(field, language)
            assert shown.strip() and shown != japanese, (type(obj).__name__, field, language)


def test_every_text_the_demo_city_stores_has_every_language(demo_city: Municipality) -> None:
    _every_text_has_every_language()
    assert TemporaryCounterOption.objects.exists()  # the opened temporary counter's candidate
    assert Municipality.objects.get().localized("name", "en") == "Demo City (fictitious)"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_the_demos_resident_pages_show_no_japanese_name_in_another_language(
    demo_city: Municipality, language: str
) -> None:
    texts = _japanese_texts()
    main = Site.objects.get(kind=SiteKind.MAIN_OFFICE)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = (
        "/",
        "/renew/",
        "/book/",
        f"/book/{ProcedureCode.CARD_PICKUP}/",
        f"/book/{ProcedureCode.CARD_PICKUP}/{main.pk}/",
        "/queue/",
        f"/queue/sites/{main.pk}/take/",
    )
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert f'<html lang="{language}"' in html, path
        shown = [japanese for japanese in texts if japanese in html]
        assert shown == [], (path, shown)
    # and the names are there in the page's language
    home = client.get("/").content.decode()
    assert main.localized("name", language) in home


@pytest.mark.parametrize("city", DEMO_CITIES, ids=lambda city: city.code)
def test_each_demo_citys_standby_counter_is_named_in_every_language(city: DemoCity) -> None:
    # built only when the backlog passes the target (the full-size demo): its name is checked
    # here, so a renamed standby counter cannot open a site named in Japanese only
    standby = city.standby_name
    assert standby is not None
    entries = names.translations(name=standby)
    assert sorted(entries) == sorted(OTHER_LANGUAGES)
    assert all(entries[code]["name"] not in ("", standby) for code in OTHER_LANGUAGES)
