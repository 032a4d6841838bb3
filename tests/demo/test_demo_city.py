"""The demo city is deterministic and idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.apps import apps
from django.test import Client

from madoguchi.demo.city import build_demo_city
from madoguchi.offices.models import Site, SiteKind

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in ("core", "sessions", "admin", "contenttypes", "auth")
    }


def test_loading_the_demo_twice_gives_the_same_rows() -> None:
    build_demo_city(residents=300, seed=7, today=TODAY)
    first = _counts()
    build_demo_city(residents=300, seed=7, today=TODAY)
    assert _counts() == first
    assert first["forecasts.RegisterRecord"] == 300
    assert first["offices.Site"] == 5


def test_the_demo_city_has_the_sites_the_brief_asks_for() -> None:
    build_demo_city(residents=10, seed=1, today=TODAY)
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
    frozen: time_machine.Traveller,
) -> None:
    frozen.move_to(dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC))
    build_demo_city(residents=10, seed=1, today=TODAY)
    html = Client().get("/").content.decode()
    assert "デモ市役所 本庁舎" in html
    assert "08:30〜17:15" in html
    assert "デモ中央郵便局" in html
    assert '<html lang="ja">' in html
