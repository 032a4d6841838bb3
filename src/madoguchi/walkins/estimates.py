"""Wait estimates for a queue we can see: pure functions, no Django.

Why not Erlang C (`madoguchi.planning.queueing`)? Erlang C gives the *steady-state* mean wait of
a random arrival, which is the right number for planning counters. A person holding ticket 42
wants something else: the wait *given* the people ahead of them right now and the counters at
work. So the estimate replays the queue deterministically: every counter becomes free when its
current visitor is expected to finish; each person ahead, in number order, goes to the counter
that frees first and keeps it for their procedure's expected service time; our wait is the
moment the first counter frees after them. This is exact when service times are exact, and it
gives 0 when a counter is idle. (docs/decisions/0005-walkin-queue.md)

Service times blend the procedure's planned duration with what the site recently observed, so a
slow day shows in the estimate without one unusual visitor swinging it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

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


def wait_minutes(
    *,
    counters: int,
    busy_remaining_minutes: Sequence[float],
    ahead_service_minutes: Sequence[float],
    minutes_until_open: float = 0.0,
) -> int:
    """Minutes until the person behind `ahead_service_minutes` reaches a counter, rounded up.

    `counters` is the number of counters at work (at least the busy ones are counted);
    `busy_remaining_minutes` is, per busy counter, the expected time left with its visitor;
    `ahead_service_minutes` the expected service times of those ahead, in queue order; idle
    counters become free after `minutes_until_open` (0 once the site is open).
    Raises ValueError on a negative number of counters.
    """
    if counters < 0:
        raise ValueError(f"counters must be ≥ 0, got {counters}")
    opening = max(0.0, minutes_until_open)
    free_at = [max(opening, float(m)) for m in busy_remaining_minutes]
    free_at += [opening] * max(0, max(counters, 1) - len(free_at))
    heapq.heapify(free_at)
    for service in ahead_service_minutes:
        start = heapq.heappop(free_at)
        heapq.heappush(free_at, start + max(0.0, float(service)))
    return math.ceil(round(free_at[0], 6))
