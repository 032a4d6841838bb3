"""Telling residents about their bookings, by e-mail and SMS: who gets what, and sending it.

The booking service calls `after_booking` for every new booking, whatever the interface (the
residents' pages, phone bookings at the counter, the API): the confirmation leaves after the
booking's transaction commits (`transaction.on_commit`) — at once on the fast path, whose one
statement has committed by then; at the commit of a caller's transaction otherwise; never on a
rollback. A replayed double submit books nothing and sends nothing. A change of date and a
cancellation are told the same way (`after_change`, from their services), and so is a new name
or address of the visit's site (`after_place_change`, from `services.revise_for_new_place`,
with the visit's .ics attached to the mail); the day-before reminder job
(`resident_site.reminders`) sends through `deliver` too.

A booking has a contact when it has an e-mail address or a mobile number (SMS reaches only
070/080/090 numbers; a landline is kept for staff to call). A channel that fails is logged and
reported; it never undoes a committed booking.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction

from madoguchi.core import sms
from madoguchi.reservations import mail
from madoguchi.reservations.visit import Visit

logger = logging.getLogger(__name__)

EMAIL, SMS = "email", "sms"


def channels_of(reservation: Any) -> list[str]:
    """The channels a booking can be told on: `email` when it has an address, `sms` for a
    mobile number."""
    found = []
    if reservation.email:
        found.append(EMAIL)
    if reservation.phone and sms.is_mobile(reservation.phone):
        found.append(SMS)
    return found


@dataclass(frozen=True)
class Delivery:
    """One message on one channel: sent, or the error that stopped it."""

    channel: str
    error: str = ""

    @property
    def sent(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class _Recipient:
    visit: Visit
    email: str
    phone: str


def deliver(
    kind: str, visit: Visit, *, email: str, phone: str, today: dt.date | None = None
) -> list[Delivery]:
    """Send the `kind` message (one of `mail.KINDS`) for `visit` on every channel the
    contact allows; one `Delivery` per channel tried. `today`: the day the text is composed for
    (whether online changes are still open)."""
    results = []
    if email:
        try:
            mail.message(kind, visit, email, today=today).send(fail_silently=False)
        except OSError as error:  # SMTP failures are OSError subclasses (smtplib, socket)
            results.append(Delivery(EMAIL, str(error) or type(error).__name__))
        else:
            results.append(Delivery(EMAIL))
    if phone and sms.is_mobile(phone):
        try:
            sms.send_sms(phone, mail.sms_text(kind, visit, today=today))
        except sms.SmsError as error:
            results.append(Delivery(SMS, str(error) or type(error).__name__))
        else:
            results.append(Delivery(SMS))
    return results


def after_booking(reservations: Sequence[Any]) -> None:
    """Queue the confirmation of each new reservation with a contact for after the commit.

    Called by `services.book_group_reservation` once the booking is written; the reservations
    carry their slot (with site and municipality) and procedure, so composing needs no query.
    """
    _on_commit(mail.CONFIRMATION, reservations)


def after_change(reservation: Any, kind: str) -> None:
    """Queue the message of a change — `mail.RESCHEDULED` (the new date) or `mail.CANCELLED` —
    for after the commit of the service that made it (`reschedule_reservation`,
    `cancel_reservation`); the reservation carries its slot, site, municipality and procedure."""
    _on_commit(kind, [reservation])


def after_place_change(reservations: Sequence[Any]) -> None:
    """Queue `mail.PLACE_CHANGED` — the site's new name or address, the date unchanged, the
    updated .ics attached to the mail — for each of `reservations` with a contact, for after the
    commit of the change (`services.revise_for_new_place`); each carries its slot, site,
    municipality and procedure, and its new revision."""
    _on_commit(mail.PLACE_CHANGED, reservations)


def _on_commit(kind: str, reservations: Sequence[Any]) -> None:
    recipients = [
        _Recipient(Visit.of(r, language=r.language), r.email, r.phone)
        for r in reservations
        if channels_of(r)
    ]
    if recipients:
        # robust: whatever goes wrong in sending is logged, never turned into an error page
        # for a booking that is committed
        transaction.on_commit(partial(_send, kind, recipients), robust=True)


def _send(kind: str, recipients: Iterable[_Recipient]) -> None:
    for recipient in recipients:
        for result in deliver(kind, recipient.visit, email=recipient.email, phone=recipient.phone):
            if not result.sent:
                logger.warning(
                    "%s message for %s by %s failed: %s",
                    kind,
                    recipient.visit.code,
                    result.channel,
                    result.error,
                )
