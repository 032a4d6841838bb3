"""The roll-up kept whole: a view with nothing changed loads no municipality's report and sums
nothing, in the same number of statements however many municipalities there are; each kind of
change to its inputs shows on the next view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.validators import municipality_code_check_digit
from madoguchi.forecasts import report_cache, report_signing, rollup
from madoguchi.forecasts.models import KeptRollup
from madoguchi.forecasts.report import ReportV1, build_report, canonical_bytes, to_json
from madoguchi.forecasts.report_import import import_report
from madoguchi.issuance.models import CardStatus
from madoguchi.offices.models import Counter, Municipality, SiteKind
from madoguchi.reservations.models import Slot
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import login_staff
from tests.frozen_clock import DEMO_EVENING
from tests.issuance import factories as issuance
from tests.offices import factories as offices
from tests.reservations import factories as reservations

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)


class Work:
    """What the roll-up did: roll-ups built, municipality reports built and reports loaded."""

    def __init__(self) -> None:
        self.rollups = 0
        self.reports_built: list[str] = []
        self.reports_loaded = 0

    def clear(self) -> None:
        self.rollups, self.reports_loaded = 0, 0
        self.reports_built.clear()


@pytest.fixture
def work(settings: Any, tmp_path: Path, frozen: time_machine.Traveller, monkeypatch: Any) -> Work:
    frozen.move_to(DEMO_EVENING)
    settings.MADOGUCHI_REPORT_KEY_DIR = tmp_path / "keys"
    settings.MADOGUCHI_REPORT_TRUSTED_KEYS = tmp_path / "trusted.txt"
    done = Work()
    build_rollup, build, load = (
        rollup.build_rollup,
        build_report,
        ReportV1.load.__func__,  # type: ignore[attr-defined]
    )

    def counting_rollup(**kwargs: Any) -> Any:
        done.rollups += 1
        return build_rollup(**kwargs)

    def counting_report(municipality: Any, **kwargs: Any) -> Any:
        done.reports_built.append(municipality.code)
        return build(municipality, **kwargs)

    def counting_load(cls: Any, data: Any) -> Any:
        done.reports_loaded += 1
        return load(cls, data)

    monkeypatch.setattr(rollup, "build_rollup", counting_rollup)
    monkeypatch.setattr(report_cache, "build_report", counting_report)
    monkeypatch.setattr(ReportV1, "load", classmethod(counting_load))
    return done


def _town(code: str, name: str) -> Municipality:
    town = offices.municipality(code=code, name=name)
    offices.site(town)
    return town


@pytest.fixture
def two_cities() -> tuple[Municipality, Municipality]:
    offices.procedure("card_pickup")
    return _town("131041", "基準区"), _town("999997", "あおば町")


def _import(code: str, name: str, base: ReportV1, *, holders: int, as_of: dt.date) -> None:
    data = base.dump()
    data["as_of"] = as_of.isoformat()
    data["municipality"] = {**data["municipality"], "code": code, "name": name}
    data["holding"] = {**data["holding"], "card_holders": holders}
    public_key, value = report_signing.sign(code, canonical_bytes(data))
    report_signing.register_public_key(code, public_key)
    document = {
        "report": data,
        "signature": {"algorithm": "Ed25519", "public_key": public_key, "value": value},
    }
    import_report(to_json(document), file_name="r.json", actor=Actor.system("test"))


def test_a_second_view_of_the_rollup_page_loads_no_report_and_builds_nothing(
    client: Any, work: Work, two_cities: tuple[Municipality, Municipality]
) -> None:
    first, _ = two_cities
    user = StaffUser.objects.create_user(
        username="pref", password="x" * 12, role=Role.ROLLUP, municipality=first
    )
    login_staff(client, user)
    once = client.get("/staff/planning/rollup/")
    assert once.status_code == 200
    assert (work.rollups, sorted(work.reports_built)) == (1, ["131041", "999997"])
    work.clear()
    twice = client.get("/staff/planning/rollup/")
    assert twice.status_code == 200 and "あおば町" in twice.content.decode()
    assert (work.rollups, work.reports_built, work.reports_loaded) == (0, [], 0)
    assert client.get("/staff/planning/rollup/rollup.csv").status_code == 200
    assert (work.rollups, work.reports_built, work.reports_loaded) == (0, [], 0)
    assert KeptRollup.objects.count() == 1


def _changes(first: Municipality, second: Municipality) -> list[tuple[str, Callable[[], Any]]]:
    """Each kind of input change, named, and the change itself."""
    pickup = offices.procedure("card_pickup")
    site = first.sites.get()
    morning = reservations.slot(site, pickup, day=TODAY, time="10:00", capacity=2, booked=1)
    afternoon = reservations.slot(site, pickup, day=TODAY, time="14:00", capacity=2, booked=0)
    card = issuance.card(first)

    def seat_moved() -> None:
        Slot.objects.filter(pk=morning.pk).update(booked=0)
        Slot.objects.filter(pk=afternoon.pk).update(booked=1)

    def card_noticed() -> None:
        card.status = CardStatus.NOTICE_ISSUED
        card.first_notice_issued_at = clock.now()
        card.save()

    def renamed() -> None:
        second.name = "新あおば町"
        second.save()

    def counter_added() -> None:
        Counter.objects.create(site=site, name="3番")

    def post_office() -> None:
        offices.site(first, kind=SiteKind.POST_OFFICE, name="中央郵便局")

    def town_added() -> None:
        offices.municipality(code="203009", name="さくら村")  # no site yet: it can be removed

    def town_removed() -> None:
        Municipality.objects.filter(code="203009").delete()

    return [
        ("a seat moved between two slots", seat_moved),
        ("a card noticed", card_noticed),
        ("a municipality renamed", renamed),
        ("a counter added", counter_added),
        ("a post office consigned", post_office),
        ("a municipality added", town_added),
        ("a municipality removed", town_removed),
    ]


def test_each_kind_of_change_to_the_inputs_shows_on_the_next_view(
    work: Work, two_cities: tuple[Municipality, Municipality]
) -> None:
    first, second = two_cities
    changes = _changes(first, second)
    base = rollup.kept_rollup(today=TODAY).entries[0].report
    for what, change in changes:
        work.clear()
        rollup.kept_rollup(today=TODAY)
        assert work.rollups == 0, f"kept before: {what}"
        change()
        after = rollup.kept_rollup(today=TODAY)
        assert work.rollups == 1, f"not rebuilt after: {what}"
        assert after == rollup.build_rollup(today=TODAY), what  # the same as built afresh
    shown = rollup.kept_rollup(today=TODAY)
    assert {e.report.municipality.name for e in shown.entries} == {"基準区", "新あおば町"}
    assert shown.post_offices == 1
    work.clear()
    _import("011002", "さっぽろ試験市", base, holders=7, as_of=TODAY - dt.timedelta(days=30))
    imported = rollup.kept_rollup(today=TODAY)
    assert work.rollups == 1
    assert "011002" in {e.report.municipality.code for e in imported.entries}
    work.clear()
    _import("011002", "さっぽろ試験市", base, holders=9, as_of=TODAY)  # a later one
    assert {
        e.report.municipality.code: e.report.holding.card_holders
        for e in rollup.kept_rollup(today=TODAY).entries
    }["011002"] == 9
    work.clear()
    next_day = rollup.kept_rollup(today=TODAY + dt.timedelta(days=1))
    assert work.rollups == 1
    assert {e.report.as_of for e in next_day.entries if e.source == rollup.LIVE} == {
        TODAY + dt.timedelta(days=1)
    }


def test_a_rollup_kept_by_another_code_version_is_built_again(
    work: Work, two_cities: tuple[Municipality, Municipality], monkeypatch: Any
) -> None:
    rollup.kept_rollup(today=TODAY)
    work.clear()
    monkeypatch.setattr(rollup, "code_digest", lambda: "another version")
    rollup.kept_rollup(today=TODAY)
    assert work.rollups == 1
    assert work.reports_built == []  # the municipalities' reports are still current


def test_a_kept_rollup_that_no_longer_unpickles_is_built_again(
    work: Work, two_cities: tuple[Municipality, Municipality]
) -> None:
    kept = rollup.kept_rollup(today=TODAY)
    KeptRollup.objects.update(payload=b"not a pickle")
    work.clear()
    assert rollup.kept_rollup(today=TODAY) == kept
    assert work.rollups == 1


def _view_work(work: Work, view: Callable[[], Any]) -> tuple[int, int]:
    """Statements run and municipality reports loaded by one view."""
    work.clear()
    with CaptureQueriesContext(connection) as queries:
        view()
    return len(queries.captured_queries), work.reports_loaded


def _coded(first_five: str) -> str:
    return first_five + str(municipality_code_check_digit(first_five))


def test_a_kept_view_does_the_same_work_however_many_municipalities(
    work: Work, two_cities: tuple[Municipality, Municipality]
) -> None:
    def kept() -> Any:
        return rollup.kept_rollup(today=TODAY)

    def old_path() -> Any:  # the kept reports loaded and summed on every view
        return rollup.build_rollup(today=TODAY)

    kept()
    kept_with_two, old_with_two = _view_work(work, kept), _view_work(work, old_path)
    for n in range(3):
        _town(_coded(f"{98000 + n:05d}"), f"計測町{n + 1}")
    kept()  # the new towns' reports built and the roll-up kept again
    kept_with_five, old_with_five = _view_work(work, kept), _view_work(work, old_path)
    assert kept_with_five == kept_with_two
    assert kept_with_two[1] == 0  # no municipality's report loaded
    # control: the old path loads every municipality's report on each view
    assert (old_with_two[1], old_with_five[1]) == (2, 5)
