"""Every waiting ticket's wait from one replay equals the wait each ticket's own replay gives.

The phone pages read a site's waits from one replay per queue snapshot
(`estimates.waits_at_counters`, `selectors.wait_by_ticket`); these tests hold it to the
per-ticket estimate (`estimates.wait_minutes_at_counters`, `ticket_view` without a snapshot) on
random queues with counter skills, and show the comparison catches a replay that is wrong.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.offices.calendar import SiteCalendar
from madoguchi.offices.models import Counter
from madoguchi.walkins.estimates import Waiting, wait_minutes_at_counters, waits_at_counters
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.selectors import queue_snapshot, ticket_view
from madoguchi.walkins.services import (
    call_next_ticket,
    check_in_booked_visitor,
    issue_ticket,
    start_serving,
    transfer_ticket,
)
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.walkins.conftest import Hall, jst

KIOSK = Actor.resident("kiosk")
CLERK = Actor("staff:1:clerk")

AllAtOnce = Callable[..., list[int | None]]
Case = tuple[dict[Hashable, float], list[Waiting]]


def _random_cases(count: int, seed: int = 14) -> list[Case]:
    """Queues of up to 25 people over 1–4 counters with random skills; service and free times
    on a coarse grid (many ties) or fractional (rounding)."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        keys: list[Hashable] = [f"c{n}" for n in range(rng.randint(1, 4))]
        coarse = rng.random() < 0.5

        def minutes(high: int, coarse: bool = coarse) -> float:
            return float(rng.randrange(0, high + 1, 5)) if coarse else rng.uniform(0, high)

        free_in = {key: minutes(30) for key in keys}
        queue = [
            Waiting(
                minutes(25),
                frozenset(k for k in keys if rng.random() < 0.6),  # sometimes nobody takes it
            )
            for _ in range(rng.randint(0, 25))
        ]
        cases.append((free_in, queue))
    return cases


def _first_disagreement(all_at_once: AllAtOnce, cases: Sequence[Case]) -> str | None:
    """The first case where `all_at_once` differs from the per-person replay, described."""
    for free_in, queue in cases:
        together = all_at_once(free_in_minutes=free_in, queue=queue)
        one_by_one = [
            wait_minutes_at_counters(free_in_minutes=free_in, ahead=queue[:k], mine=w.counters)
            for k, w in enumerate(queue)
        ]
        if together != one_by_one:
            return f"{free_in} {queue}: {together} != {one_by_one}"
    return None


def _ignoring_skills(
    *, free_in_minutes: Mapping[Hashable, float], queue: Sequence[Waiting]
) -> list[int | None]:
    """A wrong replay: every counter calls the next person, whatever their procedure."""
    heap = [(float(m), i) for i, m in enumerate(free_in_minutes.values())]
    heapq.heapify(heap)
    found: list[int | None] = []
    for person in queue:
        free_at, i = heapq.heappop(heap)
        found.append(math.ceil(round(free_at, 6)) if person.counters else None)
        heapq.heappush(heap, (free_at + person.service_minutes, i))
    return found


def _stopping_at_the_first_idle_counter(
    *, free_in_minutes: Mapping[Hashable, float], queue: Sequence[Waiting]
) -> list[int | None]:
    """A subtler wrong replay: the first counter that finds nobody it takes ends the day for
    everybody (the per-person replay's early return, applied to the whole queue)."""
    found: list[int | None] = [None] * len(queue)
    waiting = list(range(len(queue)))
    heap = [(float(m), i, key) for i, (key, m) in enumerate(free_in_minutes.items())]
    heapq.heapify(heap)
    while heap and waiting:
        free_at, i, key = heapq.heappop(heap)
        taken = next((n for n, k in enumerate(waiting) if key in queue[k].counters), None)
        if taken is None:
            break
        k = waiting.pop(taken)
        found[k] = math.ceil(round(free_at, 6))
        heapq.heappush(heap, (free_at + queue[k].service_minutes, i, key))
    return found


CASES = _random_cases(600)


def test_one_replay_gives_every_persons_own_wait_on_random_queues_with_skills() -> None:
    assert sum(len(queue) for _, queue in CASES) > 5000  # the cases are not trivially small
    assert _first_disagreement(waits_at_counters, CASES) is None


@pytest.mark.parametrize("wrong", [_ignoring_skills, _stopping_at_the_first_idle_counter])
def test_the_comparison_catches_a_wrong_all_at_once_replay(wrong: AllAtOnce) -> None:
    assert _first_disagreement(wrong, CASES) is not None


def test_nobody_waiting_means_no_replay_result() -> None:
    assert waits_at_counters(free_in_minutes={"c0": 3.0}, queue=[]) == []


# --- the site's queue: the snapshot's waits against each ticket's own estimate ---------------


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_snapshots_waits_equal_each_tickets_own_estimate(hall: Hall, seed: int) -> None:
    """Counters with skills (a desk without a terminal, a third counter only for renewals that
    the calendar does not open), a visitor at a counter, transfers to a
    counter at work and to one that is not: every waiting ticket's wait from the snapshot is
    the one its own estimate gives."""
    rng = random.Random(seed)
    hall.counter_2.has_terminal = False
    hall.counter_2.save()
    hall.cert_renewal.needs_terminal = False
    hall.cert_renewal.save()
    renewals_only = Counter.objects.create(site=hall.site, name="3番窓口")
    renewals_only.procedures.set([hall.cert_renewal])
    calendar = SiteCalendar.load(hall.site)  # the day's hours: read once for the whole walk
    with frozen_at(jst(10)) as traveller:
        for _ in range(30):
            issue_ticket(
                site=hall.site,
                procedure=rng.choice([hall.cert_renewal, hall.card_pickup]),
                actor=KIOSK,
                calendar=calendar,
            )
        called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
        assert called is not None
        start_serving(ticket=called, actor=CLERK)
        waiting = QueueTicket.objects.filter(site=hall.site, status="waiting").order_by("pk")
        renewals = [t for t in waiting if t.procedure_id == hall.cert_renewal.pk]
        transfer_ticket(ticket=renewals[3], counter=hall.counter_2, actor=CLERK)
        transfer_ticket(ticket=renewals[5], counter=renewals_only, actor=CLERK)  # not at work
        traveller.move_to(jst(10, 7))  # the visitor at counter 1 is part-way through

        snapshot = queue_snapshot(hall.site)
        assert len(snapshot.waiting) == 29
        own = {  # each ticket's queue read and replayed for it alone (the calendar as read)
            t.pk: ticket_view(t, calendar=calendar).estimated_wait_minutes
            for t in QueueTicket.objects.filter(site=hall.site, status="waiting")
        }
        assert snapshot.waits == own
        from_snapshot = {
            t.pk: ticket_view(t, snapshot).estimated_wait_minutes for t in snapshot.waiting
        }
        assert from_snapshot == own
        assert len(set(own.values())) > 5  # the waits differ from ticket to ticket


@pytest.mark.django_db
def test_a_ticket_whose_order_changed_since_the_snapshot_gets_its_own_estimate(
    city: factories.City, frozen: Any
) -> None:
    booking = factories.book_card_pickup(city, "11:00")
    frozen.move_to(clock.at(factories.VISIT_DAY, dt.time(10, 30)))
    for _ in range(4):
        issue_ticket(site=city.site, procedure=city.renewal, actor=KIOSK)
    check_in_booked_visitor(code=booking.code, actor=CLERK)  # called first from 10:45
    behind = issue_ticket(site=city.site, procedure=city.renewal, actor=KIOSK)
    snapshot = queue_snapshot(city.site)
    held = snapshot.ticket(behind.token)
    assert held is not None
    assert ticket_view(held, snapshot).position == 5  # the booked visitor is not due yet
    assert ticket_view(held, snapshot) == ticket_view(held)

    frozen.move_to(clock.at(factories.VISIT_DAY, dt.time(10, 46)))
    # The booked visitor now goes first: the snapshot's wait for `behind` no longer applies.
    now_seen = ticket_view(held, snapshot)
    assert now_seen.position == 6
    assert now_seen == ticket_view(held)
    assert now_seen.estimated_wait_minutes != snapshot.waits[behind.pk]
