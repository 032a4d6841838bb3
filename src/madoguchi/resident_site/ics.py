"""The .ics calendar file a resident downloads for a booked visit (RFC 5545, via icalendar)."""

from __future__ import annotations

import datetime as dt

from icalendar import Alarm, Calendar, Event

from madoguchi.core import clock
from madoguchi.reservations.visit import Visit

PRODUCT_ID = "-//madoguchi//resident_site//JA"


def visit_calendar(visit: Visit, *, uid_domain: str = "madoguchi") -> bytes:
    """One VEVENT for `visit`, times in UTC (no VTIMEZONE needed), with a reminder the day before.

    The UID is stable per reservation code, so re-importing after a reschedule updates the entry
    instead of adding a second one in the resident's calendar.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"reservation-{visit.code}@{uid_domain}")
    event.add("dtstamp", clock.now().astimezone(dt.UTC))
    event.add("dtstart", visit.starts_at.astimezone(dt.UTC))
    event.add("dtend", visit.ends_at.astimezone(dt.UTC))
    event.add("summary", f"{visit.procedure_name}（{visit.site_name}）")
    event.add("location", f"{visit.site_name} {visit.site_address}")
    lines = [f"予約コード: {visit.code}", f"手続き: {visit.procedure_name}", "持ち物:"]
    lines += [f"・{item}" for item in visit.documents]
    if visit.is_proxy:
        lines.append("代理人が来庁します。")
    event.add("description", "\n".join(lines))
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"明日は{visit.procedure_name}の予約日です（予約コード {visit.code}）")
    alarm.add("trigger", dt.timedelta(days=-1))
    event.add_component(alarm)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
