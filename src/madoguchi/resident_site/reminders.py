"""Day-before reminder mails: which reservations get one, sending, and remembering it was sent.

Idempotent: each sent reminder is recorded as an audit event (`reservation.remind`), and a
reservation with such an event is never reminded again, so running the command twice a day (or
after a crash) sends nothing twice. A reservation moved to another day is reminded again for
its new date (the event records the visit date it was for).

The Reservation model has no `reminder_sent_at` field yet; with one, `pending_reminders` would
claim rows with a conditional UPDATE instead (see the lead's note in the issue).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.models import AuditEvent
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.resident_site import mail
from madoguchi.resident_site.visit import Visit

REMIND_ACTION = "reservation.remind"
SUBJECT_TYPE = "reservations.Reservation"


def _already_reminded(codes: list[str], day: dt.date) -> set[str]:
    events = AuditEvent.objects.filter(
        action=REMIND_ACTION, subject_type=SUBJECT_TYPE, subject_id__in=codes
    ).values_list("subject_id", "after")
    return {code for code, after in events if (after or {}).get("visit_on") == day.isoformat()}


def pending_reminders(day: dt.date) -> list[Reservation]:
    """Booked reservations on business date `day` with an e-mail address, not yet reminded."""
    candidates = list(
        Reservation.objects.select_related("slot__site", "procedure")
        .filter(
            status=ReservationStatus.BOOKED,
            slot__starts_at__gte=clock.at(day, dt.time(0)),
            slot__starts_at__lt=clock.at(day + dt.timedelta(days=1), dt.time(0)),
        )
        .exclude(email="")
        .order_by("slot__starts_at", "id")
    )
    done = _already_reminded([r.code for r in candidates], day)
    return [r for r in candidates if r.code not in done]


@dataclass(frozen=True)
class ReminderResult:
    code: str
    sent: bool
    error: str = ""


def send_day_before_reminders(*, day: dt.date | None = None) -> Iterator[ReminderResult]:
    """Send the reminder for every pending reservation on `day` (default: tomorrow).

    One failing address does not stop the others; a failed one is not recorded, so the next run
    tries it again. Yields one result per reservation.
    """
    visit_on = day or clock.today() + dt.timedelta(days=1)
    actor = Actor.system("send_reminders")
    for booked in pending_reminders(visit_on):
        try:
            mail.send_reminder(Visit.of(booked), booked.email)
        except OSError as error:  # SMTP failures are OSError subclasses (smtplib, socket)
            yield ReminderResult(booked.code, sent=False, error=str(error))
            continue
        record_audit_event(
            actor=actor,
            action=REMIND_ACTION,
            subject_type=SUBJECT_TYPE,
            subject_id=booked.code,
            after={"visit_on": visit_on.isoformat(), "channel": "email"},
        )
        yield ReminderResult(booked.code, sent=True)
