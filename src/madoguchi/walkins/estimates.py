"""Wait estimates for a queue we can see: pure functions, no Django.

Why not Erlang C (`madoguchi.planning.queueing`)? Erlang C gives the *steady-state* mean wait of
a random arrival, which is the right number for planning counters. A person holding ticket 42
wants something else: the wait *given* the people ahead of them right now and the counters at
work. So the estimate replays the queue deterministically: every counter becomes free when its
current visitor is expected to finish; each person ahead, in number order, goes to the counter
that frees first and keeps it for their procedure's expected service time; our wait is the
moment the first counter frees after them. This is exact when service times are exact, and it
gives 0 when a counter is idle. (docs/decisions/0005-walkin-queue.md)

Counters have skills (card work only where a terminal is; a counter may take only some
procedures): the replay lets each counter call only those it takes, so a ticket's wait counts
only the counters that take its procedure and, ahead of it, only who competes for them
(`wait_minutes_at_counters`).

Service times blend the procedure's planned duration with what the site recently observed, so a
slow day shows in the estimate without one unusual visitor swinging it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

PRIOR_WEIGHT = 5
"""The planned duration counts as this many observed services in the blend."""


def blended_service_minutes(planned_minutes: float, observed_minutes: Sequence[float]) -> float:
    """Expected service time: the planned duration shrunk towards the observed mean.

    `(n·observed_mean + PRIOR_WEIGHT·planned) / (n + PRIOR_WEIGHT)`: with no observations it is
    the plan, with many it is the observation. Minutes in, minutes out.
    """
    n = len(observed_minutes)
    if n == 0:
        return float(planned_minutes)
    return (sum(observed_minutes) + PRIOR_WEIGHT * planned_minutes) / (n + PRIOR_WEIGHT)


@dataclass(frozen=True)
class Waiting:
    """A ticket in the replayed queue: its expected service time and the counters that may
    call it (by key: the counters whose skills cover its procedure)."""

    service_minutes: float
    counters: frozenset[Hashable]


def wait_minutes_at_counters(
    *,
    free_in_minutes: Mapping[Hashable, float],
    ahead: Sequence[Waiting],
    mine: frozenset[Hashable],
) -> int | None:
    """Minutes until a counter in `mine` calls the person behind `ahead`, rounded up.

    `free_in_minutes` is, per counter at work, the minutes until it is free (the rest of its
    visitor's expected service, or the time until opening); `ahead` the people before us in
    the calling order. The day is replayed as the counters call: the counter that frees first
    calls the first person still waiting whose procedure it takes (`Counter.can_serve`) — so a
    card pick-up waits only for the counters with a terminal and only for the people ahead who
    compete for them, while a certificate renewal behind it may be called sooner elsewhere.
    Returns None when no counter at work takes our procedure.
    """
    queue = list(ahead)
    heap = [(max(0.0, float(m)), i, key) for i, (key, m) in enumerate(free_in_minutes.items())]
    heapq.heapify(heap)
    while heap:
        free_at, i, key = heapq.heappop(heap)
        taken = next((n for n, w in enumerate(queue) if key in w.counters), None)
        if taken is None:
            if key in mine:
                return math.ceil(round(free_at, 6))
            continue  # nobody left it may call: it plays no part any more
        heapq.heappush(heap, (free_at + max(0.0, queue.pop(taken).service_minutes), i, key))
    return None


def wait_minutes(
    *,
    counters: int,
    busy_remaining_minutes: Sequence[float],
    ahead_service_minutes: Sequence[float],
    minutes_until_open: float = 0.0,
) -> int:
    """`wait_minutes_at_counters` for counters that all take every procedure.

    `counters` is the number of counters at work (at least the busy ones are counted, and at
    least one); `busy_remaining_minutes` is, per busy counter, the expected time left with its
    visitor; `ahead_service_minutes` the expected service times of those ahead, in queue order;
    idle counters become free after `minutes_until_open` (0 once the site is open).
    Raises ValueError on a negative number of counters.
    """
    if counters < 0:
        raise ValueError(f"counters must be ≥ 0, got {counters}")
    opening = max(0.0, minutes_until_open)
    free_at = [max(opening, float(m)) for m in busy_remaining_minutes]
    free_at += [opening] * max(0, max(counters, 1) - len(free_at))
    every = frozenset(range(len(free_at)))
    found = wait_minutes_at_counters(
        free_in_minutes=dict(enumerate(free_at)),
        ahead=[Waiting(float(m), every) for m in ahead_service_minutes],
        mine=every,
    )
    assert found is not None  # every counter takes everybody
    return found


def waits_at_counters(
    *,
    free_in_minutes: Mapping[Hashable, float],
    queue: Sequence[Waiting],
) -> list[int | None]:
    """Every waiting person's `wait_minutes_at_counters` from one replay of the whole `queue`.

    Entry k of the result is what `wait_minutes_at_counters(free_in_minutes=…,
    ahead=queue[:k], mine=queue[k].counters)` returns: the minutes, rounded up, until a counter
    calls `queue[k]` (None when no counter at work takes it). The replay is the same one, run
    to the end: the counter that frees first calls the first person still waiting whose
    procedure it takes. Why it agrees with the per-person replay: a counter that may call
    `queue[k]` never calls anybody behind it first, and a counter that would find nobody it
    takes among those ahead (and leave that replay) can only call people behind them — it
    never again competes with those ahead. `tests/walkins/test_estimates_all_at_once.py`
    compares the two on random queues.
    """
    waiting = list(range(len(queue)))
    found: list[int | None] = [None] * len(queue)
    heap = [(max(0.0, float(m)), i, key) for i, (key, m) in enumerate(free_in_minutes.items())]
    heapq.heapify(heap)
    while heap and waiting:
        free_at, i, key = heapq.heappop(heap)
        taken = next((n for n, k in enumerate(waiting) if key in queue[k].counters), None)
        if taken is None:
            continue  # nobody left it may call: it plays no part any more
        k = waiting.pop(taken)
        found[k] = math.ceil(round(free_at, 6))
        heapq.heappush(heap, (free_at + max(0.0, queue[k].service_minutes), i, key))
    return found
