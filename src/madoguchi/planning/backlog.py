"""Backlog early warning: project week by week how long a resident waits for a free slot.

The model, per site and per week ``w`` of the horizon:
- booking requests ``demand[w] = share[w] × take_up × notices[w]`` (plus, in week 0, the notices
  already mailed and not yet booked), where ``notices[w] = arrivals[w − notice_delay_weeks]``;
- free bookable seats ``seats[w]`` (already net of existing bookings);
- requests are served first come, first served, each by the earliest free seat.

A request made in week ``w`` (taken at mid-week) is the ``D(w)``-th request so far (cumulative);
it is served in the first week ``v`` with cumulative seats ``S(v) ≥ D(w)``, at the fraction ``f``
of week ``v`` where that seat falls. Its lead time is ``(v − w + f) × 7 − 3.5`` days, never less
than the booking window's first day. Resolution is a week; days are an interpolation, which is
what a manager needs to see a backlog coming, not a promise to a resident.

When the projected lead time passes the target inside the horizon, `propose_openings` adds
sessions from the options it is given (cheapest per seat first, earliest weeks first) until every
week meets the target or the options run out. When sessions alone cannot, it opens temporary
counters (`TemporarySite`, cheapest first, each with its fixed cost) while one helps, and adds
sessions again on top.

Demand is split between sites week by week: week ``w``'s booking requests go to the sites with
a seat in weeks ``w`` and ``w + 1`` (`split_weeks`: where a request made in week ``w`` books),
in proportion to their `SiteSupply.demand_share` (a site's seats per week it is open, against
the others'). So a temporary counter that opens late in the horizon takes requests from the week
before its first on — not a share of the early weeks it cannot serve, which would leave them
late and the counter never kept — and one that closes takes none after.

Pure: numpy and dataclasses only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "BacklogInput",
    "BacklogProjection",
    "OpeningOption",
    "OpeningProposal",
    "ProposalResult",
    "SiteSupply",
    "TemporarySite",
    "project_backlog",
    "propose_openings",
    "seats_per_open_week",
]

NEVER = math.inf
"""Lead time of a request no seat inside the horizon can serve."""


@dataclass(frozen=True)
class SiteSupply:
    """One site's free card pick-up seats per week and its share of the booking demand while it
    is open (the weeks it has no seat, the other open sites share its part)."""

    site_id: int
    name: str
    weekly_seats: Sequence[float]
    demand_share: float


@dataclass(frozen=True)
class BacklogInput:
    """Everything the projection needs; all per-week sequences have the horizon's length.

    `arrivals`: cards arriving from J-LIS per week. `notices_in_hand`: notices already mailed
    whose holders have not booked yet (they book from week 0). `take_up`: share of notified
    residents who book (the rest come another way or late). `min_lead_days`: the booking
    window's first day (nobody can book sooner).
    """

    arrivals: Sequence[float]
    sites: Sequence[SiteSupply]
    notices_in_hand: float = 0.0
    notice_delay_weeks: int = 1
    take_up: float = 1.0
    min_lead_days: float = 0.0
    split_weeks: int = 2
    """A week's requests go to the sites with a seat in that week or the following ones, this many
    weeks in all (a request books within about two weeks)."""

    def __post_init__(self) -> None:
        weeks = len(self.arrivals)
        if weeks == 0:
            raise ValueError("the horizon needs at least one week")
        for site in self.sites:
            if len(site.weekly_seats) != weeks:
                raise ValueError(
                    f"site {site.site_id}: {len(site.weekly_seats)} weeks of seats, "
                    f"expected {weeks}"
                )
            if site.demand_share < 0 or any(s < 0 for s in site.weekly_seats):
                raise ValueError(f"site {site.site_id}: negative seats or share")
        shares = sum(site.demand_share for site in self.sites)
        if self.sites and not math.isclose(shares, 1.0, abs_tol=1e-6):
            raise ValueError(f"demand shares must add up to 1, got {shares:.4f}")
        if self.split_weeks < 1:
            raise ValueError("split_weeks must be ≥ 1")
        if not 0 <= self.take_up <= 1:
            raise ValueError("take_up must be between 0 and 1")
        if (
            self.notice_delay_weeks < 0
            or self.notices_in_hand < 0
            or any(a < 0 for a in self.arrivals)
        ):
            raise ValueError("arrivals, notices in hand and the notice delay must be ≥ 0")

    @property
    def weeks(self) -> int:
        return len(self.arrivals)


@dataclass(frozen=True)
class BacklogProjection:
    """Per site (rows, in input order) and week (columns): demand, seats, lead time in days."""

    site_ids: tuple[int, ...]
    demand: FloatArray
    seats: FloatArray
    lead_days: FloatArray
    unserved_at_end: FloatArray

    def worst_lead_days(self) -> FloatArray:
        """The longest projected lead time per site over the horizon (inf: beyond it)."""
        worst: FloatArray = np.max(self.lead_days, axis=1)
        return worst

    def first_breach(self, target_days: float) -> tuple[int, int] | None:
        """(site row, week) of the earliest week whose lead time passes `target_days`."""
        return _first(self.lead_days, target_days)


def _booking_demand(data: BacklogInput) -> FloatArray:
    arrivals = np.asarray(data.arrivals, dtype=np.float64)
    notices = np.zeros(data.weeks)
    delay = data.notice_delay_weeks
    if delay < data.weeks:
        notices[delay:] = arrivals[: data.weeks - delay]
    notices[0] += data.notices_in_hand
    return notices * data.take_up


@dataclass(frozen=True)
class _Served:
    lead_days: FloatArray
    pending_after: FloatArray
    unserved: float


def _serve(demand: FloatArray, seats: FloatArray, min_lead_days: float) -> _Served:
    """First come, first served with perishable seats: a week's unused seats are lost."""
    weeks = demand.size
    lead = np.full(weeks, NEVER)
    pending_after = np.zeros(weeks)
    queue: list[list[float]] = []  # [cohort week, requests still waiting]
    for week in range(weeks):
        if demand[week] > 0:
            queue.append([float(week), float(demand[week])])
        else:
            lead[week] = min_lead_days
        free = float(seats[week])
        while queue and free > 1e-9:
            cohort = queue[0]
            taken = min(free, cohort[1])
            cohort[1] -= taken
            free -= taken
            if cohort[1] <= 1e-9:
                fraction = 1.0 - free / seats[week]
                cohort_week = int(cohort[0])
                lead[cohort_week] = max(min_lead_days, (week - cohort_week + fraction) * 7 - 3.5)
                queue.pop(0)
        pending_after[week] = sum(c[1] for c in queue)
    return _Served(lead, pending_after, float(pending_after[-1]))


def _weekly_shares(data: BacklogInput, seats: FloatArray) -> FloatArray:
    """Each site's share of week ``w``'s booking demand: the sites' `demand_share`, among the
    sites with a seat in weeks ``w`` to ``w + split_weeks − 1`` (where a request made in week
    ``w`` books) — a site not open yet, or no longer, takes none; when no site has a seat then,
    the shares as given."""
    ahead = np.cumsum(np.pad(seats, ((0, 0), (0, data.split_weeks))), axis=1)
    window = ahead[:, data.split_weeks - 1 : data.split_weeks - 1 + data.weeks].copy()
    window[:, 1:] -= ahead[:, : data.weeks - 1]
    given = np.array([site.demand_share for site in data.sites], dtype=np.float64)
    weights = given[:, None] * (window > 1e-9)
    totals = weights.sum(axis=0)
    shares = np.repeat(given[:, None], data.weeks, axis=1)
    open_weeks = totals > 1e-12
    shares[:, open_weeks] = weights[:, open_weeks] / totals[open_weeks]
    return shares


def project_backlog(data: BacklogInput) -> BacklogProjection:
    """Project booking demand, seats and lead time per site and week (see the module's model)."""
    total = _booking_demand(data)
    rows = len(data.sites)
    seats = np.zeros((rows, data.weeks))
    lead = np.zeros((rows, data.weeks))
    unserved = np.zeros(rows)
    for row, site in enumerate(data.sites):
        seats[row] = np.asarray(site.weekly_seats, dtype=np.float64)
    demand = total * _weekly_shares(data, seats)
    for row in range(rows):
        served = _serve(demand[row], seats[row], data.min_lead_days)
        lead[row], unserved[row] = served.lead_days, served.unserved
    return BacklogProjection(
        site_ids=tuple(site.site_id for site in data.sites),
        demand=demand,
        seats=seats,
        lead_days=lead,
        unserved_at_end=unserved,
    )


@dataclass(frozen=True)
class OpeningOption:
    """A kind of extra opening a site can add: e.g. a Saturday morning with 3 counters.

    `seats` is what one such session adds to the site's card pick-up seats; at most
    `max_per_week` of them a week, from week `first_week` on (staff need notice).

    `session_seats`, when given, is exact and wins over both: ``session_seats[w][i]`` is what the
    ``i``-th session added in week ``w`` adds (the caller computes it with the code that will
    create the slots — the split between procedures, the terminals, the walk-in share — for the
    days that session would take); its length is how many sessions week ``w`` can take (0: none).
    """

    site_id: int
    session_kind: str
    seats: float
    cost: float
    max_per_week: int = 1
    first_week: int = 1
    label: str = ""
    session_seats: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        if self.seats <= 0 or self.cost < 0 or self.max_per_week < 1 or self.first_week < 0:
            raise ValueError("an opening option needs seats > 0, cost ≥ 0, max_per_week ≥ 1")
        if self.session_seats is not None and any(
            s < 0 for week in self.session_seats for s in week
        ):
            raise ValueError("session seats must be ≥ 0")

    def sessions_in(self, week: int) -> int:
        """How many sessions week `week` can take."""
        if week < self.first_week:
            return 0
        if self.session_seats is None:
            return self.max_per_week
        return len(self.session_seats[week]) if week < len(self.session_seats) else 0

    def seats_of(self, week: int, sessions: int) -> float:
        """Seats that `sessions` sessions in week `week` add (the first ones of that week)."""
        if self.session_seats is None:
            return self.seats * sessions
        return float(sum(self.session_seats[week][:sessions]))


@dataclass(frozen=True)
class OpeningProposal:
    """Add `sessions` sessions of `option` in week `week` (0 = the horizon's first week)."""

    option: OpeningOption
    week: int
    sessions: int

    @property
    def seats(self) -> float:
        return self.option.seats_of(self.week, self.sessions)

    @property
    def cost(self) -> float:
        return self.option.cost * self.sessions


@dataclass(frozen=True)
class TemporarySite:
    """A temporary counter that could be opened: its card pick-up seats per week of the horizon
    (0 outside its dates) and its whole cost — fixed costs and staff — when opened.
    `site_id` must differ from every site's (the caller passes e.g. the candidate's id negated)."""

    site_id: int
    name: str
    weekly_seats: Sequence[float]
    cost: float

    def __post_init__(self) -> None:
        if self.cost < 0 or any(s < 0 for s in self.weekly_seats):
            raise ValueError("a temporary counter needs seats ≥ 0 and cost ≥ 0")

    @property
    def seats(self) -> float:
        return float(sum(self.weekly_seats))


@dataclass(frozen=True)
class ProposalResult:
    """`after` is the projection with every proposal added (opened temporary counters are rows
    after the input's sites). `resolved`: no site passes the target any more. For each site that
    still does, `shortfall_seats_per_week[site_id]` is the extra seats a week from week 1 on (on
    top of the proposals) that would bring it within the target — what a temporary counter,
    outsourced setup or more terminals must provide."""

    before: BacklogProjection
    after: BacklogProjection
    proposals: tuple[OpeningProposal, ...]
    resolved: bool
    unresolved_site_ids: tuple[int, ...] = field(default_factory=tuple)
    shortfall_seats_per_week: dict[int, float] = field(default_factory=dict)
    opened: tuple[TemporarySite, ...] = field(default_factory=tuple)

    @property
    def cost(self) -> float:
        return sum(p.cost for p in self.proposals) + sum(t.cost for t in self.opened)

    @property
    def seats(self) -> float:
        """Seats all proposals add together (sessions and temporary counters)."""
        return sum(p.seats for p in self.proposals) + sum(t.seats for t in self.opened)


def _deadline_week(week: int, target_days: float) -> int:
    """The last week whose seats still serve a mid-week-`week` request within `target_days`."""
    return week + max(0, math.floor((target_days + 3.5) / 7) - 1)


def propose_openings(
    data: BacklogInput,
    options: Sequence[OpeningOption],
    *,
    temporary: Sequence[TemporarySite] = (),
    target_days: float = 14.0,
    max_rounds: int = 10_000,
) -> ProposalResult:
    """Openings to add so the projected lead time stays within `target_days` at every site.

    Greedy and explainable: take the earliest breach; add the cheapest-per-seat session option
    of that site in the earliest allowed week up to the breach's deadline that still has room;
    repeat until the projection meets the target or the options run out. When sessions alone
    leave a site late, open the temporary counters (cheapest first) one at a time, each kept only
    when it lowers the breaches, and plan the sessions again on top. A site still late is
    reported in `unresolved_site_ids`, with the extra weekly seats it would still need in
    `shortfall_seats_per_week`.
    """
    before = project_backlog(data)
    plan = _plan_sessions(data, options, target_days, max_rounds)
    opened: list[TemporarySite] = []
    base = data
    for candidate in sorted(temporary, key=lambda t: (t.cost, -t.seats, t.site_id)):
        if not plan.unresolved:
            break
        if candidate.seats <= 0:
            continue
        trial_base = _with_temporary(base, candidate)
        trial = _plan_sessions(trial_base, options, target_days, max_rounds)
        if trial.badness < plan.badness:
            base, plan = trial_base, trial
            opened.append(candidate)
    return ProposalResult(
        before=before,
        after=plan.after,
        proposals=plan.proposals,
        resolved=not plan.unresolved,
        unresolved_site_ids=plan.unresolved,
        shortfall_seats_per_week={
            site_id: _shortfall(plan.current, site_id, target_days) for site_id in plan.unresolved
        },
        opened=tuple(opened),
    )


@dataclass(frozen=True)
class _SessionPlan:
    current: BacklogInput
    after: BacklogProjection
    proposals: tuple[OpeningProposal, ...]
    unresolved: tuple[int, ...]
    badness: tuple[int, int, float]
    """Sites late, (site, week)s late, days beyond the target summed (capped a week at a year)."""


def _with_temporary(data: BacklogInput, site: TemporarySite) -> BacklogInput:
    """`data` with the temporary counter as one more site: while open, it takes the share of the
    demand that its seats per open week are of every site's (`seats_per_open_week`)."""
    existing = sum(seats_per_open_week(s.weekly_seats) for s in data.sites)
    own = seats_per_open_week(site.weekly_seats)
    share = own / (existing + own) if existing + own > 0 else 0.0
    sites = [replace(s, demand_share=s.demand_share * (1 - share)) for s in data.sites]
    sites.append(
        SiteSupply(
            site_id=site.site_id,
            name=site.name,
            weekly_seats=tuple(float(s) for s in site.weekly_seats),
            demand_share=share if data.sites else 1.0,
        )
    )
    return replace(data, sites=sites)


def seats_per_open_week(weekly_seats: Sequence[float]) -> float:
    """A site's seats per week it has any (what its demand share is worked out from)."""
    open_weeks = [s for s in weekly_seats if s > 1e-9]
    return float(sum(open_weeks)) / len(open_weeks) if open_weeks else 0.0


def _plan_sessions(
    data: BacklogInput, options: Sequence[OpeningOption], target_days: float, max_rounds: int
) -> _SessionPlan:
    added: dict[tuple[int, int], int] = {}
    by_site: dict[int, list[OpeningOption]] = {}
    for option in sorted(options, key=lambda o: (o.cost / o.seats, o.first_week)):
        # `seats` is the typical session's (with session_seats, the caller passes their mean)
        by_site.setdefault(option.site_id, []).append(option)
    current = data
    gave_up: set[int] = set()
    for _ in range(max_rounds):
        projection = project_backlog(current)
        lead = projection.lead_days.copy()
        for row, site in enumerate(current.sites):
            if site.site_id in gave_up:
                lead[row] = 0
        breach = _first(lead, target_days)
        if breach is None:
            break
        row, week = breach
        site = current.sites[row]
        deadline = min(_deadline_week(week, target_days), current.weeks - 1)
        served = _serve(projection.demand[row], projection.seats[row], current.min_lead_days)
        earliest = _busy_period_start(served.pending_after, week)
        choice = _next_slot(by_site.get(site.site_id, []), added, earliest, deadline)
        if choice is None:
            gave_up.add(site.site_id)
            continue
        option_index, option_week = choice
        option = by_site[site.site_id][option_index]
        count = added.get((id(option), option_week), 0)
        added[(id(option), option_week)] = count + 1
        seats = list(site.weekly_seats)
        seats[option_week] += option.seats_of(option_week, count + 1) - option.seats_of(
            option_week, count
        )
        sites = list(current.sites)
        sites[row] = replace(site, weekly_seats=seats)
        current = replace(current, sites=sites)
    proposals = tuple(
        OpeningProposal(option=option, week=week, sessions=count)
        for site_options in by_site.values()
        for option in site_options
        for (key, week), count in sorted(added.items(), key=lambda kv: kv[0][1])
        if key == id(option)
    )
    after = project_backlog(current)
    late_cells = after.lead_days > target_days
    late = {
        current.sites[row].site_id for row in range(len(current.sites)) if late_cells[row].any()
    }
    excess = np.minimum(after.lead_days - target_days, 365.0)
    return _SessionPlan(
        current=current,
        after=after,
        proposals=tuple(sorted(proposals, key=lambda p: (p.week, p.option.site_id))),
        unresolved=tuple(sorted(gave_up | late)),
        badness=(len(late), int(late_cells.sum()), float(excess[late_cells].sum())),
    )


def _shortfall(data: BacklogInput, site_id: int, target_days: float) -> float:
    """The fewest whole extra seats a week, from week 1 on, that keep `site_id` within the
    target (bisection; inf when no number can: a breach week 1 cannot serve in time)."""
    row = next(i for i, site in enumerate(data.sites) if site.site_id == site_id)
    site = data.sites[row]

    def meets(extra: int) -> bool:
        seats = [s + (extra if week >= 1 else 0.0) for week, s in enumerate(site.weekly_seats)]
        sites = list(data.sites)
        sites[row] = replace(site, weekly_seats=seats)
        lead = project_backlog(replace(data, sites=sites)).lead_days[row]
        return bool(np.all(lead <= target_days))

    high = max(1, math.ceil(float(np.sum(_booking_demand(data)))))
    if not meets(high):
        return NEVER
    low = 0  # it does not meet the target as it is
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if meets(middle) else (middle, high)
    return float(high)


def _first(lead: FloatArray, target_days: float) -> tuple[int, int] | None:
    breaches = np.argwhere(lead > target_days)
    if breaches.size == 0:
        return None
    row, week = min(((int(r), int(w)) for r, w in breaches), key=lambda rw: (rw[1], rw[0]))
    return row, week


def _busy_period_start(pending_after: FloatArray, week: int) -> int:
    """First week of the unbroken backlog reaching `week`: seats added from it on get used."""
    start = week
    while start > 0 and pending_after[start - 1] > 1e-9:
        start -= 1
    return start


def _next_slot(
    options: Sequence[OpeningOption],
    added: dict[tuple[int, int], int],
    earliest: int,
    deadline: int,
) -> tuple[int, int] | None:
    """The cheapest option (they are sorted) with room in the earliest useful week."""
    for index, option in enumerate(options):
        for week in range(max(option.first_week, earliest), deadline + 1):
            count = added.get((id(option), week), 0)
            if count < option.sessions_in(week) and option.seats_of(
                week, count + 1
            ) > option.seats_of(week, count):
                return index, week
    return None
