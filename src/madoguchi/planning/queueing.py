"""Steady-state queueing formulas for a counter hall: Erlang B, Erlang C and Erlang A.

All functions are pure and work in the units their argument names carry: arrival rates per hour,
service and patience times in minutes, waits in minutes. The offered load ``a = λ·S`` (in Erlangs)
is the mean number of busy counters the arrivals would keep busy.

Numerics: every formula goes through the Erlang B recursion ``B(k) = a·B(k−1) / (k + a·B(k−1))``,
which never forms a factorial or a power and stays accurate for thousands of counters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import expm_multiply

__all__ = [
    "ErlangAResult",
    "ErlangCResult",
    "counters_for_mixed_demand",
    "counters_needed",
    "counters_needed_with_abandonment",
    "erlang_a",
    "erlang_a_service_level",
    "erlang_b",
    "erlang_c",
    "erlang_c_probability_of_waiting",
    "offered_load_erlangs",
]


def _check_positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_counters(counters: int) -> None:
    if isinstance(counters, bool) or not isinstance(counters, int) or counters < 1:
        raise ValueError(f"counters must be an integer ≥ 1, got {counters!r}")


def offered_load_erlangs(arrivals_per_hour: float, service_minutes: float) -> float:
    """Return the offered load ``λ·S`` in Erlangs (mean number of counters kept busy).

    Raises ValueError when an argument is not a positive finite number.
    """
    _check_positive("arrivals_per_hour", arrivals_per_hour)
    _check_positive("service_minutes", service_minutes)
    return arrivals_per_hour * service_minutes / 60.0


def erlang_b(counters: int, load_erlangs: float) -> float:
    """Return the Erlang B blocking probability of an M/M/c/c loss system.

    ``load_erlangs`` is the offered load a = λ·S. Computed with the stable recursion, exact to
    floating-point rounding for any number of counters. Raises ValueError on counters < 1 or a
    non-positive load.
    """
    _check_counters(counters)
    _check_positive("load_erlangs", load_erlangs)
    blocking = 1.0
    for k in range(1, counters + 1):
        blocking = load_erlangs * blocking / (k + load_erlangs * blocking)
    return blocking


def erlang_c_probability_of_waiting(counters: int, load_erlangs: float) -> float:
    """Return the Erlang C probability that an arrival has to wait (M/M/c, infinite patience).

    Returns 1.0 when the load is at or above the number of counters (the queue is unstable and
    everyone eventually waits). Raises ValueError on counters < 1 or a non-positive load.
    """
    blocking = erlang_b(counters, load_erlangs)
    if load_erlangs >= counters:
        return 1.0
    return counters * blocking / (counters - load_erlangs * (1.0 - blocking))


@dataclass(frozen=True, slots=True)
class ErlangCResult:
    """Steady-state figures of an M/M/c queue (Erlang C). Times in minutes."""

    counters: int
    load_erlangs: float
    utilization: float
    probability_of_waiting: float
    mean_wait_minutes: float
    mean_wait_of_those_waiting_minutes: float
    mean_queue_length: float

    def service_level(self, target_wait_minutes: float) -> float:
        """Return P(wait ≤ target_wait_minutes) for an arriving customer (0..1).

        Raises ValueError on a negative target.
        """
        if not target_wait_minutes >= 0:
            raise ValueError(f"target_wait_minutes must be ≥ 0, got {target_wait_minutes!r}")
        if self.load_erlangs >= self.counters:
            return 0.0
        decay_per_minute = 1.0 / self.mean_wait_of_those_waiting_minutes
        return 1.0 - self.probability_of_waiting * math.exp(-decay_per_minute * target_wait_minutes)

    def wait_quantile_minutes(self, probability: float) -> float:
        """Return the wait w with P(wait ≤ w) = probability (e.g. 0.9 for the p90 wait), minutes.

        Raises ValueError unless 0 < probability < 1; returns inf for an unstable queue.
        """
        if not 0.0 < probability < 1.0:
            raise ValueError(f"probability must be in (0, 1), got {probability!r}")
        if self.load_erlangs >= self.counters:
            return math.inf
        if probability <= 1.0 - self.probability_of_waiting:
            return 0.0
        return self.mean_wait_of_those_waiting_minutes * math.log(
            self.probability_of_waiting / (1.0 - probability)
        )


def erlang_c(counters: int, arrivals_per_hour: float, service_minutes: float) -> ErlangCResult:
    """Return the steady-state Erlang C figures of an M/M/c queue.

    Poisson arrivals at ``arrivals_per_hour``, exponential service with mean ``service_minutes``,
    ``counters`` identical counters, first come first served, nobody leaves. When the load is at
    or above the number of counters the waits are ``inf`` and the probability of waiting is 1.
    Raises ValueError on counters < 1 or non-positive rates.
    """
    load = offered_load_erlangs(arrivals_per_hour, service_minutes)
    p_wait = erlang_c_probability_of_waiting(counters, load)
    if load >= counters:
        return ErlangCResult(counters, load, 1.0, 1.0, math.inf, math.inf, math.inf)
    conditional_wait = service_minutes / (counters - load)
    mean_wait = p_wait * conditional_wait
    return ErlangCResult(
        counters=counters,
        load_erlangs=load,
        utilization=load / counters,
        probability_of_waiting=p_wait,
        mean_wait_minutes=mean_wait,
        mean_wait_of_those_waiting_minutes=conditional_wait,
        mean_queue_length=arrivals_per_hour / 60.0 * mean_wait,
    )


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Steady-state figures of an M/M/c+M queue (Erlang A: exponential patience). Times in minutes.

    ``mean_wait_minutes`` averages over every arrival (those who abandon count with the time they
    waited before leaving); ``probability_of_abandoning`` is the share who leave unserved.
    """

    counters: int
    load_erlangs: float
    probability_of_waiting: float
    probability_of_abandoning: float
    mean_wait_minutes: float
    mean_queue_length: float
    utilization: float


def erlang_a(
    counters: int,
    arrivals_per_hour: float,
    service_minutes: float,
    patience_minutes: float,
    *,
    tolerance: float = 1e-13,
) -> ErlangAResult:
    """Return the steady-state figures of the Erlang A (M/M/c+M) queue.

    Customers give up after an exponential patience with mean ``patience_minutes``. The model is
    the birth-death chain with birth rate λ and death rate ``min(n, c)·μ + max(n − c, 0)·θ``; its
    stationary distribution is summed (scaled relative to state c, so nothing overflows) until the
    tail terms fall below ``tolerance``. Stable at any load because impatient customers leave.
    As patience → ∞ the figures tend to Erlang C (for load < counters). Raises ValueError on
    counters < 1 or non-positive rates or patience.
    """
    _check_counters(counters)
    load = offered_load_erlangs(arrivals_per_hour, service_minutes)
    _check_positive("patience_minutes", patience_minutes)
    lam = arrivals_per_hour / 60.0  # per minute
    mu = 1.0 / service_minutes
    theta = 1.0 / patience_minutes

    # Below c: p_n / p_c relative weights, built downwards from state c (p_{n-1} = p_n·nμ/λ).
    below_sum = 0.0  # Σ_{n<c} p_n / p_c
    busy_below = 0.0  # Σ_{n<c} n·p_n / p_c
    weight = 1.0
    for n in range(counters, 0, -1):
        weight *= n * mu / lam
        below_sum += weight
        busy_below += (n - 1) * weight
        if weight < tolerance * below_sum and n < load:
            break
    # At and above c: p_{c+j} / p_c = Π_{i=1..j} λ / (cμ + iθ).
    above_sum = 1.0  # includes state c
    queue_sum = 0.0  # Σ j·p_{c+j} / p_c
    weight = 1.0
    j = 0
    while True:
        j += 1
        weight *= lam / (counters * mu + j * theta)
        above_sum += weight
        queue_sum += j * weight
        if weight < tolerance * above_sum and lam < counters * mu + j * theta:
            break
    total = below_sum + above_sum
    p_wait = above_sum / total
    mean_queue = queue_sum / total
    busy = (busy_below + counters * above_sum) / total
    return ErlangAResult(
        counters=counters,
        load_erlangs=load,
        probability_of_waiting=p_wait,
        probability_of_abandoning=theta * mean_queue / lam,
        mean_wait_minutes=mean_queue / lam,
        mean_queue_length=mean_queue,
        utilization=busy / counters,
    )


MAX_QUEUE_STATES = 5_000
"""Erlang A's service level sums at most this many waiting residents; a steady state with more
(patience so long and counters so few that the queue only stops growing in the thousands) is
answered as a service level of 0."""


def erlang_a_service_level(
    counters: int,
    arrivals_per_hour: float,
    service_minutes: float,
    patience_minutes: float,
    target_wait_minutes: float,
    *,
    tolerance: float = 1e-12,
) -> float:
    """Return P(an arrival is called within ``target_wait_minutes``) in the Erlang A queue.

    Those who give up before being called count as not served in time. An arrival (PASTA) finds
    n in the system with the stationary probabilities of :func:`erlang_a`; below c counters it is
    called at once; otherwise, with j waiting ahead, the queue ahead shrinks at rate
    ``cμ + kθ`` (k still ahead: one called or one giving up) while the arrival itself gives up at
    rate θ. The probability of being called by the target is read from that absorbing chain
    (``scipy.sparse.linalg.expm_multiply``). Raises ValueError as :func:`erlang_a` and on a
    negative target.
    """
    _check_counters(counters)
    _check_positive("patience_minutes", patience_minutes)
    offered_load_erlangs(arrivals_per_hour, service_minutes)
    if not target_wait_minutes >= 0:
        raise ValueError(f"target_wait_minutes must be ≥ 0, got {target_wait_minutes!r}")

    lam = arrivals_per_hour / 60.0
    mu = 1.0 / service_minutes
    theta = 1.0 / patience_minutes
    below = 0.0  # Σ_{n<c} p_n / p_c
    weight = 1.0
    for n in range(counters, 0, -1):
        weight *= n * mu / lam
        below += weight
    ahead = [1.0]  # p_{c+j} / p_c, j = 0, 1, …
    mass = 1.0
    while True:
        j = len(ahead)
        if j > MAX_QUEUE_STATES:
            # thousands still waiting at a steady state: nobody is called in time
            return 0.0
        ahead.append(ahead[-1] * lam / (counters * mu + j * theta))
        mass += ahead[-1]
        if ahead[-1] < tolerance * mass and lam < counters * mu + j * theta:
            break
    total = below + mass
    if target_wait_minutes == 0:
        return below / total
    waiting = np.asarray(ahead) / total  # an arrival finds j waiting ahead
    size = len(ahead)
    ks = np.arange(size)
    advance = counters * mu + theta * ks  # k ahead → k − 1 (k = 0: called)
    # forward equation dp/dt = Aᵀ-form: A[to, from]; state `size` is "called" (absorbing),
    # giving up (θ from every state) leaves the chain
    rows = np.concatenate([ks, ks[1:] - 1, [size]])
    cols = np.concatenate([ks, ks[1:], [0]])
    values = np.concatenate([-(advance + theta), advance[1:], [advance[0]]])
    generator = coo_matrix((values, (rows, cols)), shape=(size + 1, size + 1)).tocsr()
    reached = expm_multiply(target_wait_minutes * generator, np.append(waiting, 0.0))
    return float(below / total + reached[-1])


def counters_needed_with_abandonment(
    arrivals_per_hour: float,
    service_minutes: float,
    patience_minutes: float,
    target_wait_minutes: float,
    service_level: float,
    *,
    max_counters: int = 10_000,
) -> int:
    """Return the fewest counters so that P(called within target) ≥ service_level in Erlang A
    (residents who give up count as not served in time). Raises ValueError as
    :func:`counters_needed`."""
    load = offered_load_erlangs(arrivals_per_hour, service_minutes)
    if not 0.0 < service_level < 1.0:
        raise ValueError(f"service_level must be in (0, 1), got {service_level!r}")

    def meets(counters: int) -> bool:
        level = erlang_a_service_level(
            counters, arrivals_per_hour, service_minutes, patience_minutes, target_wait_minutes
        )
        return level >= service_level

    # the level grows with the counters: step down from a guess while it holds, else up
    counters = max(1, math.floor(load))
    if meets(counters):
        while counters > 1 and meets(counters - 1):
            counters -= 1
        return counters
    while counters <= max_counters:
        counters += 1
        if meets(counters):
            return counters
    raise ValueError(
        f"more than {max_counters} counters would be needed for {arrivals_per_hour}/h "
        f"at {service_minutes} min each"
    )


def counters_needed(
    arrivals_per_hour: float,
    service_minutes: float,
    target_wait_minutes: float,
    service_level: float,
    *,
    max_counters: int = 10_000,
) -> int:
    """Return the fewest counters so that P(wait ≤ target_wait_minutes) ≥ service_level (Erlang C).

    Example: 80% of visitors called within 15 minutes is ``service_level=0.8,
    target_wait_minutes=15``. Starts at the smallest stable count (⌊a⌋ + 1), where the answer is
    usually within a few counters of the square-root-staffing rule. Raises ValueError on invalid
    arguments (service level outside (0, 1), negative target) or when even ``max_counters`` do not
    reach the level.
    """
    load = offered_load_erlangs(arrivals_per_hour, service_minutes)
    if not 0.0 < service_level < 1.0:
        raise ValueError(f"service_level must be in (0, 1), got {service_level!r}")
    if not target_wait_minutes >= 0:
        raise ValueError(f"target_wait_minutes must be ≥ 0, got {target_wait_minutes!r}")
    counters = max(1, math.floor(load) + 1)
    while counters <= max_counters:
        result = erlang_c(counters, arrivals_per_hour, service_minutes)
        if result.service_level(target_wait_minutes) >= service_level:
            return counters
        counters += 1
    raise ValueError(
        f"more than {max_counters} counters would be needed for {arrivals_per_hour}/h "
        f"at {service_minutes} min each"
    )


def counters_for_mixed_demand(
    *,
    booked_per_hour: float,
    walkin_per_hour: float,
    service_minutes: float,
    target_wait_minutes: float,
    service_level: float,
    patience_minutes: float = 0.0,
) -> int:
    """Counters for booked visitors plus walk-ins at a service level.

    Booked visitors come at their slot and need their offered load, rounded up; walk-ins get the
    Erlang C answer of :func:`counters_needed` on top (P(wait ≤ target) ≥ ``service_level``),
    or, when walk-ins give up after ``patience_minutes`` on average (> 0), the Erlang A answer of
    :func:`counters_needed_with_abandonment`.
    Zero when nobody comes. Raises ValueError as :func:`counters_needed`.
    """
    if booked_per_hour < 0 or walkin_per_hour < 0:
        raise ValueError("arrival rates must be ≥ 0")
    booked = (
        math.ceil(offered_load_erlangs(booked_per_hour, service_minutes) - 1e-9)
        if booked_per_hour > 0
        else 0
    )
    if walkin_per_hour <= 0:
        walkin = 0
    elif patience_minutes > 0:
        walkin = counters_needed_with_abandonment(
            walkin_per_hour, service_minutes, patience_minutes, target_wait_minutes, service_level
        )
    else:
        walkin = counters_needed(
            walkin_per_hour, service_minutes, target_wait_minutes, service_level
        )
    return booked + walkin
