"""Confirmation and day-before reminder e-mails to residents (Japanese, plain text).

Composition only: which reservations get a reminder, and marking them, is the command's job.
"""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from madoguchi.core.links import public_url
from madoguchi.reservations.visit import Visit


def _message(kind: str, visit: Visit, to: str) -> EmailMessage:
    context = {"visit": visit, "lookup_url": public_url("resident_site:lookup", code=visit.code)}
    # Residents' mail is Japanese whatever language the sending request (or command) used.
    with translation.override("ja"):
        subject = render_to_string(f"reservations/mail/{kind}_subject.txt", context)
        body = render_to_string(f"reservations/mail/{kind}_body.txt", context)
    return EmailMessage(subject=" ".join(subject.split()), body=body, to=[to])


def confirmation_message(visit: Visit, to: str) -> EmailMessage:
    """The 「予約を受け付けました」 mail: code, date and time, site, what to bring."""
    return _message("confirmation", visit, to)


def reminder_message(visit: Visit, to: str) -> EmailMessage:
    """The day-before 「明日はご予約の日です」 mail with the same facts."""
    return _message("reminder", visit, to)


def send_confirmation(visit: Visit, to: str) -> None:
    """Send the confirmation; call it from `transaction.on_commit` (nothing leaves on rollback)."""
    confirmation_message(visit, to).send(fail_silently=False)


def send_reminder(visit: Visit, to: str) -> None:
    """Send the day-before reminder."""
    reminder_message(visit, to).send(fail_silently=False)


def send_confirmation_on_commit(booked: Any) -> None:
    """Queue the confirmation of reservation `booked` for after its transaction commits.

    Nothing is queued without an e-mail address; on rollback nothing is sent.
    """
    if not booked.email:
        return
    visit = Visit.of(booked)
    address = booked.email
    transaction.on_commit(lambda: send_confirmation(visit, address))
