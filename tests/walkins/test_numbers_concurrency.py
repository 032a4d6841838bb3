"""Ticket numbers stay unique and gap-free when many kiosks issue at the same moment.

Real PostgreSQL, real threads, each with its own connection. The negative control shows that
the obvious "highest number today + 1" allocation hands out the same number twice under the
same load, so the main test is able to see the failure it guards against.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from madoguchi.core.audit import Actor
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.services import issue_ticket
from tests.frozen_clock import frozen_at
from tests.walkins.conftest import Hall, jst, make_hall

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

KIOSKS = 12
WAIT_AT_MOST_SECONDS = 120
"""Only a broken test waits this long at a barrier (a thread that never came); the barrier then
breaks and every thread's `BrokenBarrierError` fails the assertions instead of hanging the run."""


def run_together(work: Callable[[], object], threads: int = KIOSKS) -> list[object]:
    """Start `threads` copies of `work` at one barrier; return results and exceptions."""
    barrier = threading.Barrier(threads)
    results: list[object] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=WAIT_AT_MOST_SECONDS)
            outcome: object = work()
        except Exception as error:  # the caller inspects what went wrong
            outcome = error
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=2 * WAIT_AT_MOST_SECONDS)
    assert not any(thread.is_alive() for thread in pool), "a thread is still running"
    return results


@pytest.fixture
def hall() -> Hall:
    return make_hall()


def test_concurrent_issuers_get_unique_sequential_numbers(hall: Hall) -> None:
    with frozen_at(jst(10)):
        results = run_together(
            lambda: (
                issue_ticket(
                    site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident("kiosk")
                ).number
            )
        )
    assert sorted(results) == list(range(1, KIOSKS + 1))  # type: ignore[type-var]  # ints, or the exceptions that fail the test
    numbers = list(QueueTicket.objects.order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, KIOSKS + 1))


def test_negative_control_highest_plus_one_hands_out_duplicates(hall: Hall) -> None:
    """Everyone reads the highest number before anyone writes: the race the real code closes."""
    read_done = threading.Barrier(KIOSKS)
    handed_out: list[int] = []
    lock = threading.Lock()

    def naive_issue() -> int:
        with transaction.atomic():
            highest = QueueTicket.objects.filter(
                site=hall.site, business_day=jst(10).date()
            ).aggregate(top=Max("number"))["top"]
            number = (highest or 0) + 1
            with lock:
                handed_out.append(number)
            read_done.wait(timeout=WAIT_AT_MOST_SECONDS)
            QueueTicket.objects.create(
                site=hall.site,
                procedure=hall.cert_renewal,
                business_day=jst(10).date(),
                number=number,
                issued_at=jst(10),
            )
        return number

    results = run_together(naive_issue)
    assert len(set(handed_out)) < len(handed_out), "the naive allocation should collide"
    rejected = [r for r in results if isinstance(r, IntegrityError)]
    assert rejected, "only the unique constraint stops the duplicates"
    assert QueueTicket.objects.count() == KIOSKS - len(rejected)


def test_counters_calling_at_once_never_get_the_same_visitor(hall: Hall) -> None:
    from madoguchi.offices.models import Counter
    from madoguchi.walkins.services import call_next_ticket

    counters = [hall.counter_1, hall.counter_2] + [
        Counter.objects.create(site=hall.site, name=f"{n}番窓口") for n in range(3, 7)
    ]
    with frozen_at(jst(10)):
        for _ in range(4):
            issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
        free = list(counters)
        lock = threading.Lock()

        def call() -> int | None:
            with lock:
                counter = free.pop()
            ticket = call_next_ticket(site=hall.site, counter=counter, actor=Actor("staff:1:x"))
            return None if ticket is None else ticket.number

        results = run_together(call, threads=len(counters))
    assert sorted(r for r in results if r is not None) == [1, 2, 3, 4]  # type: ignore[type-var]  # ints, or the exceptions that fail the test
    assert results.count(None) == 2


def test_concurrent_issuers_number_each_prefix_group_gap_free(hall: Hall) -> None:
    """Half the kiosks issue card work (A), half certificates (B), all at one moment."""
    from madoguchi.walkins.models import QueuePrefix

    QueuePrefix.objects.create(site=hall.site, procedure=hall.card_pickup, prefix="A")
    QueuePrefix.objects.create(site=hall.site, procedure=hall.cert_renewal, prefix="B")
    procedures = [hall.card_pickup, hall.cert_renewal] * (KIOSKS // 2)
    lock = threading.Lock()

    def issue_one() -> str:
        with lock:
            procedure = procedures.pop()
        return issue_ticket(site=hall.site, procedure=procedure, actor=Actor.resident()).label

    with frozen_at(jst(10)):
        results = run_together(issue_one)
    half = KIOSKS // 2
    assert sorted(results) == sorted(  # type: ignore[type-var]  # labels, or the exceptions that fail the test
        [f"A{n}" for n in range(1, half + 1)] + [f"B{n}" for n in range(1, half + 1)]
    )


def test_negative_control_one_counter_for_two_prefixes_collides(hall: Hall) -> None:
    """Reading the highest number of a prefix group without the counter row's lock hands out
    the same label twice, so the prefix test above can see the failure it guards against."""
    read_done = threading.Barrier(KIOSKS)
    handed_out: list[int] = []
    lock = threading.Lock()

    def naive_issue() -> int:
        with transaction.atomic():
            highest = QueueTicket.objects.filter(
                site=hall.site, business_day=jst(10).date(), prefix="A"
            ).aggregate(top=Max("number"))["top"]
            number = (highest or 0) + 1
            with lock:
                handed_out.append(number)
            read_done.wait(timeout=WAIT_AT_MOST_SECONDS)
            QueueTicket.objects.create(
                site=hall.site,
                procedure=hall.card_pickup,
                business_day=jst(10).date(),
                prefix="A",
                number=number,
                issued_at=jst(10),
            )
        return number

    results = run_together(naive_issue)
    assert len(set(handed_out)) < len(handed_out), "the naive allocation should collide"
    assert any(isinstance(r, IntegrityError) for r in results)
