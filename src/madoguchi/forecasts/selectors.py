"""The one adapter between the database and `madoguchi.planning`: reads live data into the
engine's plain arrays and dataclasses, and shapes its answers for the staff pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from madoguchi.core.clock import JST
from madoguchi.core.dates import monday_of, month_start
from madoguchi.forecasts.models import (
    PlanningPolicy,
    RegisterExpiryCount,
    RegisterHolding,
    RegisterSnapshot,
    policy_for,
)
from madoguchi.forecasts.register_import import current_snapshot
from madoguchi.forecasts.services import (
    candidate_days,
    opening_seats,
    session_hours,
    session_weekdays,
    site_slot_inputs,
)
from madoguchi.issuance.applications import project_arrivals, stored_counts
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.offices.calendar import SiteCalendar, procedure_periods
from madoguchi.offices.models import Municipality, Procedure, ProcedureCode, Site
from madoguchi.offices.selectors import active_sites, offered_procedures
from madoguchi.planning.backlog import BacklogInput, OpeningOption, SiteSupply
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
from madoguchi.reservations.models import Slot
from madoguchi.reservations.slots import planned_slots

EPOCH = dt.date(1970, 1, 1)
CUBE_MONTHS = 36
"""The cached expiry cube covers three years from the month it was built in."""


# --- forecast ----------------------------------------------------------------------------------

_CUBES: dict[tuple[int, int, str, dt.date], ExpiryCube] = {}


def expiry_cube(municipality_id: int, *, first_month: dt.date) -> ExpiryCube:
    """The current register snapshot's expiry cube, as prepared at import (never the rows).

    Summed over areas and placed on the range a forecast from `first_month` needs (36 months by
    week, with 13 weeks of early renewals); days the snapshot does not cover count zero. Cached
    in the process by (snapshot, its file's digest, first month).
    """
    snapshot = current_snapshot(municipality_id)
    first_day, last_day = cube_range_for(first_month, CUBE_MONTHS, by="week", early_periods=13)
    # the file's digest too: a rolled-back test database hands out the same primary keys again
    key = (
        municipality_id,
        snapshot.pk if snapshot else 0,
        snapshot.file_sha256 if snapshot else "",
        first_month,
    )
    if key in _CUBES:
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
    _CUBES.clear()
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
) -> DemandForecast:
    """Renewal demand from the municipality's register, CONTRACT semantics by default."""
    cube = expiry_cube(municipality.pk, first_month=start.replace(day=1))
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


def holding_view(municipality: Municipality) -> HoldingView:
    """Card holders ÷ registered residents by age band and area on the current snapshot's
    date, beside the previous snapshot's rate (read from the aggregates stored at import)."""
    snapshots = list(RegisterSnapshot.objects.filter(municipality=municipality).order_by("-pk")[:2])
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
    municipality: Municipality, *, start: dt.date, months: int, what_if: WhatIf | None = None
) -> npt.NDArray[np.float64]:
    """Counter-hours available for card work per month (rows: months), calendar-based.

    A session's positions are its counters, capped by the site's terminals for card work.
    """
    what_if = what_if or WhatIf()
    saturday_minutes = policy_for(municipality.pk).saturday_minutes
    end = month_start(start, months)
    hours = np.zeros(months)
    card = Procedure.objects.filter(code=ProcedureCode.CARD_PICKUP).first()
    for site in active_sites().filter(municipality=municipality):
        procedures = offered_procedures(site)
        if not procedures:
            continue
        reference = card if card in procedures else procedures[0]
        calendar = SiteCalendar.load(site)
        terminals = site.terminals.filter(is_active=True).count()
        extra = what_if.extra_counters.get(site.pk, 0)
        saturday = what_if.saturday_counters.get(site.pk, 0)
        day = start
        while day < end:
            month = (day.year - start.year) * 12 + day.month - start.month
            periods = procedure_periods(calendar, reference, day)
            for period in periods:
                positions = period.counters + extra
                if reference.needs_terminal:
                    positions = min(positions, max(terminals, 1) + extra)
                hours[month] += positions * period.minutes / 60
            if saturday and day.weekday() == 5 and calendar.closed_reason(day) is None:
                hours[month] += saturday * saturday_minutes / 60
            day += dt.timedelta(days=1)
    if what_if.temporary_counters and what_if.temporary_from and what_if.temporary_weeks:
        for week in range(what_if.temporary_weeks):
            monday = what_if.temporary_from + dt.timedelta(weeks=week)
            if start <= monday < end:
                month = (monday.year - start.year) * 12 + monday.month - start.month
                hours[month] += what_if.temporary_counters * what_if.temporary_hours_per_week
    return hours


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
) -> CapacityPlan:
    """Renewal workload per month against counter capacity, and what is left over.

    Workload = card renewals × the hand-over time + certificate renewals × their time. What a
    month cannot serve carries into the next; the wait is that backlog over the next month's
    capacity, in days (30-day months).
    """
    forecast = municipality_forecast(
        municipality, start=start, months=months, options=DemandOptions(take_up=take_up)
    )
    minutes = dict(Procedure.objects.values_list("code", "duration_minutes"))
    demand = (
        forecast.card_renewals * minutes.get(ProcedureCode.CARD_PICKUP, 20)
        + forecast.cert_renewals * minutes.get(ProcedureCode.CERT_RENEWAL, 10)
    ) / 60
    capacity = monthly_counter_hours(municipality, start=start, months=months, what_if=what_if)
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
    return CapacityPlan(
        labels=forecast.labels,
        card_renewals=forecast.card_renewals,
        cert_renewals=forecast.cert_renewals,
        demand_hours=demand,
        capacity_hours=capacity,
        backlog_hours=backlog,
        wait_days=wait,
    )


# --- counters for a service level --------------------------------------------------------------


@dataclass(frozen=True)
class CounterNeed:
    """One site in the busiest month of the horizon: the counters and terminals a service level
    needs on an average open hour, beside what the site has."""

    site: Site
    open_hours: float
    visits: float
    arrivals_per_hour: float
    service_minutes: float
    counters_needed: int
    counters_now: int
    terminals_needed: int
    terminals_now: int


@dataclass(frozen=True)
class CounterNeeds:
    month_label: str
    service_level_percent: int
    target_wait_minutes: int
    walkin_share_percent: int
    sites: list[CounterNeed]


def counter_needs(
    municipality: Municipality, *, start: dt.date, months: int, take_up: float
) -> CounterNeeds | None:
    """Counters and terminals per site for the policy's service level in the horizon's busiest
    month (card and certificate renewals from the register).

    The month's visits are shared between sites by their counter-hours and spread evenly over
    each site's open hours; the municipality's walk-in share waits in an Erlang C queue, the rest
    come booked (`counters_for_mixed_demand`). Terminals: the same for the procedures that need
    one. None when nothing is forecast.
    """
    policy = policy_for(municipality.pk)
    forecast = municipality_forecast(
        municipality, start=start, months=months, options=DemandOptions(take_up=take_up)
    )
    total = forecast.card_renewals + forecast.cert_renewals
    if not len(total) or total.max() <= 0:
        return None
    peak = int(np.argmax(total))
    first, after = month_start(start, peak), month_start(start, peak + 1)
    procedures = {
        p.code: p
        for p in Procedure.objects.filter(
            code__in=(ProcedureCode.CARD_PICKUP, ProcedureCode.CERT_RENEWAL)
        )
    }
    card, cert = float(forecast.card_renewals[peak]), float(forecast.cert_renewals[peak])
    # (visits, minutes each, needs a terminal) per kind of work
    mix = [
        (visits, p.duration_minutes if p else default, p.needs_terminal if p else True)
        for visits, p, default in (
            (card, procedures.get(ProcedureCode.CARD_PICKUP), 20),
            (cert, procedures.get(ProcedureCode.CERT_RENEWAL), 10),
        )
    ]

    def mean_minutes(parts: list[tuple[float, int, bool]]) -> float:
        visits = sum(n for n, _, _ in parts)
        return sum(n * m for n, m, _ in parts) / visits if visits else 0.0

    rows: list[tuple[Site, float, float, int, int]] = []
    for site in active_sites().filter(municipality=municipality):
        offered = offered_procedures(site)
        reference = procedures.get(ProcedureCode.CARD_PICKUP)
        if reference not in offered:
            continue
        calendar = SiteCalendar.load(site)
        open_hours = counter_hours = 0.0
        most = 0
        day = first
        while day < after:
            for period in procedure_periods(calendar, reference, day):
                open_hours += period.minutes / 60
                counter_hours += period.counters * period.minutes / 60
                most = max(most, period.counters)
            day += dt.timedelta(days=1)
        if open_hours > 0:
            rows.append(
                (
                    site,
                    open_hours,
                    counter_hours,
                    most,
                    site.terminals.filter(is_active=True).count(),
                )
            )
    all_counter_hours = sum(row[2] for row in rows)
    level, target = policy.service_level_percent / 100, float(policy.target_wait_minutes)
    walkin_share = municipality.walkin_share_percent / 100
    needs = []
    for site, open_hours, counter_hours, most, terminals in rows:
        share = counter_hours / all_counter_hours
        service = mean_minutes(mix)
        per_hour = (card + cert) * share / open_hours
        terminal_mix = [part for part in mix if part[2]]
        terminal_per_hour = sum(n for n, _, _ in terminal_mix) * share / open_hours

        def counters(arrivals: float, minutes_each: float) -> int:
            if arrivals <= 0:
                return 0
            return counters_for_mixed_demand(
                booked_per_hour=arrivals * (1 - walkin_share),
                walkin_per_hour=arrivals * walkin_share,
                service_minutes=minutes_each,
                target_wait_minutes=target,
                service_level=level,
            )

        needs.append(
            CounterNeed(
                site=site,
                open_hours=open_hours,
                visits=(card + cert) * share,
                arrivals_per_hour=per_hour,
                service_minutes=service,
                counters_needed=counters(per_hour, service),
                counters_now=most,
                terminals_needed=counters(terminal_per_hour, mean_minutes(terminal_mix)),
                terminals_now=terminals,
            )
        )
    return CounterNeeds(
        month_label=forecast.labels[peak],
        service_level_percent=policy.service_level_percent,
        target_wait_minutes=policy.target_wait_minutes,
        walkin_share_percent=municipality.walkin_share_percent,
        sites=needs,
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


def _free_seats_by_week(
    site: Site, procedure: Procedure, weeks: list[dt.date], walkin_share: int
) -> list[float]:
    """Free `procedure` seats per week: generated slots where they exist, the calendar beyond."""
    first, last = weeks[0], weeks[-1] + dt.timedelta(days=6)
    slots = Slot.objects.filter(
        site=site,
        procedure=procedure,
        is_offered=True,
        starts_at__date__gte=first,
        starts_at__date__lte=last,
    ).values_list("starts_at", "capacity", "booked")
    seats = [0.0] * len(weeks)
    covered: set[dt.date] = set()
    for starts_at, capacity, booked in slots:
        local = starts_at.astimezone(JST).date()
        covered.add(local)
        seats[(local - first).days // 7] += max(0, capacity - booked)
    calendar = SiteCalendar.load(site)
    terminals = site.terminals.filter(is_active=True).count()
    procedures = offered_procedures(site)
    for planned in planned_slots(
        calendar, procedures, first, last, terminals=terminals, walkin_share_percent=walkin_share
    ):
        day = planned.starts_at.date()
        if planned.procedure_id == procedure.pk and day not in covered:
            seats[(day - first).days // 7] += planned.capacity
    return seats


_WEEKDAY_NAMES = "月火水木金土日"


def _session_label(kind: str, starts: dt.time, ends: dt.time, policy: PlanningPolicy) -> str:
    hours = f"{starts.hour}:{starts.minute:02d}〜{ends.hour}:{ends.minute:02d}"
    if kind == "weekend":
        return f"土曜（空いていなければ日曜） {hours}"
    days = "・".join(_WEEKDAY_NAMES[day] for day in session_weekdays(policy, kind))
    return f"平日夜間 {hours}（{days}）"


def backlog_view(municipality: Municipality, *, today: dt.date) -> BacklogView:
    """Live inputs for the backlog projection and the openings a site could add.

    Arrivals per week: the expected arrivals from uploaded application counts where they
    exist, else the average of the last four weeks' deliveries; cards delivered but without a
    notice yet are added to the first week.
    """
    procedure = Procedure.objects.get(code=ProcedureCode.CARD_PICKUP)
    monday = monday_of(today)
    weeks = [monday + dt.timedelta(weeks=w) for w in range(HORIZON_WEEKS)]
    sites = [
        site
        for site in active_sites().filter(municipality=municipality)
        if procedure in offered_procedures(site)
    ]
    cards = CardRecord.objects.filter(municipality=municipality)
    since = monday - dt.timedelta(weeks=ARRIVAL_HISTORY_WEEKS)
    recent = cards.filter(delivered_on__gte=since, delivered_on__lt=monday).count()
    expected = recent / ARRIVAL_HISTORY_WEEKS
    waiting = cards.filter(
        status__in=(CardStatus.DELIVERED, CardStatus.INSPECTED, CardStatus.SETUP_DONE)
    ).count()
    in_hand = cards.filter(status__in=(CardStatus.NOTICE_ISSUED, CardStatus.REMINDED)).count()
    seats = {
        site.pk: _free_seats_by_week(site, procedure, weeks, municipality.walkin_share_percent)
        for site in sites
    }
    total_seats = sum(sum(s) for s in seats.values())
    supplies = [
        SiteSupply(
            site_id=site.pk,
            name=site.name,
            weekly_seats=seats[site.pk],
            demand_share=(sum(seats[site.pk]) / total_seats) if total_seats else 1 / len(sites),
        )
        for site in sites
    ]
    arrivals = [expected] * HORIZON_WEEKS
    # Where weekly application counts were uploaded, their projection through the production
    # lag replaces the recent average for the weeks it covers.
    projected = {
        week.week: week.expected_arrivals
        for week in project_arrivals(stored_counts(municipality.pk))
    }
    for index, monday in enumerate(weeks):
        if monday in projected:
            arrivals[index] = projected[monday]
    arrivals[0] += waiting
    policy = policy_for(municipality.pk)
    kinds = [
        kind
        for kind, allowed in (
            ("weekend", policy.allow_saturdays),
            ("evening", policy.allow_evenings),
        )
        if allowed
    ]
    weights = {
        "weekend": float(policy.weekend_cost_weight),
        "evening": float(policy.evening_cost_weight),
    }
    options = []
    for site in sites:
        inputs = site_slot_inputs(site)
        positions = max(1, min(inputs.counters, inputs.terminals or inputs.counters))
        for kind in kinds:
            starts, ends = session_hours(policy, kind)
            per_week = len(session_weekdays(policy, kind)) if kind == "evening" else 1
            minutes = policy.saturday_minutes if kind == "weekend" else policy.evening_minutes
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
                    cost=weights[kind] * positions * minutes / 60,
                    max_per_week=per_week,
                    label=_session_label(kind, starts, ends, policy),
                    session_seats=session_seats,
                )
            )
    data = BacklogInput(
        arrivals=arrivals,
        sites=supplies,
        notices_in_hand=in_hand,
        notice_delay_weeks=policy.notice_delay_weeks,
        take_up=policy.take_up_percent / 100,
        min_lead_days=municipality.booking_window_min_days,
    )
    return BacklogView(
        week_starts=weeks,
        sites=sites,
        data=data,
        options=options,
        expected_arrivals_per_week=expected,
        waiting_for_notice=waiting,
    )
