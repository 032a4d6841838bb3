"""The one adapter between the database and `madoguchi.planning`: reads live data into the
engine's plain arrays and dataclasses, and shapes its answers for the staff pages.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
from django.db.models import Count, Q

from madoguchi.core.clock import JST
from madoguchi.core.dates import monday_of, month_start
from madoguchi.core.holidays import national_holiday_name
from madoguchi.forecasts.models import (
    COUNTER_WORK_KINDS,
    PlanningPolicy,
    RegisterExpiryCount,
    RegisterHolding,
    RegisterSnapshot,
    TemporaryCounterOption,
    policy_for,
)
from madoguchi.forecasts.register_import import current_snapshot
from madoguchi.forecasts.services import (
    SiteSlotInputs,
    allowed_session_kinds,
    candidate_days,
    opening_seats,
    session_hours,
    session_minutes,
    session_weekdays,
    site_slot_inputs,
    site_slot_inputs_of,
    temporary_counter_cost,
    temporary_counter_seats,
)
from madoguchi.issuance.applications import project_arrivals, stored_counts
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.offices.calendar import procedure_periods
from madoguchi.offices.models import Municipality, Procedure, ProcedureCode, Site, SiteKind
from madoguchi.offices.selectors import active_sites, offered_procedures
from madoguchi.planning.backlog import (
    BacklogInput,
    OpeningOption,
    SiteSupply,
    TemporarySite,
    seats_per_open_week,
)
from madoguchi.planning.demand import (
    AGE_BAND_COUNT,
    AGE_BAND_YEARS,
    DemandForecast,
    DemandOptions,
    ExpiryCube,
    cube_range_for,
    forecast_demand,
)
from madoguchi.planning.holding import holding_rate
from madoguchi.planning.queueing import counters_for_mixed_demand
from madoguchi.planning.rules import day_number
from madoguchi.planning.service_level import CounterAdvice, counters_for_service_level
from madoguchi.planning.workload import (
    PICKUP_WORK,
    PIN_RESET_WORK,
    WORK_KINDS,
    WorkKind,
    Workload,
    WorkloadParameters,
    weekly_workload,
)
from madoguchi.reservations.models import Slot
from madoguchi.reservations.slots import planned_slots

EPOCH = dt.date(1970, 1, 1)
CUBE_MONTHS = 36
"""The cached expiry cube covers three years from the month it was built in."""


# --- forecast ----------------------------------------------------------------------------------

_CUBES: dict[tuple[int, int, str, dt.date], ExpiryCube] = {}
KEPT_CUBES = 4


Snapshots = Sequence[RegisterSnapshot]
"""A municipality's newest register snapshots, newest first (`newest_snapshots`), read once by
a computation that asks for them several times (the planning page, the report, the staffing
problem): [] before the first import. A selector given none reads what it needs itself."""


def newest_snapshots(municipality_id: int) -> list[RegisterSnapshot]:
    """The municipality's two newest register snapshots, newest first (the current one and the
    one before it, which the holding view compares)."""
    return list(
        RegisterSnapshot.objects.filter(municipality_id=municipality_id).order_by("-pk")[:2]
    )


def _current(municipality_id: int, snapshots: Snapshots | None) -> RegisterSnapshot | None:
    """The current snapshot: the newest of `snapshots` when given, else read now."""
    if snapshots is None:
        return current_snapshot(municipality_id)
    return snapshots[0] if snapshots else None


def expiry_cube(
    municipality_id: int, *, first_month: dt.date, snapshots: Snapshots | None = None
) -> ExpiryCube:
    """The current register snapshot's expiry cube, as prepared at import (never the rows).

    Summed over areas and placed on the range a forecast from `first_month` needs (36 months by
    week, with 13 weeks of early renewals); days the snapshot does not cover count zero. Cached
    in the process by (snapshot, its file's digest, first month), the `KEPT_CUBES` used last:
    the planning page asks for two first months (its months, and the counter work's from
    three months before), and a single kept cube made each ask read the other's again.
    `snapshots`: the municipality's newest, already read (`newest_snapshots`).
    """
    snapshot = _current(municipality_id, snapshots)
    first_day, last_day = cube_range_for(first_month, CUBE_MONTHS, by="week", early_periods=13)
    # the file's digest too: a rolled-back test database hands out the same primary keys again
    key = (
        municipality_id,
        snapshot.pk if snapshot else 0,
        snapshot.file_sha256 if snapshot else "",
        first_month,
    )
    if key in _CUBES:
        _CUBES[key] = _CUBES.pop(key)  # used last
        return _CUBES[key]
    counts = np.zeros((last_day - first_day + 1, 2, AGE_BAND_COUNT))
    if snapshot is not None:
        stored_first = day_number(snapshot.cube_first_on)
        low, high = (
            max(first_day, stored_first),
            min(last_day, stored_first + snapshot.cube_days - 1),
        )
        rows = RegisterExpiryCount.objects.filter(snapshot=snapshot).values_list(
            "kind", "age_band", "counts"
        )
        for kind, band, blob in rows:
            if low <= high:
                daily = np.frombuffer(bytes(blob), dtype="<i4")
                counts[low - first_day : high - first_day + 1, kind, band] += daily[
                    low - stored_first : high - stored_first + 1
                ]
    while len(_CUBES) >= KEPT_CUBES:
        del _CUBES[next(iter(_CUBES))]  # the one used longest ago
    _CUBES[key] = ExpiryCube(
        first_day=first_day, counts=counts, rows_scanned=snapshot.rows if snapshot else 0
    )
    return _CUBES[key]


def municipality_forecast(
    municipality: Municipality,
    *,
    start: dt.date,
    months: int,
    by: str = "month",
    options: DemandOptions | None = None,
    snapshots: Snapshots | None = None,
) -> DemandForecast:
    """Renewal demand from the municipality's register, CONTRACT semantics by default.
    `snapshots`: the municipality's newest, already read (`newest_snapshots`)."""
    cube = expiry_cube(municipality.pk, first_month=start.replace(day=1), snapshots=snapshots)
    if by == "week":
        return forecast_demand(cube, start=start, months=months, by="week", options=options)
    return forecast_demand(cube, start=start, months=months, by="month", options=options)


# --- holding rate ------------------------------------------------------------------------------


def age_band_label(band: int) -> str:
    low = band * AGE_BAND_YEARS
    if band == AGE_BAND_COUNT - 1:
        return f"{low}歳以上"
    return f"{low}〜{low + AGE_BAND_YEARS - 1}歳"


@dataclass(frozen=True)
class HoldingRow:
    """Residents and card holders of one age band or area; rates are 0..1 (NaN: nobody)."""

    label: str
    residents: int
    card_holders: int
    cert_holders: int
    rate: float
    previous_rate: float | None = None

    @property
    def change_points(self) -> float | None:
        """Change of the card holding rate since the previous snapshot, in percentage points."""
        if self.previous_rate is None or np.isnan(self.previous_rate) or np.isnan(self.rate):
            return None
        return (self.rate - self.previous_rate) * 100


@dataclass(frozen=True)
class HoldingView:
    snapshot: RegisterSnapshot | None
    previous: RegisterSnapshot | None
    total: HoldingRow | None
    by_band: list[HoldingRow]
    by_area: list[HoldingRow]


_HoldingKey = tuple[str, int | str | None]


def _holding_sums(snapshot: RegisterSnapshot | None) -> dict[_HoldingKey, list[int]]:
    sums: dict[_HoldingKey, list[int]] = {}
    if snapshot is None:
        return sums
    rows = RegisterHolding.objects.filter(snapshot=snapshot).values_list(
        "area", "age_band", "residents", "card_holders", "cert_holders"
    )
    for area, band, residents, cards, certs in rows:
        keys: tuple[_HoldingKey, ...] = (("band", band), ("area", area), ("total", None))
        for key in keys:
            total = sums.setdefault(key, [0, 0, 0])
            total[0] += residents
            total[1] += cards
            total[2] += certs
    return sums


def holding_view(municipality: Municipality, *, snapshots: Snapshots | None = None) -> HoldingView:
    """Card holders ÷ registered residents by age band and area on the current snapshot's
    date, beside the previous snapshot's rate (read from the aggregates stored at import).
    `snapshots`: the municipality's two newest, already read (`newest_snapshots`)."""
    if snapshots is None:
        snapshots = newest_snapshots(municipality.pk)
    current = snapshots[0] if snapshots else None
    previous = snapshots[1] if len(snapshots) > 1 else None
    now, before = _holding_sums(current), _holding_sums(previous)

    def row(key: _HoldingKey, label: str) -> HoldingRow:
        residents, cards, certs = now.get(key, [0, 0, 0])
        old = before.get(key)
        return HoldingRow(
            label=label,
            residents=residents,
            card_holders=cards,
            cert_holders=certs,
            rate=float(holding_rate(cards, residents)),
            previous_rate=float(holding_rate(old[1], old[0])) if old else None,
        )

    bands = sorted(int(band or 0) for kind, band in now if kind == "band")
    areas = sorted(str(area) for kind, area in now if kind == "area")
    return HoldingView(
        snapshot=current,
        previous=previous,
        total=row(("total", None), "合計") if current else None,
        by_band=[row(("band", band), age_band_label(band)) for band in bands],
        by_area=[row(("area", area), area or "（地区なし）") for area in areas],
    )


# --- capacity and what-if ----------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    """Changes a manager tries before committing to them.

    `extra_counters`: counters added to every session of a site; `saturday_counters`: a Saturday
    09:00–12:00 session with that many counters at a site; `temporary_counters` at a temporary
    counter open `temporary_weeks` weeks from `temporary_from`, `temporary_hours_per_week` a week.
    """

    extra_counters: dict[int, int] = field(default_factory=dict)
    saturday_counters: dict[int, int] = field(default_factory=dict)
    temporary_counters: int = 0
    temporary_from: dt.date | None = None
    temporary_weeks: int = 0
    temporary_hours_per_week: float = 0.0

    @property
    def is_empty(self) -> bool:
        return not (self.extra_counters or self.saturday_counters or self.temporary_counters)


def monthly_counter_hours(
    municipality: Municipality,
    *,
    start: dt.date,
    months: int,
    what_if: WhatIf | None = None,
    regular_only: bool = False,
) -> npt.NDArray[np.float64]:
    """Counter-hours available for card work per month (rows: months), calendar-based.

    A session's positions are its counters, capped by the site's terminals for card work.
    `regular_only`: the regular hours alone — no temporary counter, no Saturday, Sunday or
    holiday opening (weekend sessions and special openings), weekday and evening sessions only.
    """
    return monthly_counter_hours_of(
        municipality, start=start, months=months, variants=[(what_if, regular_only)]
    )[0]


def municipality_site_inputs(municipality: Municipality) -> list[SiteSlotInputs]:
    """`municipality`'s sites in service (`active_sites`' order), each with its calendar,
    procedures and counts read once (`site_slot_inputs_of`: all the sites' in a fixed number
    of statements) — for a computation that reads them several times (the planning page: its
    capacity, backlog and counter needs). Read per computation, never kept: the calendar is
    the one of the request."""
    return site_slot_inputs_of(list(active_sites(municipality)))


def _site_inputs(
    municipality: Municipality, sites: Sequence[SiteSlotInputs] | None
) -> Sequence[SiteSlotInputs]:
    """The `sites` given, else `municipality_site_inputs` read now."""
    return sites if sites is not None else municipality_site_inputs(municipality)


def offered_card_pickup(sites: Sequence[SiteSlotInputs]) -> Procedure | None:
    """The card pick-up procedure as the sites' offered procedures hold it (read with them),
    None when no site offers it."""
    return next(
        (
            procedure
            for inputs in sites
            for procedure in inputs.procedures
            if procedure.code == ProcedureCode.CARD_PICKUP
        ),
        None,
    )


def monthly_counter_hours_of(
    municipality: Municipality,
    *,
    start: dt.date,
    months: int,
    variants: Sequence[tuple[WhatIf | None, bool]],
    sites: Sequence[SiteSlotInputs] | None = None,
    policy: PlanningPolicy | None = None,
) -> list[npt.NDArray[np.float64]]:
    """`monthly_counter_hours` for each (what-if, regular only) of `variants`, in one walk of
    the sites' calendars — the planning page asks for the current hours, the regular ones and a
    what-if of the same months, and the walk (every day of every site) is most of each. Each
    variant's sums are added in the order its own walk would add them: the same figures.
    `sites`: the municipality's sites already read (`municipality_site_inputs`); `policy`: its
    planning policy already read (`policy_for`)."""
    wanted = [(what_if or WhatIf(), regular_only) for what_if, regular_only in variants]
    saturday_minutes = (policy or policy_for(municipality.pk)).saturday_minutes
    end = month_start(start, months)
    results = [np.zeros(months) for _ in wanted]
    site_inputs = _site_inputs(municipality, sites)
    # the card pick-up where a site offers it (a site not offering it counts its first procedure)
    card = offered_card_pickup(site_inputs)
    for inputs in site_inputs:
        site, procedures = inputs.site, inputs.procedures
        if not procedures:
            continue
        at_site = [
            (
                hours,
                what_if.extra_counters.get(site.pk, 0),
                what_if.saturday_counters.get(site.pk, 0),
                regular_only,
            )
            for hours, (what_if, regular_only) in zip(results, wanted, strict=True)
            if not (regular_only and site.kind == SiteKind.TEMPORARY)
        ]
        if not at_site:
            continue
        reference = card if card in procedures else procedures[0]
        calendar, terminals = inputs.calendar, inputs.terminals
        day = start
        while day < end:
            month = (day.year - start.year) * 12 + day.month - start.month
            periods = procedure_periods(calendar, reference, day)
            weekend = day.weekday() >= 5
            for hours, extra, saturday, regular_only in at_site:
                for period in periods:
                    if regular_only and (period.special or weekend):
                        continue
                    positions = period.counters + extra
                    if reference.needs_terminal:
                        positions = min(positions, max(terminals, 1) + extra)
                    hours[month] += positions * period.minutes / 60
                if saturday and day.weekday() == 5 and calendar.closed_reason(day) is None:
                    hours[month] += saturday * saturday_minutes / 60
            day += dt.timedelta(days=1)
    for hours, (what_if, _regular_only) in zip(results, wanted, strict=True):
        if what_if.temporary_counters and what_if.temporary_from and what_if.temporary_weeks:
            for week in range(what_if.temporary_weeks):
                monday = what_if.temporary_from + dt.timedelta(weeks=week)
                if start <= monday < end:
                    month = (monday.year - start.year) * 12 + monday.month - start.month
                    hours[month] += what_if.temporary_counters * what_if.temporary_hours_per_week
    return results


@dataclass(frozen=True)
class CapacityPlan:
    """Months of demand (counter-hours of renewals) against capacity, with the carried backlog."""

    labels: list[str]
    card_renewals: npt.NDArray[np.float64]
    cert_renewals: npt.NDArray[np.float64]
    demand_hours: npt.NDArray[np.float64]
    capacity_hours: npt.NDArray[np.float64]
    backlog_hours: npt.NDArray[np.float64]
    wait_days: npt.NDArray[np.float64]


def capacity_plan(
    municipality: Municipality,
    *,
    start: dt.date,
    months: int,
    take_up: float = 1.0,
    what_if: WhatIf | None = None,
    regular_only: bool = False,
    sites: Sequence[SiteSlotInputs] | None = None,
    policy: PlanningPolicy | None = None,
    snapshots: Snapshots | None = None,
) -> CapacityPlan:
    """Renewal workload per month against counter capacity, and what is left over.

    Workload = card renewals × the hand-over time + certificate renewals × their time (the
    municipality's minutes, `PlanningPolicy`; all the counter work by week: `counter_needs`).
    What a month cannot serve carries into the next; the wait is that backlog over the next month's
    capacity, in days (30-day months). `regular_only`: against the regular hours alone
    (`monthly_counter_hours`), as a planner asks when to open a temporary counter. `sites`:
    the municipality's sites already read (`municipality_site_inputs`); `policy`: its planning
    policy already read (`policy_for`); `snapshots`: its newest register snapshots already
    read (`newest_snapshots`).
    """
    return capacity_plans(
        municipality,
        start=start,
        months=months,
        take_up=take_up,
        variants=[(what_if, regular_only)],
        sites=sites,
        policy=policy,
        snapshots=snapshots,
    )[0]


def capacity_plans(
    municipality: Municipality,
    *,
    start: dt.date,
    months: int,
    take_up: float = 1.0,
    variants: Sequence[tuple[WhatIf | None, bool]],
    sites: Sequence[SiteSlotInputs] | None = None,
    policy: PlanningPolicy | None = None,
    snapshots: Snapshots | None = None,
) -> list[CapacityPlan]:
    """`capacity_plan` for each (what-if, regular only) of `variants`: one forecast of the
    demand and one walk of the calendars (`monthly_counter_hours_of`) for all of them.
    `sites`: the municipality's sites already read (`municipality_site_inputs`); `policy`: its
    planning policy already read (`policy_for`); `snapshots`: its newest register snapshots
    already read (`newest_snapshots`)."""
    forecast = municipality_forecast(
        municipality,
        start=start,
        months=months,
        options=DemandOptions(take_up=take_up),
        snapshots=snapshots,
    )
    policy = policy or policy_for(municipality.pk)
    demand = (
        forecast.card_renewals * policy.card_pickup_minutes
        + forecast.cert_renewals * policy.cert_renewal_minutes
    ) / 60
    plans = []
    for capacity in monthly_counter_hours_of(
        municipality, start=start, months=months, variants=variants, sites=sites, policy=policy
    ):
        backlog = np.zeros(months)
        wait = np.zeros(months)
        carried = 0.0
        for month in range(months):
            carried = max(0.0, carried + demand[month] - capacity[month])
            backlog[month] = carried
            following = capacity[month + 1] if month + 1 < months else capacity[month]
            wait[month] = (
                np.inf if following <= 0 and carried > 0 else carried / max(following, 1e-9) * 30
            )
        plans.append(
            CapacityPlan(
                labels=forecast.labels,
                card_renewals=forecast.card_renewals,
                cert_renewals=forecast.cert_renewals,
                demand_hours=demand,
                capacity_hours=capacity,
                backlog_hours=backlog,
                wait_days=wait,
            )
        )
    return plans


# --- all the counter work, and counters, staff and terminals for a service level ----------------

SESSION_LABELS = {
    "weekday": "平日日中",
    "evening": "平日夜間",
    "saturday": "土曜",
    "sunday": "日曜・祝日",
}
WORK_LABELS = {prefix: label for prefix, label, _at_counter in COUNTER_WORK_KINDS}
FULL_TIME_HOURS_PER_WEEK = 38.75
"""A full-time municipal post: 7 h 45 a day, five days (the unit of the headcount)."""
WARM_UP_MONTHS = 3
"""Months forecast before the horizon only to feed the production lag (their cards arrive in it)."""

_WORK_PROCEDURE = {
    PICKUP_WORK: ProcedureCode.CARD_PICKUP,
    "cert_renewal": ProcedureCode.CERT_RENEWAL,
    "application": ProcedureCode.CARD_APPLICATION,
    "application_in_person": ProcedureCode.CARD_APPLICATION,
    PIN_RESET_WORK: ProcedureCode.CERT_RENEWAL,
    "other_visit": ProcedureCode.CARD_PICKUP,
}
"""Where each kind of visit can be done: at the sites, and in the hours, that offer this procedure
(a PIN reset goes where certificates are renewed; other visits where cards are handed over; a
municipality without an application procedure takes applications where cards are handed over)."""


def workload_parameters(municipality: Municipality, policy: PlanningPolicy) -> WorkloadParameters:
    """The municipality's policy as the engine's parameters (new cards scaled by population)."""
    snapshot = current_snapshot(municipality.pk)
    return _workload_parameters(policy, residents=snapshot.rows if snapshot else 0)


def _workload_parameters(policy: PlanningPolicy, *, residents: int) -> WorkloadParameters:
    """`workload_parameters` for a register of `residents` rows."""
    weeks_a_year = 365.25 / 7
    return WorkloadParameters(
        kinds={
            prefix: WorkKind(
                minutes=float(getattr(policy, f"{prefix}_minutes")),
                needs_terminal=bool(getattr(policy, f"{prefix}_needs_terminal")),
            )
            for prefix in WORK_KINDS
        },
        counter_application_share=policy.counter_application_percent / 100,
        apply_in_person_share=policy.apply_in_person_percent / 100,
        new_cards_per_week=float(policy.new_cards_per_1000_per_year)
        * residents
        / 1000
        / weeks_a_year,
        pin_resets_per_week=float(policy.pin_resets_per_1000_per_month)
        * residents
        / 1000
        * 12
        / weeks_a_year,
        other_visits_per_week=float(policy.other_visits_per_1000_per_month)
        * residents
        / 1000
        * 12
        / weeks_a_year,
    )


@dataclass(frozen=True)
class MunicipalityWork:
    """All the counter and back-office work per ISO week of the horizon (engine's `Workload`)."""

    week_starts: list[dt.date]
    workload: Workload
    new_cards_capped: bool


def municipality_work(
    municipality: Municipality,
    *,
    start: dt.date,
    months: int,
    take_up: float,
    policy: PlanningPolicy | None = None,
    snapshots: Snapshots | None = None,
) -> MunicipalityWork:
    """Every kind of work per week for `months` from `start` (a 1st): renewals from the register
    at `take_up`, new cards at the policy's rate (never more, over the horizon, than residents
    without a card), applications, hand-overs after the production lag, PIN resets, other visits,
    setup and notices. Certificate renewals a post office takes, where the policy consigns them,
    are not counter work here. `policy`: the municipality's planning policy already read;
    `snapshots`: its newest register snapshots already read (`newest_snapshots`)."""
    policy = policy or policy_for(municipality.pk)
    warm_start = month_start(start, -WARM_UP_MONTHS)
    forecast = municipality_forecast(
        municipality,
        start=warm_start,
        months=months + WARM_UP_MONTHS,
        by="week",
        options=DemandOptions(
            take_up=take_up,
            post_office_share=(
                policy.post_office_share_percent / 100 if policy.allow_post_office else 0.0
            ),
        ),
        snapshots=snapshots,
    )
    mondays = [EPOCH + dt.timedelta(days=int(day)) for day in forecast.period_starts]
    first = next(index for index, monday in enumerate(mondays) if monday >= start)
    # the last ISO week is cut by the horizon's end: leave it out
    end = month_start(start, months)
    last = max(index for index, monday in enumerate(mondays) if monday + dt.timedelta(6) < end)
    snapshot = _current(municipality.pk, snapshots)
    parameters = _workload_parameters(policy, residents=snapshot.rows if snapshot else 0)
    capped = False
    if snapshot is not None:
        without_card = max(0, snapshot.rows - snapshot.card_holders)
        horizon_new = parameters.new_cards_per_week * (last + 1 - first)
        if horizon_new > without_card:
            capped = True
            parameters = replace(
                parameters, new_cards_per_week=without_card / max(1, last + 1 - first)
            )
    certs = forecast.cert_renewals - forecast.cert_renewals_at_post_office
    workload = weekly_workload(
        forecast.card_renewals[: last + 1], certs[: last + 1], parameters, warm_up_weeks=first
    )
    return MunicipalityWork(
        week_starts=mondays[first : last + 1], workload=workload, new_cards_capped=capped
    )


@dataclass(frozen=True)
class SessionNeed:
    """One session kind at a site in the busiest week: what comes, what the service level needs
    (formula and simulation, `planning.service_level`) and what the site has now."""

    session_kind: str
    label: str
    open_hours: float
    session_minutes: float
    visits: float
    booked_per_hour: float
    walkin_per_hour: float
    service_minutes: float
    advice: CounterAdvice
    counters_now: int
    terminals_needed: int

    @property
    def counters_needed(self) -> int:
        return self.advice.counters


@dataclass(frozen=True)
class SiteNeed:
    """A site in the busiest week: its sessions, the staff and terminals all its work needs."""

    site: Site
    sessions: list[SessionNeed]
    visits: float
    counter_staff_hours: float
    back_office_hours: float
    setup_terminals: int
    terminals_now: int

    @property
    def counters_needed(self) -> int:
        return max((s.counters_needed for s in self.sessions), default=0)

    @property
    def counters_now(self) -> int:
        return max((s.counters_now for s in self.sessions), default=0)

    @property
    def terminals_needed(self) -> int:
        counter = max((s.terminals_needed for s in self.sessions), default=0)
        return counter + self.setup_terminals

    @property
    def staff_hours(self) -> float:
        return self.counter_staff_hours + self.back_office_hours

    @property
    def full_time_staff(self) -> float:
        return self.staff_hours / FULL_TIME_HOURS_PER_WEEK


@dataclass(frozen=True)
class WorkRow:
    """One kind of work in the busiest week and over the horizon."""

    kind: str
    label: str
    at_counter: bool
    minutes: float
    needs_terminal: bool
    peak_count: float
    peak_hours: float
    horizon_count: float


@dataclass(frozen=True)
class CounterNeeds:
    week_start: dt.date
    service_level_percent: int
    target_wait_minutes: int
    patience_minutes: int
    walkin_share_percent: int
    work: list[WorkRow]
    sites: list[SiteNeed]
    new_cards_capped: bool

    @property
    def month_label(self) -> str:
        return f"{self.week_start:%Y-%m-%d}"


def _session_kind(period_kind: str, day: dt.date) -> str:
    if period_kind == "weekend":
        return "saturday" if day.weekday() == 5 else "sunday"
    if period_kind == "weekday" and (day.weekday() >= 5 or national_holiday_name(day)):
        return "saturday" if day.weekday() == 5 else "sunday"
    return period_kind if period_kind in SESSION_LABELS else "weekday"


@dataclass
class _Hours:
    """Open hours of one procedure at one site in a week, by session kind."""

    hours: dict[str, float] = field(default_factory=dict)
    counter_hours: dict[str, float] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)
    most: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.hours.values())

    @property
    def total_counter_hours(self) -> float:
        return sum(self.counter_hours.values())


def counter_needs(
    municipality: Municipality,
    *,
    start: dt.date,
    months: int,
    take_up: float,
    sites: Sequence[SiteSlotInputs] | None = None,
    policy: PlanningPolicy | None = None,
    snapshots: Snapshots | None = None,
) -> CounterNeeds | None:
    """Counters, staff and terminals per site and session kind for the policy's service level in
    the horizon's busiest week (all the counter work, `municipality_work`).

    Each kind of visit goes to the sites offering its procedure in proportion to their
    counter-hours for it that week, and within a site spreads evenly over the procedure's open
    hours. In each session kind the municipality's walk-in share comes without a booking; the
    counters are the formula's answer checked by the simulation (`planning.service_level`).
    Terminals: the same for the visits that need one, plus the setup of the site's delivered
    cards (back office, weekday hours). Back-office work goes to the sites in proportion to
    their card hand-overs. Staff hours: counters × session hours plus back-office hours. None
    when nothing is forecast. `sites`: the municipality's sites already read
    (`municipality_site_inputs`); `policy`: its planning policy already read (`policy_for`);
    `snapshots`: its newest register snapshots already read (`newest_snapshots`).
    """
    policy = policy or policy_for(municipality.pk)
    work = municipality_work(
        municipality,
        start=start,
        months=months,
        take_up=take_up,
        policy=policy,
        snapshots=snapshots,
    )
    load = work.workload
    if not load.weeks or load.counter_hours.max() <= 0:
        return None
    peak = int(np.argmax(load.counter_hours + load.back_office_hours))
    monday = work.week_starts[peak]
    procedures = {
        p.code: p
        for p in Procedure.objects.filter(code__in={str(code) for code in _WORK_PROCEDURE.values()})
    }
    fallback = procedures.get(ProcedureCode.CARD_PICKUP)
    hours: dict[tuple[int, str], _Hours] = {}
    inputs_of = list(_site_inputs(municipality, sites))
    sites_now = [inputs.site for inputs in inputs_of]
    terminals_now: dict[int, int] = {}
    for inputs in inputs_of:
        site, offered, calendar = inputs.site, inputs.procedures, inputs.calendar
        terminals_now[site.pk] = inputs.terminals
        for code, procedure in procedures.items():
            if procedure not in offered:
                continue
            week = hours.setdefault((site.pk, code), _Hours())
            for offset in range(7):
                day = monday + dt.timedelta(days=offset)
                for period in procedure_periods(calendar, procedure, day):
                    kind = _session_kind(period.kind, day)
                    week.hours[kind] = week.hours.get(kind, 0.0) + period.minutes / 60
                    week.counter_hours[kind] = (
                        week.counter_hours.get(kind, 0.0) + period.counters * period.minutes / 60
                    )
                    week.sessions[kind] = week.sessions.get(kind, 0) + 1
                    week.most[kind] = max(week.most.get(kind, 0), period.counters)

    def procedure_of(kind: str) -> str:
        code = str(_WORK_PROCEDURE[kind])
        return code if code in procedures else str(fallback.code if fallback else code)

    # visits[site][session kind] = list of (visits per hour, minutes, needs terminal) per kind
    rates: dict[int, dict[str, list[tuple[float, float, bool]]]] = {s.pk: {} for s in sites_now}
    visits_at: dict[int, float] = {s.pk: 0.0 for s in sites_now}
    pickups_at: dict[int, float] = {s.pk: 0.0 for s in sites_now}
    for kind in load.counter_kinds:
        count = float(load.counts[kind][peak])
        code = procedure_of(kind)
        offering = [s for s in sites_now if (s.pk, code) in hours and hours[s.pk, code].total > 0]
        capacity = sum(hours[s.pk, code].total_counter_hours for s in offering)
        if count <= 0 or capacity <= 0:
            continue
        spec = load.kinds[kind]
        for site in offering:
            week = hours[site.pk, code]
            share = count * week.total_counter_hours / capacity
            visits_at[site.pk] += share
            if kind == PICKUP_WORK:
                pickups_at[site.pk] += share
            for session_kind in week.hours:
                rates[site.pk].setdefault(session_kind, []).append(
                    (share / week.total, spec.minutes, spec.needs_terminal)
                )
    all_pickups = sum(pickups_at.values())
    back_office = float(load.back_office_hours[peak])
    setup_terminal_hours = float(load.terminal_hours(counter=False)[peak])
    level, target = policy.service_level_percent / 100, float(policy.target_wait_minutes)
    walkin = municipality.walkin_share_percent / 100
    needs = []
    for site in sites_now:
        session_needs = []
        counter_staff = 0.0
        site_hours = {
            kind: week
            for (site_pk, _code), week in hours.items()
            if site_pk == site.pk
            for kind in week.hours
        }
        for session_kind in SESSION_LABELS:
            parts = rates[site.pk].get(session_kind, [])
            per_hour = sum(rate for rate, _, _ in parts)
            if per_hour <= 0 or session_kind not in site_hours:
                continue
            week = site_hours[session_kind]
            service = sum(rate * minutes for rate, minutes, _ in parts) / per_hour
            session_minutes = week.hours[session_kind] * 60 / week.sessions[session_kind]
            advice = counters_for_service_level(
                booked_per_hour=round(per_hour * (1 - walkin), 2),
                walkin_per_hour=round(per_hour * walkin, 2),
                service_minutes=round(service, 1),
                session_minutes=round(session_minutes),
                target_wait_minutes=target,
                service_level=level,
                patience_minutes=float(policy.patience_minutes),
            )
            terminal_parts = [part for part in parts if part[2]]
            terminal_rate = sum(rate for rate, _, _ in terminal_parts)
            terminals = 0
            if terminal_rate > 0:
                terminal_service = (
                    sum(rate * minutes for rate, minutes, _ in terminal_parts) / terminal_rate
                )
                terminals = min(
                    advice.counters,
                    counters_for_mixed_demand(
                        booked_per_hour=terminal_rate * (1 - walkin),
                        walkin_per_hour=terminal_rate * walkin,
                        service_minutes=terminal_service,
                        target_wait_minutes=target,
                        service_level=level,
                    ),
                )
            counter_staff += advice.counters * week.hours[session_kind]
            session_needs.append(
                SessionNeed(
                    session_kind=session_kind,
                    label=SESSION_LABELS[session_kind],
                    open_hours=week.hours[session_kind],
                    session_minutes=session_minutes,
                    visits=per_hour * week.hours[session_kind],
                    booked_per_hour=per_hour * (1 - walkin),
                    walkin_per_hour=per_hour * walkin,
                    service_minutes=service,
                    advice=advice,
                    counters_now=week.most[session_kind],
                    terminals_needed=terminals,
                )
            )
        if not session_needs:
            continue
        share = pickups_at[site.pk] / all_pickups if all_pickups > 0 else 0.0
        weekday_hours = site_hours["weekday"].hours["weekday"] if "weekday" in site_hours else 0.0
        setup_terminals = (
            math.ceil(setup_terminal_hours * share / weekday_hours - 1e-9)
            if weekday_hours > 0 and setup_terminal_hours * share > 0
            else 0
        )
        needs.append(
            SiteNeed(
                site=site,
                sessions=session_needs,
                visits=visits_at[site.pk],
                counter_staff_hours=counter_staff,
                back_office_hours=back_office * share,
                setup_terminals=setup_terminals,
                terminals_now=terminals_now[site.pk],
            )
        )
    rows = [
        WorkRow(
            kind=kind,
            label=WORK_LABELS[kind],
            at_counter=kind in load.counter_kinds,
            minutes=load.kinds[kind].minutes,
            needs_terminal=load.kinds[kind].needs_terminal,
            peak_count=float(load.counts[kind][peak]),
            peak_hours=float(load.hours(kind)[peak]),
            horizon_count=float(load.counts[kind].sum()),
        )
        for kind in WORK_KINDS
    ]
    return CounterNeeds(
        week_start=monday,
        service_level_percent=policy.service_level_percent,
        target_wait_minutes=policy.target_wait_minutes,
        patience_minutes=policy.patience_minutes,
        walkin_share_percent=municipality.walkin_share_percent,
        work=rows,
        sites=needs,
        new_cards_capped=work.new_cards_capped,
    )


# --- backlog early warning -----------------------------------------------------------------------

HORIZON_WEEKS = 12
ARRIVAL_HISTORY_WEEKS = 4


@dataclass(frozen=True)
class BacklogView:
    week_starts: list[dt.date]
    sites: list[Site]
    data: BacklogInput
    options: list[OpeningOption]
    expected_arrivals_per_week: float
    waiting_for_notice: int
    temporary: list[TemporarySite] = field(default_factory=list)
    """Temporary-counter candidates not opened yet, as sites (id: the candidate's, negated)."""
    temporary_candidates: dict[int, TemporaryCounterOption] = field(default_factory=dict)
    post_office: bool = False
    """Post-office consignment allowed (it never adds card pick-up seats; the page says so)."""
    weeks_from_counts: int = 0
    """Weeks of the horizon whose arrivals come from the stored weekly application counts
    (through the production lag) rather than the recent deliveries' average."""

    @property
    def arrivals_in_horizon(self) -> float:
        """Cards expected to arrive over the horizon (without those already waiting)."""
        return float(sum(self.data.arrivals)) - self.waiting_for_notice

    @property
    def last_day(self) -> dt.date:
        return self.week_starts[-1] + dt.timedelta(days=6)


SlotSeats = list[tuple[dt.datetime, int, int]]
"""A site's slots as `_free_seats_by_week` reads them: start, capacity, booked."""


def _offered_slots(
    sites: Sequence[Site], procedure: Procedure, weeks: list[dt.date]
) -> dict[int, SlotSeats]:
    """The offered `procedure` slots of `sites` starting in `weeks`, by site, in one statement
    for all the sites (each site's by start, as a read of the site's alone gave them)."""
    first, last = weeks[0], weeks[-1] + dt.timedelta(days=6)
    # the slots starting on those Tokyo dates, as a range of the column (which the slots'
    # (procedure, starts_at) index serves) rather than each row's date (SQLite computes it in
    # Python row by row, and no index holds it)
    rows = (
        Slot.objects.filter(
            site__in=[site.pk for site in sites],
            procedure=procedure,
            is_offered=True,
            starts_at__gte=dt.datetime.combine(first, dt.time(), tzinfo=JST),
            starts_at__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=JST),
        )
        .order_by("starts_at")
        .values_list("site_id", "starts_at", "capacity", "booked")
    )
    by_site: dict[int, SlotSeats] = {site.pk: [] for site in sites}
    for site_id, starts_at, capacity, booked in rows:
        by_site[site_id].append((starts_at, capacity, booked))
    return by_site


def _free_seats_by_week(
    inputs: SiteSlotInputs, procedure: Procedure, weeks: list[dt.date], slots: SlotSeats
) -> list[float]:
    """Free `procedure` seats per week at `inputs.site`: its generated `slots` where they exist
    (`_offered_slots`), the calendar beyond (the site's calendar, procedures and terminals as
    `inputs` read them)."""
    first, last = weeks[0], weeks[-1] + dt.timedelta(days=6)
    seats = [0.0] * len(weeks)
    covered: set[dt.date] = set()
    for starts_at, capacity, booked in slots:
        local = starts_at.astimezone(JST).date()
        covered.add(local)
        seats[(local - first).days // 7] += max(0, capacity - booked)
    for planned in planned_slots(
        inputs.calendar,
        inputs.procedures,
        first,
        last,
        terminals=inputs.terminals,
        walkin_share_percent=inputs.walkin_share_percent,
        only=procedure.pk,
        skip=covered,
    ):
        day = planned.starts_at.date()
        seats[(day - first).days // 7] += planned.capacity
    return seats


_WEEKDAY_NAMES = "月火水木金土日"


def _session_label(kind: str, starts: dt.time, ends: dt.time, policy: PlanningPolicy) -> str:
    hours = f"{starts.hour}:{starts.minute:02d}〜{ends.hour}:{ends.minute:02d}"
    if kind == "saturday":
        return f"土曜 {hours}"
    if kind == "sunday":
        return f"日曜・祝日 {hours}"
    days = "・".join(_WEEKDAY_NAMES[day] for day in session_weekdays(policy, kind))
    return f"平日夜間 {hours}（{days}）"


def backlog_view(
    municipality: Municipality,
    *,
    today: dt.date,
    sites: Sequence[SiteSlotInputs] | None = None,
    policy: PlanningPolicy | None = None,
) -> BacklogView:
    """Live inputs for the backlog projection and the openings a site could add.

    Arrivals per week: the expected arrivals from uploaded application counts where they
    exist, else the average of the last four weeks' deliveries; cards delivered but without a
    notice yet are added to the first week. `sites`: the municipality's sites already read
    (`municipality_site_inputs`); `policy`: its planning policy already read (`policy_for`).
    """
    # the card pick-up as the sites read it, else read now (no site offers it; the temporary
    # counters' candidates still would)
    procedure = (sites is not None and offered_card_pickup(sites)) or Procedure.objects.get(
        code=ProcedureCode.CARD_PICKUP
    )
    monday = monday_of(today)
    weeks = [monday + dt.timedelta(weeks=w) for w in range(HORIZON_WEEKS)]
    if sites is None:
        # each site's calendar, procedures and counts read once, for its seats and its options
        offering = [
            site_slot_inputs(site)
            for site in active_sites().filter(municipality=municipality)
            if procedure in offered_procedures(site)
        ]
    else:
        offering = [inputs for inputs in sites if procedure in inputs.procedures]
    inputs_of = {inputs.site.pk: inputs for inputs in offering}
    sites_now = [inputs.site for inputs in offering]
    since = monday - dt.timedelta(weeks=ARRIVAL_HISTORY_WEEKS)
    counts = CardRecord.objects.filter(municipality=municipality).aggregate(  # one statement
        recent=Count("pk", filter=Q(delivered_on__gte=since, delivered_on__lt=monday)),
        waiting=Count(
            "pk",
            filter=Q(
                status__in=(CardStatus.DELIVERED, CardStatus.INSPECTED, CardStatus.SETUP_DONE)
            ),
        ),
        in_hand=Count("pk", filter=Q(status__in=(CardStatus.NOTICE_ISSUED, CardStatus.REMINDED))),
    )
    recent, waiting, in_hand = counts["recent"], counts["waiting"], counts["in_hand"]
    expected = recent / ARRIVAL_HISTORY_WEEKS
    slots = _offered_slots(sites_now, procedure, weeks)
    seats = {
        site.pk: _free_seats_by_week(inputs_of[site.pk], procedure, weeks, slots[site.pk])
        for site in sites_now
    }
    # a site's part of the demand while open: its seats per open week against the others'
    rates = {site.pk: seats_per_open_week(seats[site.pk]) for site in sites_now}
    total_rate = sum(rates.values())
    supplies = [
        SiteSupply(
            site_id=site.pk,
            name=site.name,
            weekly_seats=seats[site.pk],
            demand_share=(rates[site.pk] / total_rate) if total_rate else 1 / len(sites_now),
        )
        for site in sites_now
    ]
    arrivals = [expected] * HORIZON_WEEKS
    # Where weekly application counts were uploaded, their projection through the production
    # lag replaces the recent average for the weeks it covers.
    projected = {
        week.week: week.expected_arrivals
        for week in project_arrivals(stored_counts(municipality.pk))
    }
    from_counts = 0
    for index, monday in enumerate(weeks):
        if monday in projected:
            arrivals[index] = projected[monday]
            from_counts += 1
    arrivals[0] += waiting
    policy = policy or policy_for(municipality.pk)
    options = []
    for site in sites_now:
        inputs = inputs_of[site.pk]
        positions = max(1, min(inputs.counters, inputs.terminals or inputs.counters))
        for kind in allowed_session_kinds(policy):
            starts, ends = session_hours(policy, kind)
            per_week = len(session_weekdays(policy, kind)) if kind != "saturday" else 1
            session_seats = tuple(
                tuple(
                    float(
                        opening_seats(
                            inputs,
                            session_kind=kind,
                            day=day,
                            procedure_id=procedure.pk,
                            policy=policy,
                        )
                    )
                    for day in candidate_days(
                        inputs.calendar,
                        session_kind=kind,
                        week_start=monday,
                        today=today,
                        policy=policy,
                    )[:per_week]
                )
                for monday in weeks
            )
            useful = [s for week in session_seats for s in week if s > 0]
            if not useful:
                continue
            options.append(
                OpeningOption(
                    site_id=site.pk,
                    session_kind=kind,
                    seats=sum(useful) / len(useful),
                    # yen: the session's counters × hours at the policy's rate for its kind
                    cost=policy.blended_rate_yen(kind)
                    * positions
                    * session_minutes(policy, kind)
                    / 60,
                    max_per_week=per_week,
                    label=_session_label(kind, starts, ends, policy),
                    session_seats=session_seats,
                )
            )
    temporary: list[TemporarySite] = []
    candidates: dict[int, TemporaryCounterOption] = {}
    if policy.allow_temporary_counters:
        for candidate in TemporaryCounterOption.objects.filter(
            municipality=municipality, site__isnull=True, closes_on__gt=today
        ).select_related("municipality"):
            weekly = temporary_counter_seats(candidate, today=today, weeks=weeks, pickup=procedure)
            if sum(weekly) <= 0:
                continue
            candidates[candidate.pk] = candidate
            temporary.append(
                TemporarySite(
                    site_id=-candidate.pk,
                    name=candidate.name,
                    weekly_seats=weekly,
                    cost=temporary_counter_cost(candidate, today=today, policy=policy),
                )
            )
    data = BacklogInput(
        arrivals=arrivals,
        sites=supplies,
        notices_in_hand=in_hand,
        notice_delay_weeks=policy.notice_delay_weeks,
        take_up=policy.take_up,
        min_lead_days=municipality.booking_window_min_days,
    )
    return BacklogView(
        week_starts=weeks,
        sites=sites_now,
        data=data,
        options=options,
        temporary=temporary,
        temporary_candidates=candidates,
        post_office=policy.allow_post_office,
        expected_arrivals_per_week=expected,
        waiting_for_notice=waiting,
        weeks_from_counts=from_counts,
    )
