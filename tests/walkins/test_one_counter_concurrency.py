"""One counter, called twice at the same moment (two clerks sharing it, or one double click),
calls one visitor and the other call is told the counter is busy — it was refused by the
database's one-visitor-per-counter constraint, an IntegrityError the clerk saw as a server
error. Real PostgreSQL, real threads.

Every call waits, after it has checked that the counter is free and before it picks the
visitor, for the other calls to reach the same point (a barrier with a short bound). With the
counter's row locked first the others cannot reach it, the barrier gives up and the calls go
one after the other; the negative control, without the lock, lets every call past the check
together, and only the constraint stops the second visitor, with an IntegrityError."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from django.db import IntegrityError

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.walkins import services
from madoguchi.walkins.models import AT_COUNTER_STATUSES, QueueTicket
from madoguchi.walkins.services import call_next_ticket, issue_ticket
from tests.frozen_clock import frozen_at
from tests.walkins.conftest import Hall, jst, make_hall
from tests.walkins.test_numbers_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CALLS = 4
TOGETHER_WITHIN_SECONDS = 3.0
"""How long a call that has passed the busy check waits for the others to pass it too."""


@pytest.fixture
def hall() -> Hall:
    return make_hall()


def _calls_at_once(hall: Hall, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    passed_the_check = threading.Barrier(CALLS)
    real = services._counter_procedures

    def after_the_check(*args: Any) -> list[int]:
        # With the lock the others are held at the counter's row: the barrier breaks, go on.
        with contextlib.suppress(threading.BrokenBarrierError):
            passed_the_check.wait(timeout=TOGETHER_WITHIN_SECONDS)
        return real(*args)

    monkeypatch.setattr(services, "_counter_procedures", after_the_check)
    with frozen_at(jst(10)):
        for _ in range(CALLS):
            issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
        return run_together(
            lambda: call_next_ticket(
                site=hall.site, counter=hall.counter_1, actor=Actor("staff:1:clerk")
            ),
            threads=CALLS,
        )


def _at_counter(hall: Hall) -> int:
    return QueueTicket.objects.filter(
        counter=hall.counter_1, status__in=AT_COUNTER_STATUSES
    ).count()


def test_one_counter_called_twice_at_once_calls_one_visitor(
    hall: Hall, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = _calls_at_once(hall, monkeypatch)
    called = [r for r in results if isinstance(r, QueueTicket)]
    busy = [r for r in results if isinstance(r, DomainError) and r.code == "counter_busy"]
    assert (len(called), len(busy)) == (1, CALLS - 1), results
    assert _at_counter(hall) == 1


def test_negative_control_without_the_counters_lock_calls_several_to_one_counter(
    hall: Hall, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "_hold_counter", lambda counter: None)
    results = _calls_at_once(hall, monkeypatch)
    assert any(isinstance(r, IntegrityError) for r in results), results
    assert _at_counter(hall) == 1
