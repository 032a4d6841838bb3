"""A site's hours as short Japanese text, for print and for pages that summarise weeks.

Used by the issuance notice (four weeks of each site's hours) and the residents' renewal page
(this month): the regular week grouped by weekday, the weekdays never open, dated closures with
their reason, special openings, and a temporary counter's last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from madoguchi.core import clock
from madoguchi.offices.calendar import SiteDay

WEEKDAYS = "月火水木金土日"


def jp_date(day: dt.date) -> str:
    return f"{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def _span(first: dt.date, last: dt.date) -> str:
    if first == last:
        return jp_date(first)
    return f"{jp_date(first)}〜{jp_date(last)}"


def times_text(periods: Sequence[Any]) -> str:
    return "、".join(
        f"{clock.to_jst(p.starts_at):%-H:%M}〜{clock.to_jst(p.ends_at):%-H:%M}" for p in periods
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
        groups.setdefault(by_weekday[weekday], []).append(WEEKDAYS[weekday])
    return " ／ ".join(f"{'・'.join(names)} {hours}" for hours, names in groups.items())


def site_notes(days: Sequence[SiteDay], open_until: dt.date | None) -> tuple[str, ...]:
    """Closed weekdays, dated closures with their reason, special openings, the last open day."""
    open_weekdays = {d.day.weekday() for d in days if any(not p.special for p in d.periods)}
    seen_weekdays = {d.day.weekday() for d in days}
    never = [WEEKDAYS[w] for w in sorted(seen_weekdays - open_weekdays)]
    closures: list[tuple[dt.date, dt.date, str]] = []
    for day in days:
        if day.is_open or day.day.weekday() not in open_weekdays or not day.closed_reason:
            continue
        if day.closed_reason == "開設期間外":
            continue
        last = closures[-1] if closures else None
        if last and last[2] == day.closed_reason and (day.day - last[1]).days <= 3:
            closures[-1] = (last[0], day.day, last[2])
        else:
            closures.append((day.day, day.day, day.closed_reason))
    closed = [f"{'・'.join(never)}曜日"] if never else []
    closed += [f"{_span(first, last)}（{reason}）" for first, last, reason in closures]
    notes = []
    if closed:
        notes.append("休み：" + "、".join(closed))
    specials = [
        f"{jp_date(d.day)} {times_text([p for p in d.periods if p.special])}"
        for d in days
        if any(p.special for p in d.periods)
    ]
    if specials:
        notes.append("臨時開庁：" + "、".join(specials))
    if open_until is not None and days and open_until <= days[-1].day:
        notes.append(f"この窓口は{open_until.year}年{jp_date(open_until)}までです。")
    return tuple(notes)
