"""Day-before reminders (e-mail and SMS): which reservations get one, sending, and remembering
it was sent. Every booking with a contact gets one — card pick-ups too — on every channel its
contact allows (`reservations.notify`).

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

from django.db.models import Q

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.reservations import mail, notify
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.reservations.services import claim_reminder, release_reminder
from madoguchi.reservations.visit import Visit

REMIND_ACTION = "reservation.remind"
SUBJECT_TYPE = "reservations.Reservation"


def pending_reminders(day: dt.date) -> list[Reservation]:
    """Booked reservations on business date `day` with a contact (an e-mail address or a mobile
    number), not yet reminded."""
    mobile = Q(phone__regex=r"^0[789]0[0-9]{8}$")
    candidates = (
        Reservation.objects.select_related("slot__site__municipality", "procedure")
        .filter(
            Q(status=ReservationStatus.BOOKED),
            Q(slot__starts_at__gte=clock.at(day, dt.time(0))),
            Q(slot__starts_at__lt=clock.at(day + dt.timedelta(days=1), dt.time(0))),
            ~Q(email="") | mobile,
        )
        .exclude(reminder_sent_for=day)
        .order_by("slot__starts_at", "id")
    )
    return [r for r in candidates if notify.channels_of(r)]


@dataclass(frozen=True)
class ReminderResult:
    code: str
    sent: bool
    error: str = ""


def send_day_before_reminders(*, day: dt.date | None = None) -> Iterator[ReminderResult]:
    """Send the reminder for every pending reservation on `day` (default: tomorrow).

    The texts name the visit's own date, and whether online changes are still open is judged
    on the day the job runs. One failing address does not stop the others; a reservation no
    channel reached is not recorded, so the next run tries it again (one that a channel reached
    is recorded, with the channels, and its failed channel reported). Yields one result per
    reservation.
    """
    visit_on = day or clock.today() + dt.timedelta(days=1)
    actor = Actor.system("send_reminders")
    for booked in pending_reminders(visit_on):
        if not claim_reminder(code=booked.code, visit_on=visit_on):
            continue  # another run took it
        deliveries = notify.deliver(
            mail.REMINDER,
            Visit.of(booked, language=booked.language),
            email=booked.email,
            phone=booked.phone,
        )
        reached = [d.channel for d in deliveries if d.sent]
        errors = "; ".join(f"{d.channel}: {d.error}" for d in deliveries if not d.sent)
        if not reached:
            release_reminder(code=booked.code, visit_on=visit_on)
            yield ReminderResult(booked.code, sent=False, error=errors)
            continue
        record_audit_event(
            actor=actor,
            action=REMIND_ACTION,
            subject_type=SUBJECT_TYPE,
            subject_id=booked.code,
            after={"visit_on": visit_on.isoformat(), "channels": reached},
        )
        yield ReminderResult(booked.code, sent=True, error=errors)
