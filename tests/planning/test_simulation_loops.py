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
    Session,
    _day_boundaries,
    _event_loop,
    _one_queue_loop,
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
