"""Business calendar rules: which hours a site is open on a date, and why it is closed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.core import clock
from madoguchi.offices.calendar import (
    SiteCalendar,
    is_sunday_after_third_saturday,
    procedure_periods,
    site_offers,
)
from madoguchi.offices.models import (
    Closure,
    ClosureKind,
    Municipality,
    OpeningSession,
    SessionKind,
    Site,
    SiteKind,
    SpecialOpening,
)
from tests.offices import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def municipality() -> Municipality:
    return factories.municipality()


def test_an_ordinary_weekday_is_open_during_its_sessions(municipality: Municipality) -> None:
    site = factories.site(municipality)
    day = SiteCalendar.load(site).day(dt.date(2026, 12, 2))  # a Wednesday
    assert day.is_open
    (period,) = day.periods
    assert period.starts_at == clock.at(dt.date(2026, 12, 2), dt.time(8, 30))
    assert period.ends_at == clock.at(dt.date(2026, 12, 2), dt.time(17, 15))
    assert period.starts_at.tzinfo is not None


def test_a_national_holiday_on_a_monday_closes_the_site(municipality: Municipality) -> None:
    site = factories.site(municipality)
    day = SiteCalendar.load(site).day(dt.date(2027, 1, 11))  # 成人の日, a Monday
    assert not day.is_open
    assert day.closed_reason == "成人の日"


def test_a_substitute_holiday_closes_the_site(municipality: Municipality) -> None:
    site = factories.site(municipality)
    day = SiteCalendar.load(site).day(dt.date(2026, 5, 6))  # 振替休日 for 3 May (Sunday)
    assert not day.is_open


@pytest.mark.parametrize(
    "day", [dt.date(2026, 12, 29), dt.date(2026, 12, 30), dt.date(2027, 1, 4 - 1)]
)
def test_year_end_closure_runs_from_29_december_to_3_january(
    municipality: Municipality, day: dt.date
) -> None:
    site = factories.site(municipality)
    for weekday in (5, 6):  # even a site open at weekends is closed then
        OpeningSession.objects.create(
            site=site,
            weekday=weekday,
            kind=SessionKind.WEEKEND,
            starts_at_time=dt.time(9),
            ends_at_time=dt.time(12),
        )
    result = SiteCalendar.load(site).day(day)
    assert not result.is_open
    assert result.closed_reason in ("年末年始", "元日")


def test_the_day_after_the_year_end_closure_is_open(municipality: Municipality) -> None:
    site = factories.site(municipality)
    assert SiteCalendar.load(site).day(dt.date(2026, 12, 28)).is_open  # Monday
    assert SiteCalendar.load(site).day(dt.date(2027, 1, 4)).is_open  # Monday


def test_a_municipality_may_keep_its_offices_open_at_year_end(municipality: Municipality) -> None:
    municipality.year_end_closure = False
    municipality.save()
    site = factories.site(municipality)
    assert SiteCalendar.load(site).day(dt.date(2026, 12, 29)).is_open  # Tuesday


def test_a_special_opening_overrides_a_holiday(municipality: Municipality) -> None:
    site = factories.site(municipality)
    SpecialOpening.objects.create(
        site=site,
        day=dt.date(2027, 1, 11),
        starts_at_time=dt.time(9),
        ends_at_time=dt.time(12),
        counters_open=1,
        reason="休日開庁",
    )
    day = SiteCalendar.load(site).day(dt.date(2027, 1, 11))
    assert day.is_open
    (period,) = day.periods
    assert period.special
    assert period.ends_at == clock.at(dt.date(2027, 1, 11), dt.time(12))


def test_local_holiday_recurs_every_year_for_every_site(municipality: Municipality) -> None:
    site = factories.site(municipality)
    Closure.objects.create(
        municipality=municipality,
        kind=ClosureKind.LOCAL_HOLIDAY,
        first_day=dt.date(2000, 6, 23),
        recurs_yearly=True,
        reason="慰霊の日",
    )
    day = SiteCalendar.load(site).day(dt.date(2027, 6, 23))  # a Wednesday
    assert not day.is_open
    assert day.closed_reason == "慰霊の日"


def test_a_system_outage_closes_only_its_site(municipality: Municipality) -> None:
    closed_site, other_site = (
        factories.site(municipality, name="A"),
        factories.site(municipality, name="B"),
    )
    Closure.objects.create(
        municipality=municipality,
        site=closed_site,
        kind=ClosureKind.SYSTEM_OUTAGE,
        first_day=dt.date(2026, 12, 2),
        last_day=dt.date(2026, 12, 3),
        reason="J-LIS停止",
    )
    assert not SiteCalendar.load(closed_site).day(dt.date(2026, 12, 3)).is_open
    assert SiteCalendar.load(other_site).day(dt.date(2026, 12, 3)).is_open


def test_sunday_after_the_third_saturday_is_closed_when_configured(
    municipality: Municipality,
) -> None:
    municipality.closes_sunday_after_third_saturday = True
    municipality.save()
    site = factories.site(municipality, weekday_hours=None)
    OpeningSession.objects.create(
        site=site,
        weekday=6,
        kind=SessionKind.WEEKEND,
        starts_at_time=dt.time(9),
        ends_at_time=dt.time(12),
    )
    assert is_sunday_after_third_saturday(dt.date(2026, 12, 20))  # 3rd Saturday is 19 Dec
    assert not SiteCalendar.load(site).day(dt.date(2026, 12, 20)).is_open
    assert SiteCalendar.load(site).day(dt.date(2026, 12, 13)).is_open


def test_a_temporary_counter_is_closed_outside_its_dates(municipality: Municipality) -> None:
    site = factories.site(
        municipality,
        kind=SiteKind.TEMPORARY,
        open_from=dt.date(2026, 12, 1),
        open_until=dt.date(2026, 12, 25),
    )
    calendar = SiteCalendar.load(site)
    assert calendar.day(dt.date(2026, 12, 1)).is_open
    assert calendar.day(dt.date(2026, 12, 25)).is_open
    assert calendar.day(dt.date(2026, 11, 30)).closed_reason == "開設期間外"
    assert not calendar.day(dt.date(2026, 12, 28)).is_open


def test_card_work_is_never_scheduled_past_20(municipality: Municipality) -> None:
    site = factories.site(municipality, weekday_hours=("17:00", "20:00"))
    card = factories.procedure("card_pickup")
    site.procedures.add(card)
    calendar = SiteCalendar.load(site)
    periods = procedure_periods(calendar, card, dt.date(2026, 12, 2))
    assert periods and all(p.ends_at.time() <= dt.time(20) for p in periods)


def test_a_post_office_never_hands_over_a_card(municipality: Municipality) -> None:
    post = factories.site(municipality, kind=SiteKind.POST_OFFICE)
    card, cert = factories.procedure("card_pickup"), factories.procedure("cert_renewal")
    post.procedures.add(card, cert)  # even if misconfigured
    assert not site_offers(post, card)
    assert site_offers(post, cert)
    assert procedure_periods(SiteCalendar.load(post), card, dt.date(2026, 12, 2)) == []


@pytest.mark.parametrize(
    ("language", "holiday", "year_end", "outside", "maintenance"),
    [
        ("ja", "成人の日", "年末年始", "開設期間外", "システム保守日（第3土曜日の翌日曜日）"),
        (
            "en",
            "National holiday",
            "Year-end and New Year holidays",
            "Outside the opening period",
            "System maintenance day (the Sunday after the third Saturday)",
        ),
        ("ko", "공휴일", "연말연시", "운영 기간 외", "시스템 점검일(셋째 토요일 다음 일요일)"),
    ],
)
def test_why_a_site_is_closed_is_said_in_the_active_language(
    municipality: Municipality,
    language: str,
    holiday: str,
    year_end: str,
    outside: str,
    maintenance: str,
) -> None:
    """Residents read the reason on the home, renewal and queue pages in their language; a
    holiday keeps its own name in Japanese only."""
    from django.utils import translation

    municipality.closes_sunday_after_third_saturday = True
    municipality.save()
    office = factories.site(municipality)
    OpeningSession.objects.create(
        site=office,
        weekday=6,
        kind=SessionKind.WEEKEND,
        starts_at_time=dt.time(9),
        ends_at_time=dt.time(12),
    )
    temporary = factories.site(
        municipality,
        name="臨時窓口",
        kind=SiteKind.TEMPORARY,
        open_from=dt.date(2026, 12, 1),
        open_until=dt.date(2026, 12, 25),
    )
    with translation.override(language):
        calendar = SiteCalendar.load(office)
        assert calendar.day(dt.date(2027, 1, 11)).closed_reason == holiday  # 成人の日
        assert calendar.day(dt.date(2026, 12, 30)).closed_reason == year_end
        assert calendar.day(dt.date(2026, 12, 20)).closed_reason == maintenance
        assert SiteCalendar.load(temporary).day(dt.date(2026, 11, 30)).closed_reason == outside


def test_the_hours_text_leaves_out_days_outside_the_opening_period_in_every_language(
    municipality: Municipality,
) -> None:
    """The reason is in the language active when the days were computed, and the hours text
    may be written in another: days outside a temporary counter's period stay out of the
    closures it lists whichever languages the two ran in."""
    from django.utils import translation

    from madoguchi.offices.hours_text import site_notes

    temporary = factories.site(
        municipality,
        kind=SiteKind.TEMPORARY,
        open_from=dt.date(2026, 12, 1),
        open_until=dt.date(2026, 12, 25),
    )
    outside = {"ja": "開設期間外", "en": "Outside the opening period"}
    for computed_in in outside:
        with translation.override(computed_in):
            days = list(
                SiteCalendar.load(temporary).days(dt.date(2026, 11, 23), dt.date(2026, 12, 6))
            )
        assert any(day.closed_reason == outside[computed_in] for day in days)
        for written_in in outside:
            with translation.override(written_in):
                notes = site_notes(days, None)
            assert not any(text in note for note in notes for text in outside.values())


def test_a_calendar_reads_its_sessions_in_their_order_without_the_site_table(
    municipality: Municipality,
) -> None:
    """The sessions come in the model's order — for one site, by weekday then start — read
    from their own table: ordering by the model's "site" first joined every calendar's read to
    the site table for rows of one site. A prefetched list is taken as it is (no read)."""
    site = factories.site(municipality, weekday_hours=None)
    for weekday, start in ((2, "13:00"), (0, "13:00"), (2, "08:30"), (0, "08:30")):
        OpeningSession.objects.create(
            site=site,
            weekday=weekday,
            kind=SessionKind.WEEKDAY,
            starts_at_time=dt.time.fromisoformat(start),
            ends_at_time=dt.time.fromisoformat(start).replace(hour=int(start[:2]) + 3),
        )
    expected = list(OpeningSession.objects.filter(site=site))  # the model's own ordering
    with CaptureQueriesContext(connection) as statements:
        calendar = SiteCalendar.load(site)
    assert calendar.sessions == expected
    assert [(s.weekday, s.starts_at_time.hour) for s in calendar.sessions] == [
        (0, 8),
        (0, 13),
        (2, 8),
        (2, 13),
    ]
    (sessions_read,) = [q["sql"] for q in statements if 'FROM "offices_openingsession"' in q["sql"]]
    assert "JOIN" not in sessions_read, sessions_read

    prefetched = Site.objects.prefetch_related("opening_sessions").get(pk=site.pk)
    with CaptureQueriesContext(connection) as statements:
        again = SiteCalendar.load(prefetched)
    assert again.sessions == expected
    assert not any('FROM "offices_openingsession"' in q["sql"] for q in statements)


def test_many_sites_calendars_are_each_sites_own_read_in_three_statements(
    municipality: Municipality,
) -> None:
    """`SiteCalendar.load_many`: each site's sessions, closures (its own and its municipality's,
    never another site's or municipality's) and special openings, in `load`'s order — read in
    one statement per table for all the sites instead of three per site."""
    other = factories.municipality(code="011002", name="隣町")
    sites = [
        factories.site(municipality, name="A"),
        factories.site(municipality, name="B"),
        factories.site(other, name="C"),
    ]
    for site, first in ((sites[0], dt.date(2026, 12, 2)), (sites[2], dt.date(2026, 12, 9))):
        Closure.objects.create(
            municipality=site.municipality,
            site=site,
            kind=ClosureKind.SYSTEM_OUTAGE,
            first_day=first,
            reason="J-LIS停止",
        )
    for owner in (municipality, other):
        for first in (dt.date(2026, 12, 24), dt.date(2026, 12, 1)):
            Closure.objects.create(
                municipality=owner,
                kind=ClosureKind.LOCAL_HOLIDAY,
                first_day=first,
                reason="市の休日",
            )
    for site, day in ((sites[1], dt.date(2026, 12, 13)), (sites[1], dt.date(2026, 12, 6))):
        SpecialOpening.objects.create(
            site=site,
            day=day,
            starts_at_time=dt.time(9),
            ends_at_time=dt.time(12),
            counters_open=1,
            reason="臨時開庁",
        )
    with CaptureQueriesContext(connection) as statements:
        calendars = SiteCalendar.load_many(sites)
    assert len(statements) == 3, [q["sql"] for q in statements]
    for site in sites:
        alone = SiteCalendar.load(site)
        assert calendars[site.pk] == alone
        assert alone.sessions and alone.closures  # the control: each has rows to compare
    assert len(calendars[sites[0].pk].closures) == 3 and len(calendars[sites[1].pk].specials) == 2
