"""The business calendar: which hours each site is open on each date, and why it is closed.

Rules, in order, for one site and one date:
1. a temporary counter is closed outside its opening period (nothing overrides this);
2. the date is closed for: the year-end closure (29 Dec – 3 Jan, when the municipality keeps it),
   a national holiday, a closure entered for the municipality or the site (local holidays,
   J-LIS outages), or the optional "Sunday after the 3rd Saturday" card-system maintenance;
3. an open date has the weekly sessions valid on it; a closed date has none;
4. special openings add hours on any date and override every closure of rule 2.
Card work never runs past 20:00 (`procedure_periods` clamps; models refuse to store such hours).

The loader reads a site's calendar data in a fixed number of queries; the rules run in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import get_language, gettext, gettext_lazy

from madoguchi.core import clock
from madoguchi.core.holidays import national_holiday_name
from madoguchi.offices.models import (
    CARD_SYSTEM_CLOSES_AT,
    Closure,
    OpeningSession,
    Procedure,
    Site,
    SiteKind,
    SpecialOpening,
)

OUT_OF_PERIOD = gettext_lazy("開設期間外")
"""Why a temporary counter is closed outside its opening period (`SiteDay.outside_period`).
Every reason is given in the active language; a holiday's own name only in Japanese."""


@dataclass(frozen=True)
class OpenPeriod:
    """Hours a site is open on one date, with how many counters."""

    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    counters: int
    kind: str
    special: bool = False

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass(frozen=True)
class SiteDay:
    """One date at one site: its open periods, and the reason when it is closed."""

    day: dt.date
    periods: tuple[OpenPeriod, ...]
    closed_reason: str | None
    """In the language active when the day was computed."""
    outside_period: bool = False
    """A temporary counter's day outside its opening period (what callers test, never the
    reason's text, which depends on the language)."""

    @property
    def is_open(self) -> bool:
        return bool(self.periods)


def is_year_end_closure(day: dt.date) -> bool:
    """29 December to 3 January inclusive."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_sunday_after_third_saturday(day: dt.date) -> bool:
    """The Sunday right after the month's 3rd Saturday (card-system maintenance in some places)."""
    if day.weekday() != 6:
        return False
    saturday = day - dt.timedelta(days=1)
    return 15 <= saturday.day <= 21


def _sessions_of(site: Site) -> QuerySet[OpeningSession]:
    """`site`'s opening sessions in their model order (site, weekday, start): for one site, by
    weekday and start — ordered so without the model's "site" first, which joins every read to
    the site table to order by the site's own ordering (0.2 ms of query building per calendar
    for the same rows in the same order). A prefetched list is used as it is."""
    if "opening_sessions" in getattr(site, "_prefetched_objects_cache", {}):
        return site.opening_sessions.all()
    return site.opening_sessions.order_by("weekday", "starts_at_time")


def _closures_of(sites: Sequence[Site]) -> Q:
    """The closures that apply to any of `sites`: their municipalities' own (no site) and each
    site's — the rule `_applies_to` states for one closure and one site."""
    return Q(municipality_id__in={site.municipality_id for site in sites}, site__isnull=True) | Q(
        site_id__in=[site.pk for site in sites]
    )


def _applies_to(closure: Closure, site: Site) -> bool:
    """Whether `closure` closes `site`: its own, or its municipality's (no site) — `_closures_of`
    as a test of one row."""
    if closure.site_id is not None:
        return closure.site_id == site.pk
    return closure.municipality_id == site.municipality_id


@dataclass
class SiteCalendar:
    """A site's calendar data, loaded once; answers questions about any date."""

    site: Site
    sessions: list[OpeningSession]
    closures: list[Closure]
    specials: list[SpecialOpening]
    year_end_closure: bool
    closes_sunday_after_third_saturday: bool

    @classmethod
    def load(cls, site: Site) -> SiteCalendar:
        municipality = site.municipality
        closures = Closure.objects.filter(_closures_of([site]))
        return cls(
            site=site,
            sessions=list(_sessions_of(site)),
            closures=list(closures),
            specials=list(site.special_openings.all()),
            year_end_closure=municipality.year_end_closure,
            closes_sunday_after_third_saturday=municipality.closes_sunday_after_third_saturday,
        )

    @classmethod
    def load_many(cls, sites: Sequence[Site]) -> dict[int, SiteCalendar]:
        """Each of `sites`' calendar (by site id) as `load` reads it, the sessions, closures and
        special openings of all of them in one statement each instead of three per site; each
        site's in the order `load` gives them (ties between closures starting the same day,
        unordered there, by id)."""
        ids = [site.pk for site in sites]
        sessions: dict[int, list[OpeningSession]] = {site_id: [] for site_id in ids}
        for session in OpeningSession.objects.filter(site_id__in=ids).order_by(
            "site_id", "weekday", "starts_at_time"
        ):
            sessions[session.site_id].append(session)
        closures = list(Closure.objects.filter(_closures_of(sites)).order_by("first_day", "pk"))
        specials: dict[int, list[SpecialOpening]] = {site_id: [] for site_id in ids}
        for special in SpecialOpening.objects.filter(site_id__in=ids).order_by(
            "day", "starts_at_time", "pk"
        ):
            specials[special.site_id].append(special)
        return {
            site.pk: cls(
                site=site,
                sessions=sessions[site.pk],
                closures=[closure for closure in closures if _applies_to(closure, site)],
                specials=specials[site.pk],
                year_end_closure=site.municipality.year_end_closure,
                closes_sunday_after_third_saturday=(
                    site.municipality.closes_sunday_after_third_saturday
                ),
            )
            for site in sites
        }

    def closed_reason(self, day: dt.date) -> str | None:
        """Why the site is closed on `day` before special openings, or None if it is not."""
        if not self.site.is_open_on_date(day):
            return str(OUT_OF_PERIOD)
        if self.year_end_closure and is_year_end_closure(day):
            return gettext("年末年始")
        holiday = national_holiday_name(day)
        if holiday:
            japanese = (get_language() or "ja").startswith("ja")
            return holiday if japanese else gettext("国民の祝日")
        for closure in self.closures:
            if closure.covers(day):
                return closure.localized("reason")
        if self.closes_sunday_after_third_saturday and is_sunday_after_third_saturday(day):
            return gettext("システム保守日（第3土曜日の翌日曜日）")
        return None

    def day(self, day: dt.date) -> SiteDay:
        reason = self.closed_reason(day)
        periods: list[OpenPeriod] = []
        if reason is None:
            periods.extend(
                OpenPeriod(
                    day=day,
                    starts_at=clock.at(day, s.starts_at_time),
                    ends_at=clock.at(day, s.ends_at_time),
                    counters=s.counters_open,
                    kind=s.kind,
                )
                for s in self.sessions
                if s.applies_on(day)
            )
        if self.site.is_open_on_date(day):
            periods.extend(
                OpenPeriod(
                    day=day,
                    starts_at=clock.at(day, s.starts_at_time),
                    ends_at=clock.at(day, s.ends_at_time),
                    counters=s.counters_open,
                    kind=_kind_of(day, s.starts_at_time),
                    special=True,
                )
                for s in self.specials
                if s.day == day
            )
        periods.sort(key=lambda p: p.starts_at)
        return SiteDay(
            day=day,
            periods=tuple(periods),
            closed_reason=None if periods else reason,
            outside_period=not self.site.is_open_on_date(day),
        )

    def days(self, first: dt.date, last: dt.date) -> Iterator[SiteDay]:
        day = first
        while day <= last:
            yield self.day(day)
            day += dt.timedelta(days=1)


def _kind_of(day: dt.date, starts: dt.time) -> str:
    if day.weekday() >= 5:
        return "weekend"
    return "evening" if starts >= dt.time(17, 0) else "weekday"


def site_offers(site: Site, procedure: Procedure) -> bool:
    """Whether `site` offers `procedure`: configured for it, and allowed at its kind of site.

    The kind check holds even if the configuration says otherwise: a post office never hands
    over a card.
    """
    if not procedure.allowed_at(site.kind):
        return False
    return site.procedures.filter(pk=procedure.pk).exists()


def procedure_periods(
    calendar: SiteCalendar, procedure: Procedure, day: dt.date
) -> list[OpenPeriod]:
    """The periods on `day` in which `procedure` can be done at the calendar's site."""
    if not procedure.allowed_at(calendar.site.kind):
        return []
    periods = list(calendar.day(day).periods)
    if procedure.needs_card_system:
        limit = clock.at(day, CARD_SYSTEM_CLOSES_AT)
        periods = [
            OpenPeriod(p.day, p.starts_at, min(p.ends_at, limit), p.counters, p.kind, p.special)
            for p in periods
            if p.starts_at < limit
        ]
    return periods


__all__ = [
    "OpenPeriod",
    "SiteCalendar",
    "SiteDay",
    "SiteKind",
    "is_sunday_after_third_saturday",
    "is_year_end_closure",
    "procedure_periods",
    "site_offers",
]
