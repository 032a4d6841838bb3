"""The roll-up reads kept reports: a second view builds nothing, a change of inputs is seen."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.core import clock
from madoguchi.forecasts import report_cache
from madoguchi.forecasts.models import KeptReport
from madoguchi.forecasts.report import build_report
from madoguchi.forecasts.rollup import build_rollup
from madoguchi.issuance.models import CardStatus
from madoguchi.offices.models import Closure, ClosureKind, Counter, SiteKind
from madoguchi.reservations.models import Slot
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import login_staff
from tests.frozen_clock import DEMO_EVENING
from tests.issuance import factories as issuance
from tests.offices import factories as offices
from tests.reservations import factories as reservations

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)


@pytest.fixture
def builds(
    settings: Any, tmp_path: Path, frozen: time_machine.Traveller, monkeypatch: Any
) -> list[str]:
    """The codes of the municipalities whose report was built, in order."""
    frozen.move_to(DEMO_EVENING)
    settings.MADOGUCHI_REPORT_KEY_DIR = tmp_path / "keys"
    settings.MADOGUCHI_REPORT_TRUSTED_KEYS = tmp_path / "trusted.txt"
    built: list[str] = []

    def counting(municipality: Any, **kwargs: Any) -> Any:
        built.append(municipality.code)
        return build_report(municipality, **kwargs)

    monkeypatch.setattr(report_cache, "build_report", counting)
    return built


@pytest.fixture
def two_cities() -> tuple[Any, Any]:
    first = offices.municipality(code="131041", name="基準区")
    second = offices.municipality(code="999997", name="あおば町")
    offices.procedure("card_pickup")
    offices.site(first)
    offices.site(second)
    return first, second


def test_a_second_view_of_the_rollup_page_builds_no_report(
    client: Any, builds: list[str], two_cities: tuple[Any, Any]
) -> None:
    first, _ = two_cities
    user = StaffUser.objects.create_user(
        username="pref", password="x" * 12, role=Role.ROLLUP, municipality=first
    )
    login_staff(client, user)
    assert client.get("/staff/planning/rollup/").status_code == 200
    assert sorted(builds) == ["131041", "999997"]
    builds.clear()
    second_view = client.get("/staff/planning/rollup/")
    assert second_view.status_code == 200
    assert builds == []
    assert "あおば町" in second_view.content.decode()
    assert client.get("/staff/planning/rollup/rollup.csv").status_code == 200
    assert builds == []


def test_the_kept_report_is_the_one_built(builds: list[str], two_cities: tuple[Any, Any]) -> None:
    first, _ = two_cities
    built = report_cache.kept_report(first, today=TODAY)
    kept = report_cache.kept_report(first, today=TODAY)
    assert builds == ["131041"]
    assert kept == built
    assert KeptReport.objects.get(municipality=first).report == built.dump()


def test_a_new_counter_rebuilds_that_municipality_only(
    builds: list[str], two_cities: tuple[Any, Any]
) -> None:
    first, _ = two_cities
    build_rollup(today=TODAY)
    builds.clear()
    site = first.sites.get()
    Counter.objects.create(site=site, name="3番")
    rollup = build_rollup(today=TODAY)
    assert builds == ["131041"]
    assert {e.report.municipality.code for e in rollup.entries} == {"131041", "999997"}


def test_a_post_office_added_is_seen_in_the_rollup(
    builds: list[str], two_cities: tuple[Any, Any]
) -> None:
    first, _ = two_cities
    before = build_rollup(today=TODAY)
    assert before.post_office_municipalities == 0
    offices.site(first, kind=SiteKind.POST_OFFICE, name="中央郵便局")
    after = build_rollup(today=TODAY)
    assert after.post_office_municipalities == 1
    assert after.post_offices == 1


def test_a_seat_booked_a_card_noticed_a_new_day_or_the_population_changes_the_digest(
    builds: list[str], two_cities: tuple[Any, Any]
) -> None:
    first, second = two_cities
    site = first.sites.get()
    pickup = offices.procedure("card_pickup")
    morning = reservations.slot(site, pickup, day=TODAY, time="10:00", capacity=2, booked=1)
    afternoon = reservations.slot(site, pickup, day=TODAY, time="14:00", capacity=2, booked=0)
    card = issuance.card(first)
    seen = {report_cache.report_inputs_digest(first, today=TODAY)}
    assert report_cache.report_inputs_digest(first, today=TODAY) in seen  # stable when unchanged
    other = report_cache.report_inputs_digest(second, today=TODAY)

    def changed() -> None:
        digest = report_cache.report_inputs_digest(first, today=TODAY)
        assert digest not in seen
        seen.add(digest)

    # the seat moves from the morning to the afternoon: the totals stay, the digest does not
    Slot.objects.filter(pk=morning.pk).update(booked=0)
    Slot.objects.filter(pk=afternoon.pk).update(booked=1)
    changed()
    card.status = CardStatus.NOTICE_ISSUED
    card.first_notice_issued_at = clock.now()
    card.save()
    changed()
    first.population = 12345
    first.save()
    changed()
    assert report_cache.report_inputs_digest(first, today=TODAY + dt.timedelta(days=1)) not in seen
    assert report_cache.report_inputs_digest(second, today=TODAY) == other  # the other's own


def test_the_municipalitys_name_changed_is_in_the_next_rollup(
    builds: list[str], two_cities: tuple[Any, Any]
) -> None:
    first, _ = two_cities
    build_rollup(today=TODAY)
    first.name = "新基準区"
    first.save()
    rollup = build_rollup(today=TODAY)
    assert "新基準区" in {e.report.municipality.name for e in rollup.entries}


def _manager_client(client: Any, municipality: Any) -> Any:
    user = StaffUser.objects.create_user(
        username="kacho", password="x" * 12, role=Role.MANAGER, municipality=municipality
    )
    login_staff(client, user)
    return client


def _post_offices(content: bytes, kind: str) -> str:
    if kind == "json":
        return str(json.loads(content)["report"]["measures"]["post_offices"])
    rows = dict(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return rows["report.measures.post_offices"]


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_a_second_download_of_the_own_report_builds_nothing_and_a_change_rebuilds_it(
    client: Any, builds: list[str], two_cities: tuple[Any, Any], kind: str
) -> None:
    first, _ = two_cities
    manager = _manager_client(client, first)
    url = f"/staff/planning/report/?format={kind}"
    once = manager.get(url)
    assert once.status_code == 200 and "attachment" in once["Content-Disposition"]
    assert builds == ["131041"]
    twice = manager.get(url)
    assert twice.status_code == 200
    assert builds == ["131041"]  # read from the kept report
    assert twice.content == once.content  # the same report, the same signature
    offices.site(first, kind=SiteKind.POST_OFFICE, name="中央郵便局")
    changed = manager.get(url)
    assert changed.status_code == 200
    assert builds == ["131041", "131041"]  # the inputs changed: built again
    assert _post_offices(once.content, kind) == "0"
    assert _post_offices(changed.content, kind) == "1"  # the download shows the change
    assert KeptReport.objects.get(municipality=first).inputs_digest == (
        report_cache.report_inputs_digest(first, today=clock.today())
    )


def _queries_for_digests(municipalities: list[Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        report_cache.report_inputs_digests([m.pk for m in municipalities], today=TODAY)
    return len(queries.captured_queries)


def test_the_digests_taken_together_are_each_municipalitys_own_in_a_fixed_number_of_queries(
    builds: list[str], two_cities: tuple[Any, Any]
) -> None:
    first, second = two_cities
    third = offices.municipality(code="203009", name="さくら村")
    offices.site(third)
    pickup = offices.procedure("card_pickup")
    for city in (first, second, third):
        issuance.card(city)
        site = city.sites.get()
        Counter.objects.create(site=site, name="臨時")
        reservations.slot(site, pickup, day=TODAY, time="10:00", capacity=2, booked=1)
    Closure.objects.create(
        municipality=second,
        site=second.sites.get(),
        kind=ClosureKind.OTHER,
        first_day=TODAY,
        reason="点検",
    )
    Closure.objects.create(
        municipality=first, kind=ClosureKind.OTHER, first_day=TODAY, reason="年末"
    )
    together = report_cache.report_inputs_digests([first.pk, second.pk, third.pk], today=TODAY)
    alone = {
        m.pk: report_cache.report_inputs_digests([m.pk], today=TODAY)[m.pk]
        for m in (first, second, third)
    }
    assert together == alone  # no row of one municipality leaks into another's digest
    assert len(set(together.values())) == 3
    # one query per table, however many municipalities: the roll-up took this many for each
    assert _queries_for_digests([first]) == _queries_for_digests([first, second, third])
    Closure.objects.filter(municipality=second).delete()
    after = report_cache.report_inputs_digests([first.pk, second.pk, third.pk], today=TODAY)
    assert after[second.pk] != together[second.pk]
    assert (after[first.pk], after[third.pk]) == (together[first.pk], together[third.pk])


def test_the_digests_read_each_table_once(two_cities: tuple[Any, Any]) -> None:
    """The register's snapshots are read once, for the report's last two and the planning
    inputs' newest (each read them: 18 statements, now 17 — one per table)."""
    with CaptureQueriesContext(connection) as queries:
        report_cache.report_inputs_digests([m.pk for m in two_cities], today=TODAY)
    reads = [q["sql"] for q in queries.captured_queries]
    assert sum('FROM "forecasts_registersnapshot"' in sql for sql in reads) == 1, reads
    assert len(reads) == 17, reads


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_export_report_gives_the_kept_report_the_staff_download_gives_and_a_change_rebuilds_it(
    client: Any, builds: list[str], two_cities: tuple[Any, Any], tmp_path: Path, kind: str
) -> None:
    first, _ = two_cities

    def exported() -> bytes:
        out = tmp_path / f"report.{kind}"
        call_command("export_report", "--municipality", first.code, "--format", kind, "-o", out)
        return out.read_bytes()

    once = exported()
    assert builds == ["131041"]
    assert exported() == once  # read from the kept report: the same signed bytes
    assert builds == ["131041"]
    manager = _manager_client(client, first)
    downloaded = manager.get(f"/staff/planning/report/?format={kind}")
    assert downloaded.content == once  # the staff download is the same report, the same bytes
    assert builds == ["131041"]
    offices.site(first, kind=SiteKind.POST_OFFICE, name="中央郵便局")
    changed = exported()
    assert builds == ["131041", "131041"]  # the inputs changed: built again
    assert (_post_offices(once, kind), _post_offices(changed, kind)) == ("0", "1")
    assert manager.get(f"/staff/planning/report/?format={kind}").content == changed
    assert builds == ["131041", "131041"]
