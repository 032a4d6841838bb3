"""What residents are sent about a visit — the confirmation, the day-before reminder, a change of
date, a cancellation and a new name or address of the visit's site — as an e-mail (plain text)
and as an SMS (one short text), in the language the resident booked in (`Visit.language`, kept
on the reservation), whatever language the sending request or command runs in.

Composition only: who gets what and when is `reservations.notify`'s job. Every text names the
visit's real date and weekday (never 「明日」: a reminder run for another day must not lie), the
last day of online changes (the municipality's cut-off) and, once it has passed, whom to call;
links point at the public site's configured address (`core.links`). The confirmation and every
change the calendar entry shows — a new date, the cancellation, a site's new name or address —
attach the visit's .ics in the booking's language (`ics.visit_calendar`, its SEQUENCE the
booking's revision, a cancellation's STATUS:CANCELLED), so opening it adds, moves or removes the
calendar entry (decisions 0041, 0044). The reminder attaches nothing: nothing changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from madoguchi.core import clock
from madoguchi.core.links import public_url
from madoguchi.reservations.ics import visit_calendar
from madoguchi.reservations.visit import Visit

CONFIRMATION, REMINDER = "confirmation", "reminder"
RESCHEDULED, CANCELLED = "rescheduled", "cancelled"
PLACE_CHANGED = "place_changed"
KINDS = (CONFIRMATION, REMINDER, RESCHEDULED, CANCELLED, PLACE_CHANGED)
WITH_CALENDAR = (CONFIRMATION, RESCHEDULED, CANCELLED, PLACE_CHANGED)
"""The kinds whose mail attaches the visit's .ics (in the booking's language)."""


def _context(visit: Visit, today: dt.date | None) -> dict[str, Any]:
    return {
        "visit": visit,
        # in the mail's language, also on a device whose browser asks for another
        "lookup_url": public_url(
            "resident_site:lookup", base=visit.site_url, code=visit.code, lang=visit.language
        ),
        "book_url": public_url("resident_site:procedures", base=visit.site_url),
        "changes_open": visit.can_change_on(today or clock.today()),
    }


def message(kind: str, visit: Visit, to: str, *, today: dt.date | None = None) -> EmailMessage:
    """The mail of `kind` (one of `KINDS`) for `visit` to `to`, composed on `today`."""
    context = _context(visit, today)
    # The resident's language, whatever language the sending request (or command) used.
    with translation.override(visit.language):
        subject = render_to_string(f"reservations/mail/{kind}_subject.txt", context)
        body = render_to_string(f"reservations/mail/{kind}_body.txt", context)
        calendar = (
            visit_calendar(visit, cancelled=kind == CANCELLED, sequence=visit.revision)
            if kind in WITH_CALENDAR
            else b""
        )
    message = EmailMessage(subject=" ".join(subject.split()), body=body, to=[to])
    if calendar:
        message.attach(f"madoguchi-{visit.code}.ics", calendar, "text/calendar")
    return message


def sms_text(kind: str, visit: Visit, *, today: dt.date | None = None) -> str:
    """The SMS of `kind` (one of `KINDS`) for `visit`, one line."""
    with translation.override(visit.language):
        text = render_to_string(f"reservations/sms/{kind}.txt", _context(visit, today))
    return " ".join(text.split())


def confirmation_message(visit: Visit, to: str, *, today: dt.date | None = None) -> EmailMessage:
    """The 「予約を受け付けました」 mail: code, date and time, site, what to bring, changes."""
    return message(CONFIRMATION, visit, to, today=today)


def reminder_message(visit: Visit, to: str, *, today: dt.date | None = None) -> EmailMessage:
    """The 「n月j日（曜）はご予約の日です」 mail with the same facts, composed on `today`."""
    return message(REMINDER, visit, to, today=today)


def send_confirmation(visit: Visit, to: str) -> None:
    """Send the confirmation mail now (`reservations.notify` calls it after the commit)."""
    confirmation_message(visit, to).send(fail_silently=False)


def send_reminder(visit: Visit, to: str) -> None:
    """Send the day-before reminder mail now."""
    reminder_message(visit, to).send(fail_silently=False)
