"""Wait estimates: replaying the visible queue over the counters at work."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from madoguchi.core.audit import Actor
from madoguchi.walkins.estimates import (
    PRIOR_WEIGHT,
    Waiting,
    blended_service_minutes,
    wait_minutes,
    wait_minutes_at_counters,
)
from madoguchi.walkins.selectors import queue_state, ticket_view
from madoguchi.walkins.services import (
    call_next_ticket,
    finish_ticket,
    issue_ticket,
    start_serving,
)
from tests.frozen_clock import HALL_NOW
from tests.walkins.conftest import Hall, jst, make_hall

KIOSK = Actor.resident("kiosk")
CLERK = Actor("staff:1:clerk")


# --- the pure estimate -----------------------------------------------------------------------


def test_nobody_ahead_and_a_free_counter_means_no_wait() -> None:
    assert wait_minutes(counters=2, busy_remaining_minutes=[], ahead_service_minutes=[]) == 0


def test_with_one_counter_the_wait_is_the_work_ahead() -> None:
    assert (
        wait_minutes(counters=1, busy_remaining_minutes=[4], ahead_service_minutes=[10, 10]) == 24
    )


def test_people_ahead_spread_over_the_counters_that_free_first() -> None:
    # Counter A frees at 5, B at 12: ahead goes to A (5→15); we go to B at 12.
    assert (
        wait_minutes(counters=2, busy_remaining_minutes=[5, 12], ahead_service_minutes=[10]) == 12
    )


def test_an_idle_counter_serves_the_person_ahead_and_then_us() -> None:
    assert wait_minutes(counters=3, busy_remaining_minutes=[20], ahead_service_minutes=[10]) == 0


def test_before_opening_the_wait_counts_from_now() -> None:
    assert (
        wait_minutes(
            counters=1, busy_remaining_minutes=[], ahead_service_minutes=[10], minutes_until_open=30
        )
        == 40
    )


def test_fractions_of_a_minute_round_up() -> None:
    assert wait_minutes(counters=2, busy_remaining_minutes=[0.2, 7], ahead_service_minutes=[]) == 1


def test_no_counters_known_still_assumes_one_counter() -> None:
    assert wait_minutes(counters=0, busy_remaining_minutes=[], ahead_service_minutes=[15]) == 15


def test_service_time_is_the_plan_until_services_are_observed() -> None:
    assert blended_service_minutes(10, []) == 10


def test_observed_services_pull_the_service_time_towards_them() -> None:
    observed = [20.0] * PRIOR_WEIGHT
    assert blended_service_minutes(10, observed) == 15
    assert blended_service_minutes(10, [20.0] * 95) == pytest.approx(19.5)


# --- the queue as the board and the phone see it --------------------------------------------


pytestmark = pytest.mark.frozen_at(HALL_NOW)
pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_a_newcomers_wait_replays_the_queue_over_the_open_counters(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    for _ in range(4):
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)  # 10 min each
    state = queue_state(hall.site)
    # 2 counters open, 4 × 10 min ahead: counters free at 20 and 20.
    assert (state.waiting_count, state.estimated_wait_minutes) == (4, 20)


@pytestmark_db
def test_a_ticket_sees_its_position_and_the_wait_for_those_ahead(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    tickets = [
        issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK) for _ in range(5)
    ]
    called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    assert called is not None
    start_serving(ticket=called, actor=CLERK)
    frozen.move_to(jst(10, 5))
    view = ticket_view(tickets[3])  # number 4: numbers 2 and 3 wait ahead
    # Counter 1 frees in 15 min, counter 2 is idle: no. 2 → c2 (0→20), no. 3 → c1 (15→35).
    assert (view.position, view.estimated_wait_minutes) == (3, 20)
    assert view.serving_numbers == [1]


@pytestmark_db
def test_slow_services_today_lengthen_the_estimate(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    started = jst(8, 30)
    for _ in range(5):  # five cert renewals that took 20 min instead of the planned 10
        frozen.move_to(started)
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
        called = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
        assert called is not None
        serving = start_serving(ticket=called, actor=CLERK)
        started += dt.timedelta(minutes=20)
        frozen.move_to(started)
        finish_ticket(ticket=serving, actor=CLERK)
    frozen.move_to(jst(11))
    issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    # Blend of plan 10 and five observed 20s: 15 min. Two ahead over two counters: 15.
    assert queue_state(hall.site).estimated_wait_minutes == 15


@pytestmark_db
def test_before_opening_the_estimate_includes_the_time_until_the_doors_open(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(8, 0))
    issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    assert queue_state(hall.site).estimated_wait_minutes == 30


@pytestmark_db
def test_a_called_ticket_has_no_position_any_more(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    ticket = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    ticket.refresh_from_db()
    view = ticket_view(ticket)
    assert (view.position, view.estimated_wait_minutes, view.serving_numbers) == (None, None, [1])


@pytestmark_db
def test_the_queue_lists_each_counter_with_the_number_at_it(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    make_hall("北支所")
    for _ in range(3):
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    call_next_ticket(site=hall.site, counter=hall.counter_2, actor=CLERK)
    state = queue_state(hall.site)
    assert [(c.counter.name, c.ticket and c.ticket.number) for c in state.counters] == [
        ("1番窓口", None),
        ("2番窓口", 1),
    ]
    assert [t.number for t in state.waiting] == [2, 3]
    assert state.serving_numbers == [1]


@pytestmark_db
def test_reading_the_queue_takes_a_fixed_number_of_queries(
    hall: Hall, frozen: time_machine.Traveller, django_assert_max_num_queries: object
) -> None:
    for _ in range(30):
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    with django_assert_max_num_queries(12):  # type: ignore[operator]  # pytest-django fixture
        queue_state(hall.site)


# --- counter skills: only the counters that take the procedure count --------------------------

TERMINAL, DESK = "terminal", "desk"
CARD = Waiting(20, frozenset({TERMINAL}))  # card work: only where a terminal is
CERT = Waiting(10, frozenset({TERMINAL, DESK}))


def test_card_work_waits_only_for_the_counter_with_a_terminal() -> None:
    wait = wait_minutes_at_counters(
        free_in_minutes={TERMINAL: 0, DESK: 0},
        ahead=[CARD, CERT, CARD, CERT],
        mine=frozenset({TERMINAL}),
    )
    # The terminal counter serves both card visitors (0→20→40); the desk serves the renewals.
    assert wait == 40
    # Counting both counters for everybody, as before skills, said 30.
    assert (
        wait_minutes(counters=2, busy_remaining_minutes=[], ahead_service_minutes=[20, 10, 20, 10])
        == 30
    )


def test_a_renewal_behind_card_visitors_is_called_at_the_other_counter() -> None:
    wait = wait_minutes_at_counters(
        free_in_minutes={TERMINAL: 0, DESK: 5},
        ahead=[CARD, CARD, CARD],
        mine=CERT.counters,
    )
    assert wait == 5  # the card visitors do not compete for the desk


def test_nobody_at_work_takes_the_procedure() -> None:
    assert wait_minutes_at_counters(free_in_minutes={DESK: 0}, ahead=[], mine=frozenset()) is None


@pytestmark_db
def test_a_ticket_counts_only_the_counters_that_take_its_procedure(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    hall.counter_2.has_terminal = False
    hall.counter_2.save()
    hall.cert_renewal.needs_terminal = False  # a renewal here needs no terminal
    hall.cert_renewal.save()
    cards = [
        issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK) for _ in range(3)
    ]
    renewal = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=KIOSK)
    card = issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK)
    # Three card pick-ups (20 min) ahead, one counter with a terminal: 60 min, not 30.
    assert ticket_view(card).estimated_wait_minutes == 60
    # The renewal competes with nobody for counter 2, which is idle.
    assert ticket_view(renewal).estimated_wait_minutes == 0
    assert [t.estimated_wait_minutes for t in cards] == [0, 20, 40]  # stored at issue
    state = queue_state(hall.site)
    # A newcomer for card work is behind four card visitors; one for a renewal behind the
    # renewal waiting at counter 2.
    assert state.wait_by_procedure == {hall.card_pickup.pk: 80, hall.cert_renewal.pk: 10}
    assert state.estimated_wait_minutes == 80  # the newcomer's procedure is not known yet


@pytestmark_db
def test_a_counter_limited_to_renewals_does_not_shorten_the_card_queue(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    hall.counter_1.procedures.set([hall.cert_renewal])
    for _ in range(2):
        issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK)
    card = issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK)
    assert ticket_view(card).estimated_wait_minutes == 40  # counter 2 alone: 2 × 20 min
    # The estimate matches what the counters then do: counter 1 never calls card work.
    assert call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK) is None


@pytestmark_db
def test_no_counter_at_work_has_a_terminal_counts_the_sites_counters_that_have_one(
    frozen: time_machine.Traveller,
) -> None:
    hall = make_hall(counters_open=1)
    hall.counter_1.has_terminal = False
    hall.counter_1.save()  # the calendar opens one counter: 1番窓口 (by name), no terminal
    issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK)
    card = issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=KIOSK)
    assert ticket_view(card).estimated_wait_minutes == 20  # 2番窓口 (terminal) after one visitor
