"""Day-before reminder mails: which reservations get one, sending, and remembering it was sent.

Idempotent and race-free: each reminder is claimed with a conditional UPDATE of
`Reservation.reminder_sent_for` (the visit date it was sent for) before the mail leaves, so two
runs at once, or a second run the same day, send nothing twice. A failed mail gives the claim
back for the next run. A reservation moved to another day is reminded again for its new date.
Each sent reminder is also an audit event (`reservation.remind`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.reservations import mail
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.reservations.services import claim_reminder, release_reminder
from madoguchi.reservations.visit import Visit

REMIND_ACTION = "reservation.remind"
SUBJECT_TYPE = "reservations.Reservation"


def pending_reminders(day: dt.date) -> list[Reservation]:
    """Booked reservations on business date `day` with an e-mail address, not yet reminded."""
    return list(
        Reservation.objects.select_related("slot__site", "procedure")
        .filter(
            status=ReservationStatus.BOOKED,
            slot__starts_at__gte=clock.at(day, dt.time(0)),
            slot__starts_at__lt=clock.at(day + dt.timedelta(days=1), dt.time(0)),
        )
        .exclude(email="")
        .exclude(reminder_sent_for=day)
        .order_by("slot__starts_at", "id")
    )


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
        if not claim_reminder(code=booked.code, visit_on=visit_on):
            continue  # another run took it
        try:
            mail.send_reminder(Visit.of(booked), booked.email)
        except OSError as error:  # SMTP failures are OSError subclasses (smtplib, socket)
            release_reminder(code=booked.code, visit_on=visit_on)
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
