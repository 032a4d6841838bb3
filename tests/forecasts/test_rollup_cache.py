"""The roll-up kept whole: a view with nothing changed loads no municipality's report, sums
nothing and takes no municipality's input digest, in the same number of statements however many
municipalities there are; each kind of change to its inputs that is not a booking shows on the
next view, and the booking, notice and hand-over figures within `rollup.FIGURES_MAX_AGE` — the
bound the page states — each equal to a roll-up built afresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.changes import planning_inputs_changed
from madoguchi.core.validators import municipality_code_check_digit
from madoguchi.forecasts import report_cache, report_signing, rollup, rollup_inputs
from madoguchi.forecasts.kept import pickled
from madoguchi.forecasts.models import KeptRollup, RollupInputsChanges
from madoguchi.forecasts.report import ReportV1, build_report, canonical_bytes, to_json
from madoguchi.forecasts.report_import import import_report
from madoguchi.issuance.models import CardStatus
from madoguchi.issuance.services import store_application_counts
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
        self.digests_taken = 0

    def clear(self) -> None:
        self.rollups, self.reports_loaded, self.digests_taken = 0, 0, 0
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

    digests = report_cache.report_inputs_digests

    def counting_digests(ids: Any, **kwargs: Any) -> Any:
        done.digests_taken += 1
        return digests(ids, **kwargs)

    monkeypatch.setattr(rollup, "build_rollup", counting_rollup)
    monkeypatch.setattr(rollup, "report_inputs_digests", counting_digests)
    monkeypatch.setattr(report_cache, "build_report", counting_report)
    monkeypatch.setattr(ReportV1, "load", classmethod(counting_load))
    return done


def _town(code: str, name: str) -> Municipality:
    town = offices.municipality(code=code, name=name)
    offices.site(town)
    return town


@pytest.fixture
def two_cities(django_capture_on_commit_callbacks: Any) -> tuple[Municipality, Municipality]:
    # committed, as a test's own changes are: the roll-up's count asked for by these writes
    # runs now (a transaction counts once, so a count left pending would take the test's)
    with django_capture_on_commit_callbacks(execute=True):
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
    assert "時点のものです（最大5分前。" in twice.content.decode()  # the bound, stated
    assert (work.rollups, work.reports_built, work.reports_loaded) == (0, [], 0)
    assert client.get("/staff/planning/rollup/rollup.csv").status_code == 200
    assert (work.rollups, work.reports_built, work.reports_loaded) == (0, [], 0)
    assert KeptRollup.objects.count() == 1


Changes = list[tuple[str, Callable[[], Any]]]


def _changes(first: Municipality, second: Municipality) -> tuple[Changes, Changes]:
    """Each kind of input change, named, and the change itself: those that are not bookings,
    then the booking, notice and hand-over figures."""
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

    def applications_imported() -> None:  # written in bulk: the service says so itself
        store_application_counts(
            municipality=first,
            counts={dt.date(2026, 11, 16): 40, dt.date(2026, 11, 23): 55},
            actor=Actor.system("test"),
        )

    def contractor_added() -> None:
        StaffUser.objects.create_user(
            username="itaku", password="x" * 12, role=Role.CONTRACTOR, municipality=first
        )

    def town_added() -> None:
        offices.municipality(code="203009", name="さくら村")  # no site yet: it can be removed

    def town_removed() -> None:
        Municipality.objects.filter(code="203009").delete()

    return [
        ("a municipality renamed", renamed),
        ("a counter added", counter_added),
        ("a post office consigned", post_office),
        ("application counts imported", applications_imported),
        ("a contractor added", contractor_added),
        ("a municipality added", town_added),
        ("a municipality removed", town_removed),
    ], [
        ("a seat moved between two slots", seat_moved),
        ("a card noticed", card_noticed),
    ]


def test_each_kind_of_change_to_the_inputs_shows_on_the_next_view(
    work: Work,
    two_cities: tuple[Municipality, Municipality],
    django_capture_on_commit_callbacks: Any,
) -> None:
    first, second = two_cities
    with django_capture_on_commit_callbacks(execute=True):  # the set-up commits
        not_bookings, _ = _changes(first, second)
    base = rollup.kept_rollup(today=TODAY).entries[0].report
    for what, change in not_bookings:
        work.clear()
        rollup.kept_rollup(today=TODAY)
        assert work.rollups == 0, f"kept before: {what}"
        with django_capture_on_commit_callbacks(execute=True):  # the change commits
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


def test_booking_figures_show_within_the_stated_bound(
    work: Work,
    two_cities: tuple[Municipality, Municipality],
    frozen: time_machine.Traveller,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first, second = two_cities
    _, bookings = _changes(first, second)
    for what, change in bookings:
        before = rollup.kept_rollup(today=TODAY)
        counted = rollup_inputs.changes()
        work.clear()
        with django_capture_on_commit_callbacks(execute=True):
            change()
        assert rollup_inputs.changes() == counted, f"a booking figure counted: {what}"
        frozen.shift(rollup.FIGURES_MAX_AGE - dt.timedelta(seconds=1))
        assert rollup.kept_rollup(today=TODAY) == before, f"kept within the bound: {what}"
        assert (work.rollups, work.reports_loaded) == (0, 0), what
        frozen.shift(dt.timedelta(seconds=1))
        after = rollup.kept_rollup(today=TODAY)
        assert work.rollups == 1, f"not rebuilt after the bound: {what}"
        assert after != before, what
        assert after == rollup.build_rollup(today=TODAY), what


def test_inputs_unchanged_past_the_bound_are_checked_again_not_rebuilt(
    work: Work, two_cities: tuple[Municipality, Municipality], frozen: time_machine.Traveller
) -> None:
    first_view = rollup.kept_rollup_view(today=TODAY)
    frozen.shift(rollup.FIGURES_MAX_AGE)
    work.clear()
    again = rollup.kept_rollup_view(today=TODAY)
    assert (work.rollups, work.reports_built) == (0, [])
    assert again.rollup == first_view.rollup
    assert again.checked_at == first_view.checked_at + rollup.FIGURES_MAX_AGE
    assert KeptRollup.objects.get().checked_at == again.checked_at


def test_a_sign_in_does_not_count_as_a_change_and_a_role_change_does(
    two_cities: tuple[Municipality, Municipality], django_capture_on_commit_callbacks: Any
) -> None:
    first, _ = two_cities
    with django_capture_on_commit_callbacks(execute=True):
        user = StaffUser.objects.create_user(
            username="clerk", password="x" * 12, role=Role.OFFICIAL, municipality=first
        )
    counted = rollup_inputs.changes()
    with django_capture_on_commit_callbacks(execute=True):
        user.last_login = clock.now()
        user.save(update_fields=["last_login"])
    assert rollup_inputs.changes() == counted
    with django_capture_on_commit_callbacks(execute=True):
        user.role = Role.CONTRACTOR
        user.save(update_fields=["role"])
    assert rollup_inputs.changes() == (counted or 0) + 1


def test_a_change_rolled_back_is_not_counted(
    two_cities: tuple[Municipality, Municipality], django_capture_on_commit_callbacks: Any
) -> None:
    first, _ = two_cities
    counted = rollup_inputs.changes()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                Counter.objects.create(site=first.sites.get(), name="取消")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == [] and rollup_inputs.changes() == counted


def _counting_statements(queries: CaptureQueriesContext) -> list[str]:
    table = RollupInputsChanges._meta.db_table
    return [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_a_transaction_saving_many_watched_rows_counts_once_in_one_statement(
    two_cities: tuple[Municipality, Municipality], django_capture_on_commit_callbacks: Any
) -> None:
    """An import that saves many watched rows is one change: one UPDATE after its commit, not
    one per row; the next transaction counts again."""
    first, _ = two_cities
    site = first.sites.get()
    rollup_inputs.count_change()  # the counted row exists: a count is one UPDATE
    counted = rollup_inputs.changes() or 0
    for round_ in (1, 2):
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
            transaction.atomic(),
        ):
            for n in range(5):
                Counter.objects.create(site=site, name=f"{round_}-{n}番")
            site.save()
            planning_inputs_changed.send(sender=None)
        assert len(_counting_statements(queries)) == 1, _counting_statements(queries)
        assert rollup_inputs.changes() == counted + round_


def test_a_change_in_a_savepoint_rolled_back_leaves_the_next_change_counted(
    two_cities: tuple[Municipality, Municipality], django_capture_on_commit_callbacks: Any
) -> None:
    """The count asked for inside a savepoint goes with it when it rolls back; a change made
    after it in the same transaction asks again and is counted at the commit."""
    first, _ = two_cities
    site = first.sites.get()
    counted = rollup_inputs.changes() or 0
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():
                Counter.objects.create(site=site, name="取消")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        Counter.objects.create(site=site, name="残る窓口")
    assert rollup_inputs.changes() == counted + 1
    assert set(site.counters.values_list("name", flat=True)) >= {"残る窓口"}
    assert not site.counters.filter(name="取消").exists()


def test_without_the_count_a_counter_added_would_not_show_until_the_bound(
    work: Work,
    two_cities: tuple[Municipality, Municipality],
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Control: the count is what makes a change that is not a booking show on the next view."""
    first, _ = two_cities
    monkeypatch.setattr(rollup_inputs, "changes", lambda: 0)
    rollup.kept_rollup(today=TODAY)
    work.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Counter.objects.create(site=first.sites.get(), name="3番")
    rollup.kept_rollup(today=TODAY)
    assert work.rollups == 0


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


def _view_work(work: Work, view: Callable[[], Any]) -> tuple[int, int, int]:
    """Statements run, municipality reports loaded and input digests taken by one view."""
    work.clear()
    with CaptureQueriesContext(connection) as queries:
        view()
    return len(queries.captured_queries), work.reports_loaded, work.digests_taken


def _coded(first_five: str) -> str:
    return first_five + str(municipality_code_check_digit(first_five))


def test_a_kept_view_does_the_same_work_however_many_municipalities(
    work: Work,
    two_cities: tuple[Municipality, Municipality],
    django_capture_on_commit_callbacks: Any,
) -> None:
    def kept() -> Any:
        return rollup.kept_rollup(today=TODAY)

    def old_path() -> Any:  # the kept reports loaded and summed on every view
        return rollup.build_rollup(today=TODAY)

    kept()
    kept_with_two, old_with_two = _view_work(work, kept), _view_work(work, old_path)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            _town(_coded(f"{98000 + n:05d}"), f"計測町{n + 1}")
    assert len(kept().entries) == 5  # the new towns' reports built and the roll-up kept again
    kept_with_five, old_with_five = _view_work(work, kept), _view_work(work, old_path)
    assert kept_with_five == kept_with_two
    assert kept_with_two[1:] == (0, 0)  # no municipality's report loaded, no digest taken
    # controls: the old path loads every municipality's report on each view, and the previous
    # kept view took every municipality's input digest on each view
    assert (old_with_two[1], old_with_five[1]) == (2, 5)
    assert _view_work(work, lambda: rollup.rollup_inputs_digest(today=TODAY))[2] == 1


def test_the_kept_rollup_keeps_of_each_report_what_it_shows(
    work: Work, two_cities: tuple[Municipality, Municipality]
) -> None:
    """The monthly forecast and the holding by age band are not in the kept roll-up (they made
    its payload, unpickled on every view, grow with every municipality's report whole), and the
    CSV is the same as one summed from the reports whole."""
    kept = rollup.kept_rollup(today=TODAY)
    whole = report_cache.kept_reports(list(Municipality.objects.order_by("code")), today=TODAY)
    assert all(r.forecast.by_month for r in whole)  # what would otherwise be kept
    assert all(
        not e.report.forecast.by_month and not e.report.holding.by_age_band for e in kept.entries
    )
    summed_whole = rollup.summarise([rollup.Entry(r, rollup.LIVE) for r in whole])
    assert rollup.rollup_csv(kept) == rollup.rollup_csv(summed_whole)
    kept_bytes, whole_bytes = (len(pickled(r, version="v")) for r in (kept, summed_whole))
    assert kept_bytes < whole_bytes / 2, (kept_bytes, whole_bytes)
