"""The .ics calendar file of a booked visit (RFC 5545, via icalendar), in the active language —
the page's where a resident downloads it (`resident_site`), the booking's where a mail attaches
it (`mail.message`): the names as `Visit` gives them in it, the labels and the day-before alarm
through the catalogues (the alarm says what the reminder mail's subject says)."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.utils.translation import gettext, pgettext
from icalendar import Alarm, Calendar, Event

from madoguchi.core import clock
from madoguchi.reservations.visit import Visit

PRODUCT_ID = "-//madoguchi//resident_site//JA"


def visit_calendar(
    visit: Visit, *, cancelled: bool = False, sequence: int = 0, uid_domain: str = "madoguchi"
) -> bytes:
    """One VEVENT for `visit`, times in UTC (no VTIMEZONE needed), with a reminder the day before.

    The UID is stable per reservation code and `sequence` is the booking's revision (RFC 5545
    3.8.7.4: a calendar takes an entry with the same UID as an update only when its SEQUENCE
    is higher), so re-importing after a reschedule moves the entry instead of adding a second
    one, and a cancelled booking's file (STATUS:CANCELLED, no alarm) cancels it.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"reservation-{visit.code}@{uid_domain}")
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("dtstamp", clock.now().astimezone(dt.UTC))
    event.add("dtstart", visit.starts_at.astimezone(dt.UTC))
    event.add("dtend", visit.ends_at.astimezone(dt.UTC))
    brackets = pgettext("parenthetical note", "（%(text)s）")
    event.add("summary", visit.procedure_name + brackets % {"text": visit.site_name})
    event.add("location", f"{visit.site_name} {visit.site_address}")
    colon = pgettext("label separator", "：")
    lines = [
        f"{gettext('予約コード')}{colon}{visit.code}",
        f"{gettext('手続き')}{colon}{visit.procedure_name}",
        f"{gettext('持ち物')}{colon}".rstrip(),
    ]
    lines += [f"・{item}" for item in visit.documents]
    if visit.is_proxy:
        lines.append(gettext("代理人が来庁します"))
    event.add("description", "\n".join(lines))
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        subject = render_to_string("reservations/mail/reminder_subject.txt", {"visit": visit})
        alarm.add("description", " ".join(subject.split()))
        alarm.add("trigger", dt.timedelta(days=-1))
        event.add_component(alarm)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
