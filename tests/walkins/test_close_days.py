"""Tickets left open at the end of a day are closed the next night, each through its service."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.services import call_next_ticket, issue_ticket, start_serving
from tests.frozen_clock import frozen_at
from tests.walkins.conftest import TUESDAY, jst, make_hall

pytestmark = pytest.mark.django_db
STAFF = Actor("staff:1:test")


def test_yesterdays_open_tickets_are_closed_and_todays_are_left_alone() -> None:
    hall = make_hall()
    with frozen_at(jst(16), tick=True):
        serving, called, waiting = (
            issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
            for _ in range(3)
        )
        start_serving(
            ticket=call_next_ticket(
                site=hall.site, counter=hall.counter_1, actor=STAFF
            ),  # a ticket is waiting
            actor=STAFF,
        )
        call_next_ticket(site=hall.site, counter=hall.counter_2, actor=STAFF)
    next_day = TUESDAY + dt.timedelta(days=7)
    with frozen_at(jst(9, day=next_day), tick=True):
        today_ticket = issue_ticket(
            site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident()
        )
    with frozen_at(jst(23, day=next_day), tick=True):
        call_command("close_queue_days")
        call_command("close_queue_days")  # idempotent
    statuses = dict(QueueTicket.objects.values_list("pk", "status"))
    assert statuses[serving.pk] == TicketStatus.DONE
    assert statuses[called.pk] == TicketStatus.NO_SHOW
    assert statuses[waiting.pk] == TicketStatus.CANCELLED
    assert statuses[today_ticket.pk] == TicketStatus.WAITING
    assert AuditEvent.objects.filter(actor="system:close-queue-days").count() == 3
