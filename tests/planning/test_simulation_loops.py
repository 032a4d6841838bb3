"""The fast site event loops give exactly the call times of the plain reference loop.

The reference below is the event loop as first written (one event at a time, the calling step
after every event). The optimised loops in ``madoguchi.planning.simulation`` must agree with it
call for call on random sites whose times are small integers, so that completions, boundaries
and entries often fall on the same minute and every tie rule is exercised.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

import numpy as np
import pytest

from madoguchi.planning.simulation import (
    AppointmentPlan,
    Procedure,
    Session,
    SiteModel,
    _day_boundaries,
    _event_loop,
    _one_queue_loop,
    simulate_site,
)


def _reference_loop(
    entry: list[float],
    service: list[float],
    queue_index: list[int],
    boundaries: list[tuple[float, int, bool]],
    terminals: int,
    appointments_first: bool,
) -> list[float]:
    """Return each customer's call time (NaN = never called).

    Customers are given in order of ``entry`` (the moment they may be called). ``queue_index`` is
    ``2·is_walk_in + needs_terminal``. ``boundaries`` are (time, counters open from then on,
    flush the queue) in time order. Ties: completions, then boundaries, then entries.
    """
    inf = math.inf
    n = len(entry)
    call = [math.nan] * n
    queues: list[deque[int]] = [deque(), deque(), deque(), deque()]
    booked_plain, booked_term, walk_plain, walk_term = queues
    done_plain: list[float] = []
    done_term: list[float] = []
    heappush = heapq.heappush
    heappop = heapq.heappop
    boundary_count = len(boundaries)
    next_entry = 0
    next_boundary = 0
    open_counters = 0
    busy = 0
    terminals_free = terminals
    queued = 0
    while True:
        t_entry = entry[next_entry] if next_entry < n else inf
        t_plain = done_plain[0] if done_plain else inf
        t_term = done_term[0] if done_term else inf
        t_bound = boundaries[next_boundary][0] if next_boundary < boundary_count else inf
        if t_plain <= t_term and t_plain <= t_bound and t_plain <= t_entry:
            if t_plain == inf:
                break
            now = heappop(done_plain)
            busy -= 1
        elif t_term <= t_bound and t_term <= t_entry:
            now = heappop(done_term)
            busy -= 1
            terminals_free += 1
        elif t_bound <= t_entry:
            now, open_counters, flush = boundaries[next_boundary]
            next_boundary += 1
            if flush:
                for queue in queues:
                    queue.clear()
                queued = 0
        else:
            now = t_entry
            queues[queue_index[next_entry]].append(next_entry)
            next_entry += 1
            queued += 1
        while queued and busy < open_counters:
            best = -1
            best_entry = inf
            if booked_plain:
                best, best_entry = 0, entry[booked_plain[0]]
            if booked_term and terminals_free and entry[booked_term[0]] < best_entry:
                best, best_entry = 1, entry[booked_term[0]]
            if best < 0 or not appointments_first:
                if walk_plain and entry[walk_plain[0]] < best_entry:
                    best, best_entry = 2, entry[walk_plain[0]]
                if walk_term and terminals_free and entry[walk_term[0]] < best_entry:
                    best, best_entry = 3, entry[walk_term[0]]
            if best < 0:
                break
            chosen = queues[best].popleft()
            call[chosen] = now
            busy += 1
            queued -= 1
            if best & 1:
                terminals_free -= 1
                heappush(done_term, now + service[chosen])
            else:
                heappush(done_plain, now + service[chosen])
        if next_entry >= n and not queued:
            break
    return call


def _random_case(
    seed: int, kinds: tuple[int, ...]
) -> tuple[list[float], list[float], list[int], list[tuple[float, int, bool]], int, bool]:
    rng = np.random.default_rng(seed)
    days = int(rng.integers(1, 4))
    sessions_by_day = []
    for _ in range(days):
        sessions = []
        start = int(rng.integers(0, 60))
        for _ in range(int(rng.integers(0, 4))):
            end = start + int(rng.integers(5, 90))
            if end > 1400:
                break
            sessions.append(Session(start, end, int(rng.integers(0, 5))))
            start = end + int(rng.integers(0, 2)) * int(rng.integers(1, 40))  # often back to back
        sessions_by_day.append(tuple(sessions))
    boundaries, _closes, _scheduled = _day_boundaries(sessions_by_day, float(rng.integers(0, 40)))
    n = int(rng.integers(0, 400))
    entry = np.sort(rng.integers(0, days * 1440 // 8, n) * 8 % (days * 1440)).astype(float)
    entry.sort()
    service = rng.integers(1, 60, n).astype(float)
    queue_index = rng.choice(kinds, n).tolist()
    terminals = int(rng.integers(0, 4))
    return (
        entry.tolist(),
        service.tolist(),
        queue_index,
        boundaries,
        terminals,
        bool(rng.integers(0, 2)),
    )


def _same(left: list[float], right: list[float]) -> bool:
    return len(left) == len(right) and all(
        (math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(left, right, strict=True)
    )


@pytest.mark.parametrize("seed", range(300))
def test_event_loop_gives_the_reference_call_times(seed: int) -> None:
    case = _random_case(seed, (0, 1, 2, 3))
    assert _same(_event_loop(*case), _reference_loop(*case))


@pytest.mark.parametrize("kind", [0, 1, 2, 3])
@pytest.mark.parametrize("seed", range(150))
def test_one_queue_loop_gives_the_reference_call_times(seed: int, kind: int) -> None:
    entry, service, queue_index, boundaries, terminals, first = _random_case(seed, (kind,))
    limit = terminals if kind & 1 else 1 << 60
    expected = _reference_loop(entry, service, queue_index, boundaries, terminals, first)
    assert _same(_one_queue_loop(entry, service, boundaries, limit), expected)


def test_the_random_cases_exercise_ties_flushes_and_unserved_visitors() -> None:
    ties = flushed = served = 0
    for seed in range(150):
        entry, service, queue_index, boundaries, terminals, first = _random_case(seed, (2,))
        calls = _reference_loop(entry, service, queue_index, boundaries, terminals, first)
        bound_times = {b[0] for b in boundaries}
        ties += sum(1 for c in calls if c in bound_times)
        flushed += sum(1 for c in calls if math.isnan(c))
        served += sum(1 for c in calls if not math.isnan(c))
    assert ties > 100 and flushed > 100 and served > 1000


# --- days that share their sessions --------------------------------------------------------------


def _reference_day_boundaries(
    sessions_by_day: list[tuple[Session, ...]], overtime_limit_minutes: float
) -> tuple[list[tuple[float, int, bool]], list[float], float]:
    """The day boundaries as first written: every day worked out alone, then one sort."""
    boundaries: list[tuple[float, int, bool]] = []
    closes = [math.nan] * len(sessions_by_day)
    scheduled = 0.0
    for day, sessions in enumerate(sessions_by_day):
        ordered = sorted(sessions, key=lambda s: s.start_minute)
        if not ordered:
            continue
        base = day * 1440
        for session in ordered:
            boundaries.append((base + session.start_minute, session.counters, False))
            boundaries.append((base + session.end_minute, 0, False))
            scheduled += session.counters * (session.end_minute - session.start_minute)
        close = base + ordered[-1].end_minute
        closes[day] = close
        boundaries[-1] = (close, ordered[-1].counters, False)
        boundaries.append((close + overtime_limit_minutes, 0, True))
    boundaries.sort(key=lambda b: (b[0], b[1] != 0 or b[2]))
    return boundaries, closes, scheduled


def _shared_days(seed: int) -> list[tuple[Session, ...]]:
    """Days drawn from a few day shapes, each shape one tuple shared by its days; some shapes
    end late, so that a long overtime runs into the next day."""
    rng = np.random.default_rng(seed)
    shapes = []
    for _ in range(int(rng.integers(1, 4))):
        sessions = []
        start = float(rng.choice([0, 480, 540, 540.5, 1200]))
        for _ in range(int(rng.integers(0, 4))):
            end = start + float(rng.choice([30, 60, 105, 180.25]))
            if end > 1440:
                break
            sessions.append(Session(start, end, int(rng.integers(0, 4))))
            start = end + float(rng.choice([0, 0, 15]))
        shapes.append(tuple(sessions))
    return [shapes[int(rng.integers(0, len(shapes)))] for _ in range(int(rng.integers(1, 60)))]


def test_days_sharing_their_sessions_give_the_reference_boundaries() -> None:
    for seed in range(200):
        days = _shared_days(seed)
        overtime = float(np.random.default_rng(seed).choice([0.0, 60.0, 600.0]))
        boundaries, closes, scheduled = _day_boundaries(days, overtime)
        expected, expected_closes, expected_scheduled = _reference_day_boundaries(days, overtime)
        assert boundaries == expected, seed
        assert np.array_equal(closes, expected_closes, equal_nan=True), seed
        assert scheduled == expected_scheduled, seed


def test_days_sharing_their_sessions_simulate_as_days_given_one_by_one() -> None:
    """The same days with every day its own tuple (nothing shared): the same visitors, calls
    and figures, value for value."""
    procedures = (
        Procedure("a", 12.0, 0.5, needs_terminal=False),
        Procedure("b", 20.0, 1.0, needs_terminal=True, distribution="exponential"),
    )
    appointments = AppointmentPlan(slot_minutes=15.0, bookings_per_slot=1, procedure_mix=(1, 1))
    for seed in range(20):
        shared = _shared_days(seed)
        alone = [tuple(list(day)) for day in shared]
        opened = [day for day in alone if day]  # () is one object however made
        assert len({id(day) for day in opened}) == len(opened)
        rates = tuple(float(r) for r in np.random.default_rng(seed).choice([0.0, 2.0, 7.5], 24))
        reports = [
            simulate_site(
                SiteModel(
                    procedures=procedures,
                    sessions_by_day=tuple(days),
                    walkin_arrivals_per_hour=rates,
                    walkin_procedure_mix=(2.0, 1.0),
                    appointments=appointments,
                    terminals=1,
                    overtime_limit_minutes=90.0,
                ),
                seed=seed,
            )
            for days in (shared, alone)
        ]
        left, right = (report.visits for report in reports)
        for name in ("arrival_minutes", "slot_minutes", "call_minutes", "service_minutes", "day"):
            assert np.array_equal(getattr(left, name), getattr(right, name), equal_nan=True), (
                seed,
                name,
            )
        assert reports[0].overall == reports[1].overall, seed
        assert reports[0].scheduled_counter_minutes == reports[1].scheduled_counter_minutes, seed
