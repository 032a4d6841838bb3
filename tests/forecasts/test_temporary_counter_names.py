"""A temporary counter opened from a backlog proposal is named in every language its candidate is
(decision 0029): the candidate's names per language are entered in the admin as a site's are, and
`open_temporary_counter` carries them to the site it opens (name and address) and the names the
municipality gave its counters to the new counters — so the residents' pages in English and the
other languages show no Japanese name for it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.individual_number import INDIVIDUAL_NUMBER_REFUSAL_TEXT
from madoguchi.core.models import AuditEvent
from madoguchi.forecasts.models import TemporaryCounterOption
from madoguchi.forecasts.services import open_temporary_counter
from madoguchi.offices.models import Counter, Municipality, ProcedureCode, Site
from madoguchi.staff.models import Role, StaffUser
from madoguchi.staff.offices_admin import translation_field_name
from tests.conftest import login_staff
from tests.forecasts.test_planning_policy import temporary_option_form
from tests.offices import factories as offices
from tests.offices.factories import OTHER_LANGUAGES, translated, translations_for

pytestmark = pytest.mark.django_db

NAME = "中央公民館 臨時窓口"


@pytest.fixture
def town(db: None) -> Municipality:
    town = offices.municipality()
    pickup = offices.procedure("card_pickup")
    main = offices.site(town, name="本庁舎", counters=0, terminals=0)
    main.procedures.add(pickup)
    for n in (1, 2):
        translations_for(Counter.objects.create(site=main, name=f"{n}番窓口"), name=f"Counter {n}")
    return town


def _option(town: Municipality, *, named: bool = True) -> TemporaryCounterOption:
    today = clock.today()
    option = TemporaryCounterOption.objects.create(
        municipality=town,
        name=NAME,
        opens_on=today + dt.timedelta(days=1),
        closes_on=today + dt.timedelta(days=60),
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        starts_at=dt.time(10, 0),
        ends_at=dt.time(16, 0),
        counters=3,
        terminals=1,
    )
    return translations_for(option, name="Central Hall temporary counter") if named else option


def _open(option: TemporaryCounterOption) -> Site:
    today = clock.today()
    return open_temporary_counter(
        option_id=option.pk,
        today=today,
        slots_until=today + dt.timedelta(days=30),
        actor=Actor.system("test"),
    )


def test_the_opened_site_is_named_and_addressed_in_every_language_of_its_candidate(
    town: Municipality,
) -> None:
    site = _open(_option(town))
    site.refresh_from_db()
    for language in OTHER_LANGUAGES:
        expected = translated("Central Hall temporary counter", language)
        assert site.localized("name", language) == expected
        assert site.localized("address", language) == expected
    assert site.name == NAME and site.localized("name", "ja") == NAME
    site.clean_translations()  # what the admin would accept
    event = AuditEvent.objects.get(action="planning.temporary_counter.open")
    assert event.after["translations"] == site.translations


def test_its_counters_take_the_names_the_municipality_gave_counters_of_the_same_name(
    town: Municipality,
) -> None:
    site = _open(_option(town))
    counters = {c.name: c for c in Counter.objects.filter(site=site)}
    assert sorted(counters) == ["1番窓口", "2番窓口", "3番窓口"]
    for language in OTHER_LANGUAGES:
        assert counters["1番窓口"].localized("name", language) == translated("Counter 1", language)
        assert counters["2番窓口"].localized("name", language) == translated("Counter 2", language)
        # no counter of that name was named in other languages: the Japanese name, not a guess
        assert counters["3番窓口"].localized("name", language) == "3番窓口"


def test_a_candidate_without_names_in_other_languages_opens_a_site_without_them(
    town: Municipality,
) -> None:
    site = _open(_option(town, named=False))
    assert site.translations == {}
    assert site.localized("name", "en") == NAME


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_the_residents_pages_name_the_opened_counter_in_their_language(
    town: Municipality, language: str
) -> None:
    site = _open(_option(town))
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    expected = translated("Central Hall temporary counter", language)
    for path in ("/", f"/book/{ProcedureCode.CARD_PICKUP}/", "/renew/", "/queue/"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert f'<html lang="{language}"' in html, path
        assert NAME not in html, path
    assert expected in client.get(f"/book/{ProcedureCode.CARD_PICKUP}/").content.decode()
    assert expected in client.get(f"/book/{ProcedureCode.CARD_PICKUP}/{site.pk}/").content.decode()


def test_a_candidates_translations_are_checked_as_a_sites_are(town: Municipality) -> None:
    option = _option(town, named=False)
    option.translations = {"xx": {"name": "?"}}
    with pytest.raises(ValidationError, match="使えない言語コードです: xx"):
        option.full_clean()
    option.translations = {"en": {"address": "Somewhere"}}
    with pytest.raises(ValidationError, match="en の表記の形式が正しくありません"):
        option.full_clean()


@pytest.fixture
def admin(town: Municipality) -> Client:
    user = StaffUser.objects.create_superuser(
        "admin", password="pw", role=Role.ADMINISTRATOR, municipality=town
    )
    client = Client()
    login_staff(client, user)
    return client


def _form(town: Municipality, **inputs: str) -> dict[str, str]:
    return temporary_option_form(town, name=NAME, **inputs)


def test_the_admin_has_an_input_per_offered_language_for_the_candidates_name(
    admin: Client,
) -> None:
    page = admin.get("/admin/forecasts/temporarycounteroption/add/").content.decode()
    for language in OTHER_LANGUAGES:
        assert f'name="{translation_field_name("name", language)}"' in page
    assert 'name="translations"' not in page


def test_the_admin_saves_the_candidates_names_per_language_and_audits_them(
    admin: Client, town: Municipality
) -> None:
    response = admin.post(
        "/admin/forecasts/temporarycounteroption/add/",
        _form(town, name__en="Central Hall temporary counter", name__ko="중앙 공민관 임시 창구"),
    )
    assert response.status_code == 302, re.findall(
        r"errorlist[^<]*<li>([^<]*)", response.content.decode()
    )
    option = TemporaryCounterOption.objects.get()
    assert option.translations == {
        "en": {"name": "Central Hall temporary counter"},
        "ko": {"name": "중앙 공민관 임시 창구"},
    }
    event = AuditEvent.objects.get(
        action="admin.add", subject_type="forecasts.TemporaryCounterOption"
    )
    assert event.after["translations"] == option.translations


def test_an_individual_number_in_a_candidates_name_is_refused_and_nothing_is_stored(
    admin: Client, town: Municipality
) -> None:
    events = AuditEvent.objects.count()
    response = admin.post(
        "/admin/forecasts/temporarycounteroption/add/",
        _form(town, name__vi="Quầy 1234 5678 9018"),
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 200
    assert INDIVIDUAL_NUMBER_REFUSAL_TEXT[:20] in response.content.decode()
    assert not TemporaryCounterOption.objects.exists()
    assert AuditEvent.objects.count() == events
