"""Fast discrete-event simulation of a counter site.

Two engines share one way of drawing random numbers (numpy ``Generator``, vectorised up front):

* :func:`simulate_mmc` — the bare first-come-first-served M/M/c (or M/G/c) kernel for the
  stationary case. Each customer in arrival order takes the counter that frees first, held in a
  heap: one ``heapreplace`` per customer, about a million customers a second.
* :func:`simulate_site` / :func:`simulate_continuous_site` — a small event loop for a real site over
  days: opening sessions with their counter counts, card terminals, booked appointments (with
  no-shows and early or late arrival), walk-ins at an hourly rate, service times by procedure, a
  calling policy, and the end of the day (no new walk-ins after closing; the queue is served in
  overtime up to a limit, anyone still waiting then is counted unserved).

Everything is deterministic for a given ``seed``. Times are minutes: within a day, minutes after
midnight; across days, ``day × 1440 + minute``.

Waiting time is measured from the moment a visitor may be called: a walk-in from arrival; a booked
visitor from the later of arrival and the slot's start (coming early is not waiting).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "CALLING_POLICIES",
    "AppointmentPlan",
    "CallingPolicy",
    "Procedure",
    "Session",
    "SimulationReport",
    "SiteModel",
    "StationaryRun",
    "VisitLog",
    "WaitSummary",
    "fcfs_waits",
    "simulate_continuous_site",
    "simulate_mmc",
    "simulate_site",
]

FloatArray = npt.NDArray[np.float64]
CallingPolicy = Literal["appointments_first", "fcfs"]
CALLING_POLICIES: tuple[CallingPolicy, ...] = ("appointments_first", "fcfs")
ServiceDistribution = Literal["exponential", "lognormal"]
MINUTES_PER_DAY = 1440


# --------------------------------------------------------------------------------------------
# Random service times
# --------------------------------------------------------------------------------------------


def _draw_service_minutes(
    rng: np.random.Generator,
    mean_minutes: float,
    cv: float,
    distribution: ServiceDistribution,
    size: int,
) -> FloatArray:
    if distribution == "exponential":
        return rng.exponential(mean_minutes, size)
    if distribution == "lognormal":
        if cv == 0:
            return np.full(size, float(mean_minutes))
        sigma2 = math.log1p(cv * cv)
        return rng.lognormal(math.log(mean_minutes) - sigma2 / 2.0, math.sqrt(sigma2), size)
    raise ValueError(f"unknown service distribution {distribution!r}")


# --------------------------------------------------------------------------------------------
# Bare stationary kernel
# --------------------------------------------------------------------------------------------


def fcfs_waits(
    arrival_minutes: Sequence[float] | FloatArray,
    service_minutes: Sequence[float] | FloatArray,
    counters: int,
) -> FloatArray:
    """Return each customer's wait (minutes) in a first-come-first-served queue with c counters.

    ``arrival_minutes`` must be non-decreasing; ``service_minutes`` are the matching service
    durations. Each customer takes the counter that becomes free first (Kiefer–Wolfowitz
    recursion with a heap). Raises ValueError on mismatched lengths or counters < 1.
    """
    if counters < 1:
        raise ValueError(f"counters must be ≥ 1, got {counters}")
    arrivals = np.asarray(arrival_minutes, dtype=np.float64).tolist()
    services = np.asarray(service_minutes, dtype=np.float64).tolist()
    if len(arrivals) != len(services):
        raise ValueError("arrival_minutes and service_minutes differ in length")
    free_at = [0.0] * counters  # a valid heap
    waits: list[float] = []
    record = waits.append
    heapreplace = heapq.heapreplace
    for arrival, service in zip(arrivals, services, strict=True):
        first_free = free_at[0]
        if first_free > arrival:
            record(first_free - arrival)
            heapreplace(free_at, first_free + service)
        else:
            record(0.0)
            heapreplace(free_at, arrival + service)
    return np.asarray(waits, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class StationaryRun:
    """Result of one stationary M/M/c (or M/G/c) run. Waits in minutes, in arrival order."""

    counters: int
    customers: int
    waits_minutes: FloatArray = field(repr=False)
    mean_wait_minutes: float
    p90_wait_minutes: float
    max_wait_minutes: float
    utilization: float


def simulate_mmc(
    *,
    counters: int,
    arrivals_per_hour: float,
    service_time_minutes: float,
    customers: int,
    seed: int,
    service_distribution: ServiceDistribution = "exponential",
    service_time_cv: float = 1.0,
) -> StationaryRun:
    """Simulate an FCFS queue with Poisson arrivals and c counters, starting empty.

    Service times are exponential (M/M/c, comparable with Erlang C) or lognormal with the given
    mean and coefficient of variation. ``utilization`` is busy counter-time over
    ``counters × (last departure)``. Deterministic for a seed. Raises ValueError on non-positive
    arguments.
    """
    if customers < 1 or counters < 1:
        raise ValueError("customers and counters must be ≥ 1")
    if arrivals_per_hour <= 0 or service_time_minutes <= 0:
        raise ValueError("arrivals_per_hour and service_time_minutes must be positive")
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(60.0 / arrivals_per_hour, customers))
    services = _draw_service_minutes(
        rng, service_time_minutes, service_time_cv, service_distribution, customers
    )
    waits = fcfs_waits(arrivals, services, counters)
    last_departure = float(np.max(arrivals + waits + services))
    return StationaryRun(
        counters=counters,
        customers=customers,
        waits_minutes=waits,
        mean_wait_minutes=float(waits.mean()),
        p90_wait_minutes=float(np.quantile(waits, 0.9)),
        max_wait_minutes=float(waits.max()),
        utilization=float(services.sum()) / (counters * last_departure),
    )


# --------------------------------------------------------------------------------------------
# Site model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Procedure:
    """A counter procedure: mean service time (minutes), its spread, and whether it needs a
    card terminal (PIN setting) for the whole service."""

    code: str
    service_time_minutes: float
    service_time_cv: float = 0.4
    needs_terminal: bool = False
    distribution: ServiceDistribution = "lognormal"

    def __post_init__(self) -> None:
        if not self.service_time_minutes > 0:
            raise ValueError(f"procedure {self.code}: service_time_minutes must be positive")
        if not self.service_time_cv >= 0:
            raise ValueError(f"procedure {self.code}: service_time_cv must be ≥ 0")
        if self.distribution not in ("exponential", "lognormal"):
            raise ValueError(f"procedure {self.code}: unknown distribution {self.distribution!r}")


@dataclass(frozen=True, slots=True)
class Session:
    """An opening session within a day: [start_minute, end_minute) after midnight, counters open."""

    start_minute: float
    end_minute: float
    counters: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(
                f"session {self.start_minute}–{self.end_minute} must lie within one day "
                "and end after it starts"
            )
        if self.counters < 0:
            raise ValueError("session counters must be ≥ 0")


@dataclass(frozen=True, slots=True)
class AppointmentPlan:
    """Booked visits: every ``slot_minutes`` within each session, ``bookings_per_slot`` visitors.

    Each booked visitor fails to come with probability ``no_show_rate``; the others arrive at the
    slot start plus a normal offset (mean ``arrival_offset_mean_minutes``, negative = early;
    standard deviation ``arrival_offset_sd_minutes``). ``procedure_mix`` gives the share of each
    procedure (same order as the site's procedures; normalised).
    """

    slot_minutes: float
    bookings_per_slot: int
    no_show_rate: float = 0.1
    arrival_offset_mean_minutes: float = -5.0
    arrival_offset_sd_minutes: float = 5.0
    procedure_mix: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        if not self.slot_minutes > 0:
            raise ValueError("appointments: slot_minutes must be positive")
        if self.bookings_per_slot < 0:
            raise ValueError("appointments: bookings_per_slot must be ≥ 0")
        if not 0 <= self.no_show_rate <= 1:
            raise ValueError("appointments: no_show_rate must be between 0 and 1")
        if not self.arrival_offset_sd_minutes >= 0:
            raise ValueError("appointments: arrival_offset_sd_minutes must be ≥ 0")


@dataclass(frozen=True, slots=True)
class SiteModel:
    """Everything the site simulation needs.

    ``sessions_by_day`` has one tuple of sessions per simulated day (an empty tuple is a closed
    day). ``walkin_arrivals_per_hour`` holds 24 hourly Poisson rates by hour of day, applied only
    while a session is open. ``terminals=None`` means terminals never limit.
    ``overtime_limit_minutes`` is how long after the day's last session the queue may still be
    served; visitors not called by then are unserved.
    """

    procedures: tuple[Procedure, ...]
    sessions_by_day: tuple[tuple[Session, ...], ...]
    walkin_arrivals_per_hour: tuple[float, ...] = (0.0,) * 24
    walkin_procedure_mix: tuple[float, ...] = (1.0,)
    appointments: AppointmentPlan | None = None
    terminals: int | None = None
    policy: CallingPolicy = "appointments_first"
    overtime_limit_minutes: float = 60.0

    def __post_init__(self) -> None:
        if not self.procedures:
            raise ValueError("a site needs at least one procedure")
        if len(self.walkin_arrivals_per_hour) != 24:
            raise ValueError("walkin_arrivals_per_hour needs 24 hourly rates")
        if any(not rate >= 0 for rate in self.walkin_arrivals_per_hour):
            raise ValueError("walk-in arrival rates must be ≥ 0")
        _check_mix("walkin_procedure_mix", self.walkin_procedure_mix, len(self.procedures))
        if self.appointments is not None:
            _check_mix(
                "appointments.procedure_mix",
                self.appointments.procedure_mix,
                len(self.procedures),
            )
        if self.terminals is not None and self.terminals < 0:
            raise ValueError("terminals must be ≥ 0")
        if self.policy not in CALLING_POLICIES:
            raise ValueError(f"policy must be one of {', '.join(CALLING_POLICIES)}")
        if not self.overtime_limit_minutes >= 0:
            raise ValueError("overtime_limit_minutes must be ≥ 0")
        previous = None
        for day in self.sessions_by_day:
            if day is previous:
                continue  # the same sessions as the day before (many days of one session)
            previous = day
            ordered = sorted(day, key=lambda s: s.start_minute)
            for before, after in itertools.pairwise(ordered):
                if after.start_minute < before.end_minute:
                    raise ValueError("sessions of one day must not overlap")


def _check_mix(name: str, mix: Sequence[float], procedures: int) -> None:
    if len(mix) != procedures:
        raise ValueError(f"{name} needs one share per procedure ({procedures})")
    if any(not share >= 0 for share in mix) or sum(mix) <= 0:
        raise ValueError(f"{name}: shares must be ≥ 0 and not all zero")


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaitSummary:
    """Waits of one group of visitors who came. Minutes; NaN when nobody was served."""

    arrived: int
    served: int
    unserved: int
    mean_wait_minutes: float
    p90_wait_minutes: float
    max_wait_minutes: float


@dataclass(frozen=True, slots=True)
class VisitLog:
    """One row per visitor who came (arrays of equal length), in no particular order.

    Absolute minutes (``day × 1440 + minute``); ``call_minutes`` is NaN for the unserved;
    ``slot_minutes`` is NaN for walk-ins; ``procedure`` indexes the site's procedures.
    """

    arrival_minutes: FloatArray
    slot_minutes: FloatArray
    call_minutes: FloatArray
    service_minutes: FloatArray
    procedure: npt.NDArray[np.intp]
    is_walk_in: npt.NDArray[np.bool_]
    day: npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class SimulationReport:
    """What a simulated period looked like.

    ``utilization`` is busy counter-minutes over scheduled counter-minutes (it can exceed what the
    sessions alone allow by the overtime work). ``overtime_minutes`` sums, over days, how long the
    last service ran past the day's last session. ``unserved`` counts visitors who came but were
    never called (still queued when the overtime limit passed, or booked visitors arriving after
    closing). ``no_shows`` are booked visitors who never came.
    """

    overall: WaitSummary
    by_procedure: Mapping[str, WaitSummary]
    by_arrival_type: Mapping[str, WaitSummary]
    no_shows: int
    utilization: float
    overtime_minutes: float
    scheduled_counter_minutes: float
    busy_counter_minutes: float
    days: int
    waits_minutes: FloatArray = field(repr=False)
    visits: VisitLog = field(repr=False)

    @property
    def served(self) -> int:
        """Visitors called to a counter."""
        return self.overall.served

    @property
    def unserved(self) -> int:
        """Visitors who came but were never called."""
        return self.overall.unserved

    @property
    def mean_wait_minutes(self) -> float:
        """Mean wait of those served, minutes."""
        return self.overall.mean_wait_minutes

    @property
    def p90_wait_minutes(self) -> float:
        """90th percentile wait of those served, minutes."""
        return self.overall.p90_wait_minutes

    @property
    def max_wait_minutes(self) -> float:
        """Longest wait of those served, minutes."""
        return self.overall.max_wait_minutes


def _summarise(waits: FloatArray, mask: npt.NDArray[np.bool_]) -> WaitSummary:
    group = waits[mask]
    served_waits = group[~np.isnan(group)]
    served = int(served_waits.size)
    if served == 0:
        return WaitSummary(int(group.size), 0, int(group.size), math.nan, math.nan, math.nan)
    return WaitSummary(
        arrived=int(group.size),
        served=served,
        unserved=int(group.size) - served,
        mean_wait_minutes=float(served_waits.mean()),
        p90_wait_minutes=float(np.quantile(served_waits, 0.9)),
        max_wait_minutes=float(served_waits.max()),
    )


# --------------------------------------------------------------------------------------------
# Event loop
# --------------------------------------------------------------------------------------------


def _event_loop(
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
    flush the queue) in time order. Ties: completions (plain counters before terminal ones), then
    boundaries, then entries; after every event the free counters call from the queues.

    Written for speed (the planning checks run it for every site and session): the two
    completion heaps and the boundary and entry lists end in an ``inf`` sentinel, so the next
    event is found by comparing four numbers without emptiness checks; a visitor who finds no
    queue and a free counter is called at once without touching a queue; the calling step runs
    only when someone waits and a counter is free. ``tests/planning/test_simulation.py`` checks
    it against the plain reference loop on random sites, ties included.
    """
    inf = math.inf
    n = len(entry)
    call = [math.nan] * n
    entry = [*entry, inf]
    queues: list[deque[int]] = [deque(), deque(), deque(), deque()]
    booked_plain, booked_term, walk_plain, walk_term = queues
    done_plain = [inf]  # a heap whose last-popped element is never the sentinel
    done_term = [inf]
    heappush = heapq.heappush
    heappop = heapq.heappop
    bounds = [*boundaries, (inf, 0, False)]
    next_boundary = 0
    t_bound = bounds[0][0]
    i = 0
    t_entry = entry[0]
    open_counters = 0
    busy = 0
    terminals_free = terminals
    queued = 0
    while True:
        t_plain = done_plain[0]
        t_term = done_term[0]
        if t_plain <= t_term and t_plain <= t_bound and t_plain <= t_entry:
            if t_plain == inf:
                break
            now = heappop(done_plain)
            busy -= 1
            if not queued:
                continue
        elif t_term <= t_bound and t_term <= t_entry:
            now = heappop(done_term)
            busy -= 1
            terminals_free += 1
            if not queued:
                continue
        elif t_bound <= t_entry:
            now, open_counters, flush = bounds[next_boundary]
            next_boundary += 1
            t_bound = bounds[next_boundary][0]
            if flush:
                for queue in queues:
                    queue.clear()
                queued = 0
                if i >= n:
                    break
                continue
        else:
            now = t_entry
            kind = queue_index[i]
            if not queued and busy < open_counters:
                if not kind & 1:
                    call[i] = now
                    busy += 1
                    heappush(done_plain, now + service[i])
                    i += 1
                    t_entry = entry[i]
                    continue
                if terminals_free:
                    call[i] = now
                    busy += 1
                    terminals_free -= 1
                    heappush(done_term, now + service[i])
                    i += 1
                    t_entry = entry[i]
                    continue
            queues[kind].append(i)
            queued += 1
            i += 1
            t_entry = entry[i]
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
        if i >= n and not queued:
            break
    return call


def _one_queue_loop(
    entry: list[float],
    service: list[float],
    boundaries: list[tuple[float, int, bool]],
    counter_limit: int,
) -> list[float]:
    """:func:`_event_loop` for visitors who all wait in one queue (one kind): same ties, same
    call times (the tests compare the two on random sites).

    With one queue visitors are called in entry order, so each is called at the later of their
    entry and the moment the first counter frees, unless a boundary comes first: the bare
    kernel's recursion (one ``heapreplace`` per visitor) with the sessions added. ``free`` holds
    when each open counter is next free. At a boundary the counters still busy are kept, idle
    ones are re-dated to the boundary up to the new count, and while more are busy than may be
    open (``excess``) the first to finish go idle instead of calling. With one kind every busy
    counter holds the same resources, so a terminal limit is a cap on open counters
    (``counter_limit``).
    """
    inf = math.inf
    n = len(entry)
    call = [math.nan] * n
    if not boundaries:
        return call
    heapreplace = heapq.heapreplace
    heappop = heapq.heappop
    free = [inf]  # no counter open yet; the sentinel is never replaced
    bounds = [*boundaries, (inf, 0, False)]
    next_boundary = 0
    t_bound = bounds[0][0]
    limit = t_bound  # t_bound, or -inf while some counters must go idle first
    excess = 0
    cutoff = -inf  # visitors who entered before the last flush were sent home
    for k, e in enumerate(entry):
        f = free[0]
        t = f if f > e else e
        if t <= limit and cutoff <= e < t_bound:
            call[k] = t
            heapreplace(free, t + service[k])
            continue
        if e < cutoff:
            continue
        while True:
            f = free[0]
            if excess and f <= t_bound:
                heappop(free)  # this counter finishes and closes
                excess -= 1
                if not excess:
                    limit = t_bound
                continue
            t = f if f > e else e
            if t <= t_bound and e < t_bound:
                break
            # The boundary comes first (completions at its time came before it).
            now, open_counters, flush = bounds[next_boundary]
            next_boundary += 1
            t_bound = bounds[next_boundary][0]
            capacity = min(open_counters, counter_limit)
            busy = [x for x in free if now < x < inf]
            excess = max(0, len(busy) - capacity)
            free = [*busy, *([now] * (capacity - len(busy))), inf]
            heapq.heapify(free)
            limit = -inf if excess else t_bound
            if flush:
                cutoff = now
            if capacity == 0 and t_bound == inf:
                return call
            if e < cutoff:
                break
        if e < cutoff:
            continue
        call[k] = t
        heapreplace(free, t + service[k])
    return call


@dataclass(frozen=True, slots=True)
class _Visitors:
    arrival: FloatArray  # absolute minutes
    slot_start: FloatArray  # absolute minutes; NaN for walk-ins
    procedure: npt.NDArray[np.intp]
    is_walk_in: npt.NDArray[np.bool_]
    day: npt.NDArray[np.intp]
    service: FloatArray


def _draw_services(
    rng: np.random.Generator, procedures: Sequence[Procedure], procedure: npt.NDArray[np.intp]
) -> FloatArray:
    service = np.empty(procedure.size, dtype=np.float64)
    for index, proc in enumerate(procedures):
        mask = procedure == index
        service[mask] = _draw_service_minutes(
            rng,
            proc.service_time_minutes,
            proc.service_time_cv,
            proc.distribution,
            int(mask.sum()),
        )
    return service


def _choose_procedures(
    rng: np.random.Generator, mix: Sequence[float], size: int
) -> npt.NDArray[np.intp]:
    if len(mix) == 1:
        return np.zeros(size, dtype=np.intp)
    shares = np.asarray(mix, dtype=np.float64)
    return rng.choice(len(mix), size=size, p=shares / shares.sum()).astype(np.intp)


@dataclass(frozen=True, slots=True)
class _DayPattern:
    """What one day's sessions call for, in minutes after that day's midnight: the walk-in
    segments (a session's part of an hour: its start, length and the hour's rate) and the
    booked slots' starts, in the order the day's sessions give them."""

    seg_start: FloatArray
    seg_length: FloatArray
    seg_rate: FloatArray
    slot_times: FloatArray


def _day_pattern(
    sessions: Sequence[Session], rates: Sequence[float], plan: AppointmentPlan | None
) -> _DayPattern:
    seg_start: list[float] = []
    seg_length: list[float] = []
    seg_rate: list[float] = []
    slot_times: list[float] = []
    for session in sessions:
        if session.counters == 0:
            continue
        hour = int(session.start_minute // 60)
        while hour * 60 < session.end_minute:
            start = max(session.start_minute, hour * 60.0)
            end = min(session.end_minute, hour * 60.0 + 60.0)
            if end > start and rates[hour] > 0:
                seg_start.append(start)
                seg_length.append(end - start)
                seg_rate.append(rates[hour])
            hour += 1
        if plan is not None and plan.bookings_per_slot > 0:
            slot = session.start_minute
            while slot + plan.slot_minutes <= session.end_minute + 1e-9:
                slot_times.append(slot)
                slot += plan.slot_minutes
    return _DayPattern(
        np.asarray(seg_start, dtype=np.float64),
        np.asarray(seg_length, dtype=np.float64),
        np.asarray(seg_rate, dtype=np.float64),
        np.asarray(slot_times, dtype=np.float64),
    )


class _Days:
    """The days of a simulation grouped by their sessions: what a day's sessions call for is
    worked out once for each distinct day — days given the very same tuple of sessions (a
    simulation of many days of one session) share it — and laid out day after day
    (`lay_out`): the same numbers, in the same order, as working it out for every day and
    adding the day's midnight (``day × 1440``) to each time."""

    def __init__(self, sessions_by_day: Sequence[Sequence[Session]]) -> None:
        self.distinct: list[Sequence[Session]] = []
        known: dict[int, int] = {}
        pattern_of_day: list[int] = []
        previous: Sequence[Session] | None = None
        index = -1
        for sessions in sessions_by_day:
            if sessions is not previous:
                found = known.get(id(sessions))
                if found is None:
                    found = known[id(sessions)] = len(self.distinct)
                    self.distinct.append(sessions)
                previous, index = sessions, found
            pattern_of_day.append(index)
        self.pattern_of_day = np.asarray(pattern_of_day, dtype=np.intp)
        counts = np.bincount(self.pattern_of_day, minlength=len(self.distinct))
        self.days_of = np.split(
            np.argsort(self.pattern_of_day, kind="stable"), np.cumsum(counts)[:-1]
        )
        self.midnight = np.arange(len(sessions_by_day), dtype=np.float64) * MINUTES_PER_DAY

    def lay_out(
        self, parts: Sequence[npt.NDArray[Any]], *, times: bool = False
    ) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp]]:
        """`parts` (one array for each of `distinct`) day after day — each day's at its
        midnight when they are `times` — and the day of each value."""
        sizes = np.asarray([part.size for part in parts], dtype=np.intp)[self.pattern_of_day]
        first = np.cumsum(sizes) - sizes
        dtype = parts[0].dtype if parts else np.float64  # a day's times are float64 already
        out = np.empty(int(sizes.sum()), dtype=dtype)
        for part, days in zip(parts, self.days_of, strict=True):
            if part.size and days.size:
                where = first[days][:, None] + np.arange(part.size)
                out[where] = self.midnight[days][:, None] + part if times else part
        return out, np.repeat(np.arange(sizes.size, dtype=np.intp), sizes)


def _generate_visitors(model: SiteModel, rng: np.random.Generator) -> tuple[_Visitors, int]:
    """Draw walk-ins and booked visitors for every day; return them and the no-show count."""
    days = _Days(model.sessions_by_day)
    patterns = [
        _day_pattern(sessions, model.walkin_arrivals_per_hour, model.appointments)
        for sessions in days.distinct
    ]
    seg_start: FloatArray
    lengths: FloatArray
    seg_rate: FloatArray
    slot_times: FloatArray
    seg_start, seg_day = days.lay_out([p.seg_start for p in patterns], times=True)
    lengths, _ = days.lay_out([p.seg_length for p in patterns])
    seg_rate, _ = days.lay_out([p.seg_rate for p in patterns])
    slot_times, slot_day = days.lay_out([p.slot_times for p in patterns], times=True)
    counts = rng.poisson(seg_rate * lengths / 60.0)
    walk_arrival = np.repeat(seg_start, counts) + rng.random(int(counts.sum())) * np.repeat(
        lengths, counts
    )
    walk_day = np.repeat(seg_day, counts)
    order = np.argsort(walk_arrival, kind="stable")
    walk_arrival, walk_day = walk_arrival[order], walk_day[order]
    walk_procedure = _choose_procedures(rng, model.walkin_procedure_mix, walk_arrival.size)

    plan = model.appointments
    no_shows = 0
    if plan is not None and slot_times.size:
        booked_slot = np.repeat(slot_times, plan.bookings_per_slot)
        booked_day = np.repeat(slot_day, plan.bookings_per_slot)
        shows = rng.random(booked_slot.size) >= plan.no_show_rate
        no_shows = int(booked_slot.size - shows.sum())
        booked_slot, booked_day = booked_slot[shows], booked_day[shows]
        offset = rng.normal(
            plan.arrival_offset_mean_minutes, plan.arrival_offset_sd_minutes, booked_slot.size
        )
        booked_arrival = np.maximum(booked_slot + offset, booked_day * float(MINUTES_PER_DAY))
        booked_procedure = _choose_procedures(rng, plan.procedure_mix, booked_slot.size)
    else:
        booked_slot = np.empty(0, dtype=np.float64)
        booked_arrival = np.empty(0, dtype=np.float64)
        booked_day = np.empty(0, dtype=np.intp)
        booked_procedure = np.empty(0, dtype=np.intp)

    procedure = np.concatenate([walk_procedure, booked_procedure])
    visitors = _Visitors(
        arrival=np.concatenate([walk_arrival, booked_arrival]),
        slot_start=np.concatenate([np.full(walk_arrival.size, np.nan), booked_slot]),
        procedure=procedure,
        is_walk_in=np.concatenate(
            [np.ones(walk_arrival.size, dtype=bool), np.zeros(booked_slot.size, dtype=bool)]
        ),
        day=np.concatenate([walk_day, booked_day]),
        service=_draw_services(rng, model.procedures, procedure),
    )
    return visitors, no_shows


def _day_edges(
    sessions: Sequence[Session],
) -> tuple[FloatArray, npt.NDArray[np.intp], npt.NDArray[np.bool_], FloatArray]:
    """One day's boundaries in minutes after its midnight — each session's start (its
    counters) and end (none), the last end keeping the last session's counters for the
    overtime, then the flush, given here at the close (the overtime is added to the day's
    close, `_day_boundaries`) — and each session's scheduled counter-minutes."""
    ordered = sorted(sessions, key=lambda s: s.start_minute)
    times: list[float] = []
    counters: list[int] = []
    for session in ordered:
        times += [session.start_minute, session.end_minute]
        counters += [session.counters, 0]
    if ordered:
        counters[-1] = ordered[-1].counters
        times.append(ordered[-1].end_minute)
        counters.append(0)
    flush = np.zeros(len(times), dtype=bool)
    flush[-1:] = True
    scheduled = [
        session.counters * (session.end_minute - session.start_minute) for session in ordered
    ]
    return (
        np.asarray(times, dtype=np.float64),
        np.asarray(counters, dtype=np.intp),
        flush,
        np.asarray(scheduled, dtype=np.float64),
    )


def _day_boundaries(
    sessions_by_day: Sequence[Sequence[Session]], overtime_limit_minutes: float
) -> tuple[list[tuple[float, int, bool]], FloatArray, float]:
    """Return (boundaries, close time per day (NaN if closed), scheduled counter-minutes).

    Each day with sessions: every session's start with its counters and end with none, except
    that after the day's last session its counters keep serving the queue up to the overtime
    limit, where the queue is flushed. Each distinct day is worked out once (`_Days`)."""
    days = _Days(sessions_by_day)
    edges = [_day_edges(sessions) for sessions in days.distinct]
    times, day_of = days.lay_out([e[0] for e in edges], times=True)
    counters, _ = days.lay_out([e[1] for e in edges])
    flush, _ = days.lay_out([e[2] for e in edges])
    minutes, _ = days.lay_out([e[3] for e in edges])
    closes = np.full(len(sessions_by_day), np.nan)
    closes[day_of[flush]] = times[flush]
    times[flush] += overtime_limit_minutes
    # added one after the other from 0, day by day, as a running sum adds them
    scheduled = float(np.cumsum(minutes)[-1]) if minutes.size else 0.0
    # Back-to-back sessions: the "end" of one and the "start" of the next share a time; the
    # start must win, so order by time with closing entries first (a stable sort: already in
    # that order, as days that do not run into the next are, it changes nothing).
    opening = (counters != 0) | flush
    step = np.diff(times)
    in_order = bool(np.all((step > 0) | ((step == 0) & (opening[1:] >= opening[:-1]))))
    boundaries = list(zip(times.tolist(), counters.tolist(), flush.tolist(), strict=True))
    if not in_order:
        boundaries.sort(key=lambda b: (b[0], b[1] != 0 or b[2]))
    return boundaries, closes, scheduled


def _report(
    *,
    visitors: _Visitors,
    call: FloatArray,
    procedures: Sequence[Procedure],
    closes: FloatArray,
    scheduled_counter_minutes: float,
    no_shows: int,
) -> SimulationReport:
    origin = np.where(
        visitors.is_walk_in, visitors.arrival, np.fmax(visitors.arrival, visitors.slot_start)
    )
    waits = call - origin
    served = ~np.isnan(call)
    busy = float(visitors.service[served].sum())
    overtime = 0.0
    if closes.size and served.any():
        last_end = np.full(closes.size, -np.inf)
        np.maximum.at(last_end, visitors.day[served], (call + visitors.service)[served])
        overtime = float(np.nansum(np.clip(last_end - closes, 0.0, None)[np.isfinite(last_end)]))
    overall = _summarise(waits, np.ones(waits.size, dtype=bool))

    def group(mask: npt.NDArray[np.bool_]) -> WaitSummary:
        # A group that is everyone (one procedure, walk-ins only) has the overall figures.
        return overall if mask.all() else _summarise(waits, mask)

    return SimulationReport(
        overall=overall,
        by_procedure={
            proc.code: group(visitors.procedure == index) for index, proc in enumerate(procedures)
        },
        by_arrival_type={
            "appointment": group(~visitors.is_walk_in),
            "walk_in": group(visitors.is_walk_in),
        },
        no_shows=no_shows,
        utilization=busy / scheduled_counter_minutes if scheduled_counter_minutes else math.nan,
        overtime_minutes=overtime,
        scheduled_counter_minutes=scheduled_counter_minutes,
        busy_counter_minutes=busy,
        days=closes.size,
        waits_minutes=waits[served],
        visits=VisitLog(
            arrival_minutes=visitors.arrival,
            slot_minutes=visitors.slot_start,
            call_minutes=call,
            service_minutes=visitors.service,
            procedure=visitors.procedure,
            is_walk_in=visitors.is_walk_in,
            day=visitors.day,
        ),
    )


def _run(
    visitors: _Visitors,
    procedures: Sequence[Procedure],
    boundaries: list[tuple[float, int, bool]],
    terminals: int | None,
    policy: CallingPolicy,
    closes: FloatArray,
) -> FloatArray:
    """Order visitors by entry time, run the loop, return call times in the visitors' order."""
    booked = ~visitors.is_walk_in
    if policy == "appointments_first":
        # A booked visitor becomes due at the slot start (or on arrival, if late).
        entry = np.where(booked, np.fmax(visitors.arrival, visitors.slot_start), visitors.arrival)
    else:
        entry = visitors.arrival
    needs_terminal = np.asarray([p.needs_terminal for p in procedures], dtype=bool)
    queue_index = 2 * visitors.is_walk_in.astype(np.intp) + needs_terminal[visitors.procedure]
    # Booked visitors who arrive after the day's last session are turned away.
    too_late = np.zeros(entry.size, dtype=bool)
    if closes.size:
        too_late = booked & ~(visitors.arrival <= closes[visitors.day])
    service = visitors.service
    order: npt.NDArray[np.intp] | None = None
    if too_late.any() or (entry.size > 1 and bool((entry[1:] < entry[:-1]).any())):
        admitted = np.flatnonzero(~too_late)
        order = admitted[np.argsort(entry[admitted], kind="stable")]
        entry, service, queue_index = entry[order], service[order], queue_index[order]
    # (Already in entry order with everyone admitted, as a continuous run is: no reordering.)
    limit = terminals if terminals is not None else 1 << 60
    if queue_index.size == 0 or bool((queue_index == queue_index[0]).all()):
        # One queue (e.g. walk-ins only, none or all needing a terminal): the FIFO recursion.
        call_sorted = _one_queue_loop(
            entry.tolist(),
            service.tolist(),
            boundaries,
            limit if queue_index.size and queue_index[0] & 1 else 1 << 60,
        )
    else:
        call_sorted = _event_loop(
            entry.tolist(),
            service.tolist(),
            queue_index.tolist(),
            boundaries,
            limit,
            policy == "appointments_first",
        )
    if order is None:
        return np.asarray(call_sorted, dtype=np.float64)
    call = np.full(visitors.arrival.size, np.nan)
    call[order] = call_sorted
    return call


def simulate_site(model: SiteModel, *, seed: int) -> SimulationReport:
    """Simulate a site over ``len(model.sessions_by_day)`` days and report waits and workload.

    Deterministic for a seed. The queue does not carry over to the next day. Raises ValueError
    (from the model's own checks) on an inconsistent model.
    """
    rng = np.random.default_rng(seed)
    visitors, no_shows = _generate_visitors(model, rng)
    boundaries, closes, scheduled = _day_boundaries(
        model.sessions_by_day, model.overtime_limit_minutes
    )
    call = _run(visitors, model.procedures, boundaries, model.terminals, model.policy, closes)
    return _report(
        visitors=visitors,
        call=call,
        procedures=model.procedures,
        closes=closes,
        scheduled_counter_minutes=scheduled,
        no_shows=no_shows,
    )


def simulate_continuous_site(
    *,
    counters: int,
    walkin_arrivals_per_hour: float,
    procedures: Sequence[Procedure],
    customers: int,
    seed: int,
    walkin_procedure_mix: Sequence[float] = (1.0,),
    terminals: int | None = None,
) -> SimulationReport:
    """Simulate one never-closing session with Poisson walk-ins through the site event loop.

    With a single exponential procedure and no terminal limit this is the M/M/c model and draws
    the same random numbers as :func:`simulate_mmc`, so both give identical waits for a seed.
    ``utilization`` is busy time over ``counters × last departure``. Raises ValueError on
    non-positive sizes or rates.
    """
    if customers < 1 or counters < 1 or walkin_arrivals_per_hour <= 0:
        raise ValueError("customers, counters and walkin_arrivals_per_hour must be positive")
    _check_mix("walkin_procedure_mix", walkin_procedure_mix, len(procedures))
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(60.0 / walkin_arrivals_per_hour, customers))
    procedure = _choose_procedures(rng, walkin_procedure_mix, customers)
    visitors = _Visitors(
        arrival=arrival,
        slot_start=np.full(customers, np.nan),
        procedure=procedure,
        is_walk_in=np.ones(customers, dtype=bool),
        day=np.zeros(customers, dtype=np.intp),
        service=_draw_services(rng, procedures, procedure),
    )
    closes = np.empty(0)
    call = _run(visitors, procedures, [(0.0, counters, False)], terminals, "fcfs", closes)
    served = ~np.isnan(call)
    makespan = float(np.max((call + visitors.service)[served])) if served.any() else 0.0
    return _report(
        visitors=visitors,
        call=call,
        procedures=procedures,
        closes=closes,
        scheduled_counter_minutes=counters * makespan,
        no_shows=0,
    )
