"""Adapter for the weekly staffing plan: live data → `planning.staffing.StaffingProblem` → a plan.

Reads the register forecast, each site's calendar, counters and terminals; the optimiser in
`madoguchi.planning.staffing` decides. Conventions (what a reviewer will ask about):

* The plan covers whole ISO weeks from next Monday: this week's roster is already set, and a
  week starting on or after the 1st of this month is never cut short by the forecast horizon.
* Workload in counter-hours = all the counter work of `selectors.municipality_work` at the
  municipality's minutes (card hand-overs after the production lag, applications at the counter,
  certificate renewals, PIN resets, other visits; no allowance for idle time). Card work goes
  where cards are handed over, certificate work and PIN resets where certificates are renewed.
* Each procedure's work in a week is split between the sites offering it in proportion to their
  calendar capacity for it that week (open minutes × counters, capped by terminals): a post office
  takes only certificate work, a temporary site only work in the weeks it is open.
* The optimiser has one set of session kinds for all sites. Each kind's hours come from the
  calendars — the first site (main office first) with a weekly session of that kind — clamped to
  20:00, and its days per week are the most any site opens that kind; a kind no calendar has
  uses `default_session_kinds()`. Per site, the plan may use a kind on as many days a week as
  its calendar has it; a main or branch office may also add up to `EXTRA_DAYS_AT_OFFICES` (two
  evenings, one Saturday) — the levers the national guidance names — while a post office or a
  temporary counter keeps to its own calendar (no evenings at a post office).
* A site opens at most its active counters at once, capped by its active terminals (every renewal
  needs a terminal); a site is open in a week if its opening period covers any day of it.
* Costs are in yen: the relative costs (a weekday counter-hour is 1) times the municipality's
  blended weekday rate (`StaffingSettings.weekday_rate_yen`). Work still waiting after the
  last week is priced at the dearest session hour (no closing at the horizon); each counter-hour
  a site's weekly hours move costs `StaffingSettings.change_cost` (a steadier roster).
* Back-office hours (set-up and notices of the cards delivered) go to the permanent sites that
  hand over cards, in proportion to their card work, and count against the staff limits at the
  weekday rate. Each kind may wait for the days the policy allows (`BackOfficeWork`): set-up
  `setup_deadline_days` after the cards arrive (a week's deliveries taken as spread evenly over
  its days, so 10 days lets 3/7 of a week's set-up wait into the week after next), notices
  `notice_delay_weeks` × 7 days (the week the notice is due). Set-up needs an integrated
  terminal when the policy says so: a site's active terminals × the hours of the sessions it
  may hold in a week are shared between its counter-sessions (each takes a terminal) and set-up
  (`terminal_hours_per_week`).
* A temporary site linked to its `TemporaryCounterOption` is a binary choice with its fixed
  costs in the horizon (`temporary_fixed_costs`); its work may move to the permanent sites that
  hand over cards and theirs to it (`_shares_work`), so closing it stays possible.
* A candidate not yet opened as a site (a `TemporaryCounterOption` with no site, when the policy
  allows temporary counters and its dates meet the horizon) is the same open/don't-open choice:
  its planned calendar (`services.planned_temporary_calendar`, from the plan's first Monday at the
  earliest — what `open_temporary_counter` would create), card pick-up only, at most
  min(counters, terminals) at once, with its fixed costs. Residents do not go to a counter that
  does not exist yet, so no work arises there: the permanent sites that hand over cards may send
  it theirs (at the spill price), and it appears in the plan and the claim only when opened.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter as Tally
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from madoguchi.core.dates import monday_of
from madoguchi.forecasts.models import PlanningPolicy, TemporaryCounterOption, policy_for
from madoguchi.forecasts.selectors import (
    Snapshots,
    municipality_forecast,
    municipality_work,
    newest_snapshots,
)
from madoguchi.forecasts.services import planned_temporary_calendar, site_slot_inputs_of
from madoguchi.offices.calendar import SiteCalendar, procedure_periods
from madoguchi.offices.models import (
    Municipality,
    OpeningSession,
    Procedure,
    ProcedureCode,
    Site,
    SiteKind,
)
from madoguchi.offices.selectors import active_sites, offered_procedures
from madoguchi.planning.demand import DemandOptions
from madoguchi.planning.staffing import (
    CARD_SYSTEM_CLOSES_HOUR,
    BackOfficeWork,
    SessionKind,
    StaffingError,
    StaffingInfeasibleError,
    StaffingPlan,
    StaffingProblem,
    default_session_kinds,
    solve_staffing,
)
from madoguchi.planning.workload import BACK_OFFICE_KINDS, PICKUP_WORK, PIN_RESET_WORK

FloatArray = npt.NDArray[np.float64]

KIND_NAMES = ("weekday", "evening", "weekend")
KIND_LABELS = {
    "weekday": "平日",
    "evening": "夜間",
    "weekend": "休日",
    "back_office": "事務（交付前設定・通知）",
}
DEFAULT_TIME_LIMIT_SECONDS = 5.0
MIP_REL_GAP = 0.01


@dataclass(frozen=True)
class StaffingSettings:
    """What the manager chooses: horizon in weeks, take-up, lead-time target, relative costs
    (a weekday hour = `weekday_cost`) and the yen of one weekday counter-hour they multiply
    (the municipality's blended rate, `PlanningPolicy.blended_rate_yen`), so the plan's cost is
    in yen."""

    weeks: int = 26
    take_up: float = 0.9
    lead_time_weeks: float = 2.0
    weekday_cost: float = 1.0
    evening_cost: float = 1.25
    weekend_cost: float = 1.5
    change_cost: float = 0.25
    weekday_rate_yen: float = 3000.0
    total_staff_hours_per_week: float | None = None
    """Counter-hours all sites together may open in a week (the policy's staff limit)."""
    setup_deadline_days: int = 7
    """Days set-up may wait after the cards arrive (the policy's `setup_deadline_days`)."""
    notice_deadline_days: int = 7
    """Days notices may wait after the cards arrive (the policy's notice delay, in days)."""
    """Price of each counter-hour a site's weekly hours move from one week to the next, in
    weekday hours: a steadier roster for a little more staff time (0 = follow demand freely)."""


@dataclass(frozen=True)
class StaffingInput:
    """The problem handed to the optimiser, with what the page needs to explain it.

    ``card_hours`` / ``cert_hours`` are [week, site] counter-hours of each kind of work (their sum
    is ``problem.demand_hours``); ``card_renewals`` / ``cert_renewals`` the weekly forecast.
    """

    problem: StaffingProblem
    week_starts: list[dt.date]
    sites: list[Site]
    card_renewals: FloatArray
    cert_renewals: FloatArray
    card_hours: FloatArray
    cert_hours: FloatArray
    fixed_costs: tuple[FixedCost, ...] = ()
    """The temporary sites' fixed costs in the horizon (the optimiser opens a site or not)."""
    candidates: tuple[tuple[int, int], ...] = ()
    """(site index, option pk) of the candidates not yet opened: their `sites` entry is the
    unsaved site `open_temporary_counter` would create."""

    def is_candidate(self, site_index: int) -> bool:
        """Whether site `site_index` is a candidate not yet opened (see `candidates`)."""
        return any(index == site_index for index, _ in self.candidates)

    @property
    def back_office_hours(self) -> FloatArray:
        """[week, site] staff hours of back-office work arising (cards delivered)."""
        return self.problem.back_office


def planned_back_office(staffing: StaffingInput, plan: StaffingPlan) -> FloatArray:
    """[week, site] back-office hours the plan does (work that may wait is done when it fits)."""
    if plan.back_office_hours is None:
        return staffing.back_office_hours
    return plan.back_office_hours


@dataclass(frozen=True)
class FixedCost:
    """One fixed cost of temporary site `site_index`: `kind` setup (in the month it opens) or
    monthly (every month of the horizon it is open on any day), in `period` YYYY-MM."""

    site_index: int
    period: str
    kind: str
    yen: int


def _option_fixed_costs(
    option: TemporaryCounterOption,
    site_index: int,
    opens_on: dt.date,
    week_starts: list[dt.date],
) -> list[FixedCost]:
    """`option`'s set-up cost in the month it opens (`opens_on`), when that day is in the horizon,
    and its monthly cost for every month of the horizon in which it is open."""
    first = week_starts[0]
    last = week_starts[-1] + dt.timedelta(days=6)
    costs = []
    setup = int(option.setup_cost_yen)
    if setup > 0 and first <= opens_on <= last:
        period = f"{opens_on.year:04d}-{opens_on.month:02d}"
        costs.append(FixedCost(site_index, period, "setup", setup))
    monthly = int(option.monthly_cost_yen)
    if monthly > 0:
        day = max(first, opens_on).replace(day=1)
        while day <= min(last, option.closes_on):
            costs.append(
                FixedCost(site_index, f"{day.year:04d}-{day.month:02d}", "monthly", monthly)
            )
            day = (day + dt.timedelta(days=32)).replace(day=1)
    return costs


def temporary_fixed_costs(
    sites: list[Site],
    week_starts: list[dt.date],
    candidates: dict[int, TemporaryCounterOption] | None = None,
) -> tuple[FixedCost, ...]:
    """The fixed costs within the plan's horizon of the temporary sites linked to their
    `TemporaryCounterOption` and of the `candidates` (site index → option not yet opened, whose
    site would open on its `open_from`): the set-up cost in the month it opens, when that month
    is in the horizon, and the monthly cost for every month of the horizon in which it is open."""
    index = {
        site.pk: i
        for i, site in enumerate(sites)
        if site.kind == SiteKind.TEMPORARY and site.pk is not None
    }
    costs = []
    for option in TemporaryCounterOption.objects.filter(site_id__in=list(index)):
        assert option.site_id is not None  # filtered on site_id
        costs.extend(
            _option_fixed_costs(option, index[option.site_id], option.opens_on, week_starts)
        )
    for site_index, option in sorted((candidates or {}).items()):
        opens_on = sites[site_index].open_from or option.opens_on
        costs.extend(_option_fixed_costs(option, site_index, opens_on, week_starts))
    return tuple(costs)


@dataclass(frozen=True)
class StaffingOutcome:
    """A solved plan, or a Japanese message saying why there is none (``plan`` is then None)."""

    staffing: StaffingInput
    plan: StaffingPlan | None
    error: str | None


CARD_COUNTER_WORK = (PICKUP_WORK, "application", "application_in_person", "other_visit")
"""Counter work served where cards are handed over (`selectors.counter_needs` sends it there)."""
CERT_COUNTER_WORK = ("cert_renewal", PIN_RESET_WORK)
"""Counter work served where certificates are renewed (a post office takes its share)."""


def _counter_work_hours(
    municipality: Municipality,
    *,
    start: dt.date,
    months: int,
    settings: StaffingSettings,
    week_starts: list[dt.date],
    policy: PlanningPolicy,
    snapshots: Snapshots,
) -> tuple[FloatArray, FloatArray, dict[str, tuple[FloatArray, bool]]]:
    """Counter-hours per plan week of all the counter work (`selectors.municipality_work`:
    hand-overs after the production lag, applications, certificates, PIN resets, other visits,
    each at the municipality's minutes), split into card work and certificate work; and per
    kind of back-office work (set-up, notices of the cards delivered) its hours and whether it
    needs a terminal. `policy`, `snapshots`: the municipality's planning policy and newest
    register snapshots, read by the caller."""
    work = municipality_work(
        municipality,
        start=start,
        months=months,
        take_up=settings.take_up,
        policy=policy,
        snapshots=snapshots,
    )
    first = work.week_starts.index(week_starts[0])
    weeks = slice(first, first + len(week_starts))
    load = work.workload
    card = sum((load.hours(kind)[weeks] for kind in CARD_COUNTER_WORK), np.zeros(len(week_starts)))
    cert = sum((load.hours(kind)[weeks] for kind in CERT_COUNTER_WORK), np.zeros(len(week_starts)))
    back_office = {
        kind: (np.asarray(load.hours(kind)[weeks]), load.kinds[kind].needs_terminal)
        for kind in sorted(BACK_OFFICE_KINDS)
    }
    return np.asarray(card), np.asarray(cert), back_office


def _weekly_capacity_hours(
    calendar: SiteCalendar, procedure: Procedure, week_starts: list[dt.date], terminals: int
) -> FloatArray:
    """Counter-hours `procedure` can be served per week by the site's calendar."""
    hours = np.zeros(len(week_starts))
    for index, monday in enumerate(week_starts):
        for offset in range(7):
            for period in procedure_periods(calendar, procedure, monday + dt.timedelta(offset)):
                positions = period.counters
                if procedure.needs_terminal:
                    positions = min(positions, terminals)
                hours[index] += positions * period.minutes / 60
    return hours


def _split(total: FloatArray, capacity: FloatArray) -> FloatArray:
    """Share each week's `total` [week] between sites in proportion to `capacity` [week, site].

    A week in which no site offers the work (e.g. every site closed) uses the sites' shares over
    the whole horizon, so no work is lost; with no capacity at all, nothing is assigned.
    """
    weekly = capacity.sum(axis=1, keepdims=True)
    overall = capacity.sum(axis=0)
    fallback = overall / overall.sum() if overall.sum() > 0 else np.zeros_like(overall)
    shares = np.where(weekly > 0, capacity / np.where(weekly > 0, weekly, 1.0), fallback)
    result: FloatArray = total[:, None] * shares
    return result


def _hour(value: dt.time) -> float:
    return value.hour + value.minute / 60


def session_kinds_from_calendars(
    sessions_by_site: list[list[OpeningSession]], settings: StaffingSettings
) -> tuple[SessionKind, ...]:
    """Weekday, evening and weekend kinds with hours from the calendars (see module docstring)."""
    costs = {
        "weekday": settings.weekday_cost * settings.weekday_rate_yen,
        "evening": settings.evening_cost * settings.weekday_rate_yen,
        "weekend": settings.weekend_cost * settings.weekday_rate_yen,
    }
    defaults = {kind.name: kind for kind in default_session_kinds()}
    kinds = []
    for name in KIND_NAMES:
        found = [
            [s for s in sessions if s.kind == name and s.valid_until is None]
            or [s for s in sessions if s.kind == name]
            for sessions in sessions_by_site
        ]
        with_kind = [sessions for sessions in found if sessions]
        if with_kind:
            common = Tally((s.starts_at_time, s.ends_at_time) for s in with_kind[0])
            (starts, ends), _ = common.most_common(1)[0]
            start_hour = _hour(starts)
            end_hour = min(_hour(ends), CARD_SYSTEM_CLOSES_HOUR)
            days = max(len({s.weekday for s in sessions}) for sessions in with_kind)
        else:
            default = defaults[name]
            start_hour, end_hour, days = (
                default.start_hour,
                default.end_hour,
                int(default.days_per_week),
            )
        kinds.append(SessionKind(name, start_hour, end_hour, days, costs[name]))
    return tuple(kinds)


EXTRA_DAYS_AT_OFFICES = {"weekday": 0, "evening": 2, "weekend": 1}
"""Days a week of each kind a main or branch office may add beyond its calendar."""


def site_kind_days(
    site: Site, sessions: list[OpeningSession], kinds: tuple[SessionKind, ...]
) -> list[float]:
    """Days a week `site` may hold each session kind (see the module docstring)."""
    days = []
    for kind in kinds:
        existing = len({s.weekday for s in sessions if s.kind == kind.name})
        if site.kind in (SiteKind.MAIN_OFFICE, SiteKind.BRANCH_OFFICE):
            existing = max(existing, EXTRA_DAYS_AT_OFFICES.get(kind.name, 0))
        days.append(float(min(existing, kind.days_per_week)))
    return days


def staffing_input(
    municipality: Municipality,
    *,
    today: dt.date,
    settings: StaffingSettings,
    policy: PlanningPolicy | None = None,
) -> StaffingInput:
    """Build the staffing problem for `municipality` from live data (see module docstring).
    `policy`: the municipality's planning policy when the caller has read it (the settings'
    own).

    Raises ValueError when the horizon or take-up is out of range, StaffingError when the
    municipality has no site offering renewals.
    """
    if not 1 <= settings.weeks <= 104:
        raise ValueError("weeks must be within 1..104")
    first_monday = monday_of(today) + dt.timedelta(weeks=1)
    week_starts = [first_monday + dt.timedelta(weeks=w) for w in range(settings.weeks)]
    start = today.replace(day=1)
    last_day = week_starts[-1] + dt.timedelta(days=6)
    months = (last_day.year - start.year) * 12 + last_day.month - start.month + 1
    snapshots = newest_snapshots(municipality.pk)  # one register for the demand and the work
    forecast = municipality_forecast(
        municipality,
        start=start,
        months=months,
        by="week",
        options=DemandOptions(take_up=settings.take_up),
        snapshots=snapshots,
    )
    first_index = forecast.labels.index(first_monday.isoformat())
    card = np.asarray(forecast.card_renewals[first_index : first_index + settings.weeks])
    cert = np.asarray(forecast.cert_renewals[first_index : first_index + settings.weeks])

    procedures = {
        p.code: p
        for p in Procedure.objects.filter(
            code__in=(ProcedureCode.CARD_PICKUP, ProcedureCode.CERT_RENEWAL)
        )
    }
    sites: list[Site] = []
    card_capacity: list[FloatArray] = []
    cert_capacity: list[FloatArray] = []
    max_counters: list[int] = []
    terminal_counts: list[int] = []
    open_weeks: list[list[bool]] = []
    sessions_by_site: list[list[OpeningSession]] = []
    # the sites offering renewals, each's calendar and active counters and terminals read for
    # all of them at once (`site_slot_inputs_of`: the calendars in three statements, the counts
    # in one each, instead of five statements a site)
    offering = [
        site
        for site in active_sites().filter(municipality=municipality)
        if any(p.code in procedures for p in offered_procedures(site))
    ]
    for inputs in site_slot_inputs_of(offering):
        site, calendar = inputs.site, inputs.calendar
        offered = [p for p in inputs.procedures if p.code in procedures]
        counters, terminals = inputs.counters, inputs.terminals
        capacity = {
            p.code: _weekly_capacity_hours(calendar, p, week_starts, terminals) for p in offered
        }
        sites.append(site)
        card_capacity.append(capacity.get(ProcedureCode.CARD_PICKUP, np.zeros(settings.weeks)))
        cert_capacity.append(capacity.get(ProcedureCode.CERT_RENEWAL, np.zeros(settings.weeks)))
        max_counters.append(min(counters, terminals))
        terminal_counts.append(terminals)
        open_weeks.append(
            [
                any(site.is_open_on_date(monday + dt.timedelta(d)) for d in range(7))
                for monday in week_starts
            ]
        )
        sessions_by_site.append(calendar.sessions)
    if not sites:
        raise StaffingError("no active site offers card or certificate renewals")
    candidates: dict[int, TemporaryCounterOption] = {}
    pickup = procedures.get(ProcedureCode.CARD_PICKUP)
    # read once, for the candidates and the counter work
    policy = policy or policy_for(municipality.pk)
    if pickup is not None and policy.allow_temporary_counters:
        for option, calendar in _candidate_calendars(municipality, week_starts):
            candidates[len(sites)] = option
            sites.append(calendar.site)
            card_capacity.append(
                _weekly_capacity_hours(calendar, pickup, week_starts, option.terminals)
            )
            cert_capacity.append(np.zeros(settings.weeks))
            max_counters.append(min(option.counters, option.terminals))
            terminal_counts.append(option.terminals)
            open_weeks.append(
                [
                    any(calendar.site.is_open_on_date(monday + dt.timedelta(d)) for d in range(7))
                    for monday in week_starts
                ]
            )
            sessions_by_site.append(calendar.sessions)

    card_work, cert_work, back_office_kinds = _counter_work_hours(
        municipality,
        start=start,
        months=months,
        settings=settings,
        week_starts=week_starts,
        policy=policy,
        snapshots=snapshots,
    )
    # no work arises at a candidate (see the module docstring): it gets none of the split
    arising = np.array([i not in candidates for i in range(len(sites))])
    card_hours = _split(card_work, np.array(card_capacity).T * arising)
    cert_hours = _split(cert_work, np.array(cert_capacity).T * arising)
    # back-office work (set-up, notices) is done at the permanent sites that hand over cards, in
    # proportion to their card work: a temporary counter hands over cards set up elsewhere
    permanent_card = card_hours * np.array([site.kind != SiteKind.TEMPORARY for site in sites])
    deadlines = {"setup": settings.setup_deadline_days, "notice": settings.notice_deadline_days}
    back_office = tuple(
        BackOfficeWork(
            name=kind,
            hours=_split(hours, permanent_card if permanent_card.sum() > 0 else card_hours),
            deadline_days=min(deadlines.get(kind, 0), 7 * settings.weeks),
            needs_terminal=needs_terminal,
        )
        for kind, (hours, needs_terminal) in back_office_kinds.items()
    )
    # the kinds' hours come from the sites that exist: a candidate does not shape them
    kinds = session_kinds_from_calendars(
        [sessions for i, sessions in enumerate(sessions_by_site) if i not in candidates], settings
    )
    fixed_costs = temporary_fixed_costs(sites, week_starts, candidates)
    fixed = np.full(len(sites), np.nan)
    fixed[list(candidates)] = 0.0  # a candidate is a choice even when it costs nothing fixed
    for cost in fixed_costs:
        fixed[cost.site_index] = np.nan_to_num(fixed[cost.site_index]) + cost.yen
    temporary = [i for i, site in enumerate(sites) if not np.isnan(fixed[i])]
    permanent = [i for i, site in enumerate(sites) if site.kind != SiteKind.TEMPORARY]
    # a temporary site with a fixed cost may stay closed: its work can go to the permanent
    # sites offering the same work, and theirs to it
    spill = tuple(
        pair
        for t in temporary
        for p in permanent
        for pair in ((t, p), (p, t))
        if _shares_work(card_capacity, cert_capacity, t, p)
    )
    site_days = np.array(
        [
            site_kind_days(site, sessions, kinds)
            for site, sessions in zip(sites, sessions_by_site, strict=True)
        ],
        dtype=np.float64,
    )
    problem = StaffingProblem(
        site_names=tuple(site.name for site in sites),
        demand_hours=card_hours + cert_hours,
        max_counters=np.array(max_counters, dtype=np.int64),
        session_kinds=kinds,
        open_weeks=np.array(open_weeks, dtype=np.bool_).T,
        site_kind_days=site_days,
        lead_time_weeks=settings.lead_time_weeks,
        total_staff_hours_per_week=settings.total_staff_hours_per_week,
        temporary_fixed_cost=fixed if temporary else None,
        spill=spill,
        back_office_work=back_office,
        # the terminals' hours in the sessions each site may hold
        terminal_hours_per_week=np.array(terminal_counts, dtype=np.float64)
        * (site_days @ np.array([kind.session_hours for kind in kinds])),
        back_office_cost_per_hour=settings.weekday_cost * settings.weekday_rate_yen,
        change_cost_per_hour=settings.change_cost
        * settings.weekday_cost
        * settings.weekday_rate_yen,
    )
    return StaffingInput(
        problem=problem,
        week_starts=week_starts,
        sites=sites,
        card_renewals=card,
        cert_renewals=cert,
        card_hours=card_hours,
        cert_hours=cert_hours,
        fixed_costs=fixed_costs,
        candidates=tuple((index, option.pk) for index, option in sorted(candidates.items())),
    )


def _candidate_calendars(
    municipality: Municipality, week_starts: list[dt.date]
) -> list[tuple[TemporaryCounterOption, SiteCalendar]]:
    """The candidates not yet opened whose dates meet the horizon and that can hand over cards
    (a counter with a terminal) under a name no site has (`open_temporary_counter` refuses a
    taken name), each with the calendar it would have if opened for the plan's
    first Monday (`planned_temporary_calendar`; the day before it is "today")."""
    first, last = week_starts[0], week_starts[-1] + dt.timedelta(days=6)
    taken = Site.objects.filter(municipality=municipality).values("name")
    options = (
        TemporaryCounterOption.objects.exclude(name__in=taken)
        .filter(
            municipality=municipality,
            site__isnull=True,
            opens_on__lte=last,
            closes_on__gte=first,
            counters__gte=1,
            terminals__gte=1,
        )
        .order_by("opens_on", "name", "pk")
    )
    return [
        (option, planned_temporary_calendar(option, today=first - dt.timedelta(days=1)))
        for option in options.select_related("municipality")
    ]


def _shares_work(
    card_capacity: list[FloatArray], cert_capacity: list[FloatArray], one: int, other: int
) -> bool:
    """Whether work may move between two sites: both hand over cards, or neither does and both
    renew certificates (the plan counts hours, not their kind, so a site that hands over cards
    never sends its work to one that cannot — a post office)."""
    cards = [card_capacity[one].sum() > 0, card_capacity[other].sum() > 0]
    if any(cards):
        return all(cards)
    return bool(cert_capacity[one].sum() > 0 and cert_capacity[other].sum() > 0)


_INFEASIBLE = re.compile(
    r"site (?P<site>'.*'|\".*\") cannot keep its lead time of (?P<lead>[\d.]+) weeks by week "
    r"(?P<week>\d+): (?P<due>\d+) counter-hours due, at most (?P<available>\d+) available"
)


def infeasible_message(
    error: StaffingInfeasibleError,
    week_starts: list[dt.date],
    *,
    staff_hours_limit: float | None = None,
) -> str:
    """The optimiser's diagnosis in Japanese, naming the site and the week (its Monday), and
    the policy's limit on the counter-hours of a week when one is set (it may be the reason)."""
    return _diagnosis(error, week_starts) + _limit_note(staff_hours_limit)


def _limit_note(limit: float | None) -> str:
    if limit is None:
        return ""
    hours = f"{limit:,.0f}"
    return (
        f"計画の前提で、すべての窓口を合わせて開ける窓口の時間の上限が週 {hours} 時間に"
        "決められています"
        + ("（どの窓口も開けません）" if limit <= 0 else "")
        + "。上限（計画の前提の「全窓口で1週間に確保できる窓口の時間の上限」）を見直してください。"
    )


def _diagnosis(error: StaffingInfeasibleError, week_starts: list[dt.date]) -> str:
    match = _INFEASIBLE.search(str(error))
    if match is None:
        return (
            "需要・待ちの目標・窓口数の制約をすべて満たす計画がありません。"
            "待ちの目標（週）を長くするか、窓口を増やしてください。"
        )
    week = int(match["week"])
    monday = week_starts[week - 1] if 0 < week <= len(week_starts) else None
    when = f"{monday.month}月{monday.day}日の週" if monday else f"{week}週目"
    return (
        f"「{match['site'][1:-1]}」は{when}までに、待ちを{match['lead']}週分以内に収められません"
        f"（その時点で処理が必要な窓口時間 {match['due']} 時間に対し、"
        f"開ける窓口をすべて開いても最大 {match['available']} 時間）。"
        "待ちの目標（週）を長くするか、この窓口の窓口数・端末数を増やしてください。"
    )


def solve_staffing_plan(
    staffing: StaffingInput, *, time_limit_seconds: float | None = None
) -> StaffingOutcome:
    """Solve to a 1% gap or the time limit (`DEFAULT_TIME_LIMIT_SECONDS`, read at each call,
    when none is named); infeasibility and solver failure become messages."""
    if time_limit_seconds is None:
        time_limit_seconds = DEFAULT_TIME_LIMIT_SECONDS
    try:
        plan = solve_staffing(
            staffing.problem, time_limit_seconds=time_limit_seconds, mip_rel_gap=MIP_REL_GAP
        )
    except StaffingInfeasibleError as error:
        message = infeasible_message(
            error,
            staffing.week_starts,
            staff_hours_limit=staffing.problem.total_staff_hours_per_week,
        )
        return StaffingOutcome(staffing, None, message)
    except StaffingError as error:
        return StaffingOutcome(
            staffing, None, f"計画を作れませんでした（最適化の途中で停止しました: {error}）。"
        )
    return StaffingOutcome(staffing, plan, None)


def planned_hours(plan: StaffingPlan, kinds: tuple[SessionKind, ...]) -> FloatArray:
    """Counter-hours the plan opens, [week, site] (counter-sessions × session hours)."""
    hours = np.array([k.session_hours for k in kinds])
    result: FloatArray = plan.counter_sessions @ hours
    return result
