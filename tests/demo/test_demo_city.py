"""The demo city is deterministic and idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.apps import apps
from django.test import Client

from madoguchi.demo.city import build_demo_city
from madoguchi.offices.models import Municipality, Site, SiteKind
from tests import personas
from tests.frozen_clock import DEMO_DAY, DEMO_MORNING

pytestmark = pytest.mark.django_db

TODAY = DEMO_DAY
DEMO_CITY = personas.DemoCity(residents=200, seed=1)
"""Built once for the tests that read the demo city or load it again (tests/personas.py), on
`TODAY` — the city tests/demo/test_demo_names.py and tests/test_translations.py read, so one
build serves all three (tests/world_order.py puts their tests together)."""
DEMO_COMMAND = personas.DemoCommand(residents=50, seed=3)
"""The run of `madoguchi demo --residents 50 --seed 3` at `DEMO_MORNING` that
tests/demo/test_demo_day.py and tests/demo/test_demo_login.py read (kept, run once for them
all): the test of two municipalities runs the command again over it with `--municipalities 2`
— the first city found as it is, the second built beside it."""


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in ("core", "sessions", "admin", "contenttypes", "auth")
    }


def test_loading_the_demo_twice_gives_the_same_rows(demo_city: Municipality) -> None:
    """The second load is over the kept city (`DEMO_CITY`, loaded on `TODAY` with its live
    day), with the same arguments: every row is found again, none added."""
    first = _counts()
    build_demo_city(residents=DEMO_CITY.residents, seed=DEMO_CITY.seed, today=TODAY)
    assert _counts() == first
    assert first["forecasts.RegisterRecord"] == DEMO_CITY.residents
    assert first["offices.Site"] == 5


def test_the_demo_city_has_the_sites_the_brief_asks_for(demo_city: Municipality) -> None:
    kinds = sorted(Site.objects.values_list("kind", flat=True))
    assert kinds == sorted(
        [
            SiteKind.MAIN_OFFICE,
            SiteKind.BRANCH_OFFICE,
            SiteKind.BRANCH_OFFICE,
            SiteKind.TEMPORARY,
            SiteKind.POST_OFFICE,
        ]
    )
    post = Site.objects.get(kind=SiteKind.POST_OFFICE)
    assert sorted(post.procedures.values_list("code", flat=True)) == ["cert_renewal", "pin_reset"]


def test_home_page_lists_sites_with_their_hours_in_japanese(
    demo_city: Municipality, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC))
    html = Client().get("/").content.decode()
    assert "デモ市役所 本庁舎" in html
    assert "08:30〜17:15" in html
    assert "デモ中央郵便局" in html
    assert '<html lang="ja">' in html


@pytest.mark.frozen_at(DEMO_MORNING)
def test_two_demo_municipalities_each_have_their_own_sites_staff_and_cards(
    demo_printed: str,
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from madoguchi.demo.city import DEMO_CITIES
    from madoguchi.issuance.models import CardRecord
    from madoguchi.staff.models import StaffUser

    # over the kept one-municipality run with the same residents and seed (DEMO_COMMAND)
    assert Municipality.objects.count() == 1
    out = StringIO()
    call_command(
        "demo",
        residents=DEMO_COMMAND.residents,
        seed=DEMO_COMMAND.seed,
        municipalities=2,
        no_serve=True,
        stdout=out,
    )
    printed = out.getvalue()
    first, second = DEMO_CITIES[0], DEMO_CITIES[1]
    for city in (first, second):
        assert f"住民向けサイト: /m/{city.code}/" in printed
        assert f"ユーザー名 {city.username('manager')}" in printed
        staff = StaffUser.objects.filter(username__startswith=f"{city.staff_prefix}-")
        assert {u.municipality_id for u in staff} == {Municipality.objects.get(code=city.code).pk}
        cards = CardRecord.objects.filter(application_id__startswith=city.card_prefix)
        assert cards.exists()
        assert {c.municipality.code for c in cards} == {city.code}
    # each residents' site shows its own sites only; / lists both municipalities
    second_home = Client().get(f"/m/{second.code}/").content.decode()
    assert "見本町役場 住民課" in second_home and "デモ市役所 本庁舎" not in second_home
    first_home = Client().get(f"/m/{first.code}/").content.decode()
    assert "デモ市役所 本庁舎" in first_home and "見本町役場" not in first_home
    root = Client().get("/").content.decode()
    assert f'href="/m/{first.code}/"' in root and f'href="/m/{second.code}/"' in root
    # a municipality's manager sees its own sites in the staff console, not the other's
    # (its town hall, its branch and its temporary counter)
    assert Site.objects.filter(municipality__code=second.code).count() == 3


def test_the_demo_refuses_more_municipalities_than_it_has() -> None:
    from io import StringIO

    from django.core.management import call_command

    from madoguchi.demo.city import DEMO_CITIES

    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("demo", municipalities=len(DEMO_CITIES) + 1, no_serve=True, stderr=err)
    assert "--municipalities" in err.getvalue()
