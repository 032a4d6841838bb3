"""A site's hours as short text, for print and for pages that summarise weeks, in the active
language.

Used by the issuance notice (four weeks of each site's hours; the notice is Japanese, so it
renders these under `translation.override("ja")`): the regular week grouped by weekday, the
weekdays never open, dated closures with their reason, special openings, and a temporary
counter's last day. Dates follow the language's named formats (`DAY_FORMAT`), weekdays its
short names, and ranges, list separators and labels are messages every catalogue translates
(`local_text`'s contexts, shared with the residents' templates). Closure reasons are data (a
holiday's name, what the offices admin typed) and stay as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from madoguchi.core import clock
from madoguchi.offices.calendar import SiteDay

_A_MONDAY = dt.date(2024, 1, 1)


def weekday_name(weekday: int) -> str:
    """The short name of `weekday` (0 = Monday) in the active language (月, Wed, 수요일)."""
    return formats.date_format(_A_MONDAY + dt.timedelta(days=weekday), "D")


def jp_date(day: dt.date) -> str:
    """A day with its weekday in the active language: 6月10日（水）, Wed, June 10."""
    return formats.date_format(day, "DAY_FORMAT")


def _range(start: str, end: str) -> str:
    return pgettext("range", "%(start)s〜%(end)s") % {"start": start, "end": end}


def _separator() -> str:
    return pgettext("list separator", "、")


def _span(first: dt.date, last: dt.date) -> str:
    if first == last:
        return jp_date(first)
    return _range(jp_date(first), jp_date(last))


def times_text(periods: Sequence[Any]) -> str:
    return _separator().join(
        _range(f"{clock.to_jst(p.starts_at):%-H:%M}", f"{clock.to_jst(p.ends_at):%-H:%M}")
        for p in periods
    )


def weekly_hours(days: Sequence[SiteDay]) -> str:
    """'月・火・水・金 8:30〜17:15 ／ 木 8:30〜17:15、17:15〜19:00 ／ 土 9:00〜12:00'."""
    by_weekday: dict[int, str] = {}
    for day in days:
        regular = [p for p in day.periods if not p.special]
        if regular and day.day.weekday() not in by_weekday:
            by_weekday[day.day.weekday()] = times_text(regular)
    groups: dict[str, list[str]] = {}
    for weekday in sorted(by_weekday):
        groups.setdefault(by_weekday[weekday], []).append(weekday_name(weekday))
    joiner = pgettext("weekdays joined", "・")
    between = pgettext("weekly hours separator", " ／ ")
    return between.join(f"{joiner.join(names)} {hours}" for hours, names in groups.items())


def site_notes(days: Sequence[SiteDay], open_until: dt.date | None) -> tuple[str, ...]:
    """Closed weekdays, dated closures with their reason, special openings, the last open day."""
    open_weekdays = {d.day.weekday() for d in days if any(not p.special for p in d.periods)}
    seen_weekdays = {d.day.weekday() for d in days}
    never = [weekday_name(w) for w in sorted(seen_weekdays - open_weekdays)]
    closures: list[tuple[dt.date, dt.date, str]] = []
    for day in days:
        if day.is_open or day.day.weekday() not in open_weekdays or not day.closed_reason:
            continue
        if day.outside_period:
            continue
        last = closures[-1] if closures else None
        if last and last[2] == day.closed_reason and (day.day - last[1]).days <= 3:
            closures[-1] = (last[0], day.day, last[2])
        else:
            closures.append((day.day, day.day, day.closed_reason))
    joiner = pgettext("weekdays joined", "・")
    closed = [_("%(weekdays)s曜日") % {"weekdays": joiner.join(never)}] if never else []
    closed += [
        _span(first, last) + pgettext("parenthetical note", "（%(text)s）") % {"text": reason}
        for first, last, reason in closures
    ]
    notes = []
    if closed:
        notes.append(_("休み：%(days)s") % {"days": _separator().join(closed)})
    specials = [
        f"{jp_date(d.day)} {times_text([p for p in d.periods if p.special])}"
        for d in days
        if any(p.special for p in d.periods)
    ]
    if specials:
        notes.append(_("臨時開庁：%(days)s") % {"days": _separator().join(specials)})
    if open_until is not None and days and open_until <= days[-1].day:
        notes.append(
            _("この窓口は%(day)sまでです。")
            % {"day": formats.date_format(open_until, "LONG_DAY_FORMAT")}
        )
    return tuple(notes)
