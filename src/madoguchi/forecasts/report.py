"""A municipality's report: aggregates without personal data, signed (docs/municipality-report.md).

`build_report` reads the municipality's live data — register aggregates, the renewal forecast,
capacity, counter needs, configuration (sites, sessions, temporary counters, the planning
policy) and the card pipeline — into a dict of schema `SCHEMA` version `SCHEMA_VERSION`.
`ReportV1` is that schema as a strict pydantic model (no other key is accepted); the signature
(Ed25519, `report_signing`) is over `canonical_bytes` of the report as the model dumps it, so
the JSON and the CSV form of one report carry the same signature.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from madoguchi.core import clock
from madoguchi.core.csvsafe import safe_row
from madoguchi.core.dates import month_start
from madoguchi.forecasts import report_signing
from madoguchi.forecasts.models import PlanningPolicy, TemporaryCounterOption, policy_for
from madoguchi.forecasts.selectors import (
    Snapshots,
    backlog_view,
    capacity_plan,
    counter_needs,
    holding_view,
    municipality_forecast,
    municipality_site_inputs,
    newest_snapshots,
    offered_card_pickup,
)
from madoguchi.forecasts.services import SiteSlotInputs
from madoguchi.issuance.deadlines import deadline_watch
from madoguchi.issuance.models import CardRecord
from madoguchi.offices.models import (
    Counter,
    Municipality,
    OpeningSession,
    Procedure,
    ProcedureCode,
    SessionKind,
    Site,
    SiteKind,
    SpecialOpening,
)
from madoguchi.planning.backlog import project_backlog
from madoguchi.planning.demand import AGE_BAND_COUNT, AGE_BAND_YEARS
from madoguchi.reservations.models import Slot
from madoguchi.staff.models import Role, StaffUser

SCHEMA = "madoguchi.municipality-report"
SCHEMA_VERSION = 1
FORECAST_FISCAL_YEARS = 3
CAPACITY_MONTHS = 12
NOTICE_PERIOD_DAYS = 91
TARGET_LEAD_DAYS = 14


# --- the schema -------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MunicipalityPart(_Strict):
    code: str
    name: str
    municipality_class: Literal["designated_city", "core_city", "special_ward", "other"]
    population: int | None


class AgeBand(_Strict):
    age_from: int
    age_to: int | None
    residents: int
    card_holders: int
    cert_holders: int


class Holding(_Strict):
    register_on: dt.date | None
    residents: int
    card_holders: int
    cert_holders: int
    by_age_band: list[AgeBand]


class MonthForecast(_Strict):
    month: str
    cards: float
    certificates: float


class FiscalYearForecast(_Strict):
    fiscal_year: int
    cards: float
    certificates: float


class Forecast(_Strict):
    by_month: list[MonthForecast]
    by_fiscal_year: list[FiscalYearForecast]


class Capacity(_Strict):
    months: int
    demand_hours: float
    capacity_hours: float
    backlog_hours_peak: float
    wait_days_worst: float | None


class Staffing(_Strict):
    busiest_week: dt.date | None
    counters_needed: int
    counters_now: int
    terminals_needed: int
    staff_hours_per_week: float
    full_time_staff: float


class Measures(_Strict):
    dedicated_or_temporary_counters: bool
    weekend_holiday_evening_opening: bool
    reservations: bool
    outsourcing: bool
    post_office_consignment: bool
    post_offices: int
    temporary_sites: int


class Notices(_Strict):
    arrived_from: dt.date
    arrived_to: dt.date
    arrived: int
    within_1_week: int
    within_2_weeks: int
    waiting_past_limit: int


class Backlog(_Strict):
    waiting_for_notice: int
    target_lead_days: int
    worst_lead_days: float | None
    weeks_over_target: int
    heading_for_backlog: bool


class ReportV1(_Strict):
    schema_: str
    schema_version: int
    as_of: dt.date
    generated_at: dt.datetime
    municipality: MunicipalityPart
    holding: Holding
    forecast: Forecast
    capacity: Capacity
    staffing: Staffing
    measures: Measures
    notices: Notices
    backlog: Backlog

    def dump(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["schema"] = data.pop("schema_")
        return data

    @classmethod
    def load(cls, data: dict[str, Any]) -> ReportV1:
        data = dict(data)
        if "schema" in data:
            data["schema_"] = data.pop("schema")
        return cls.model_validate(data)


def canonical_bytes(report: dict[str, Any]) -> bytes:
    """The bytes signed: the model's dump as JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- building ---------------------------------------------------------------------------------


def fiscal_year_of(day: dt.date) -> int:
    """Japan's fiscal year: April to March, named by the year it starts in."""
    return day.year if day.month >= 4 else day.year - 1


def _finite(value: float) -> float | None:
    return round(float(value), 1) if math.isfinite(value) else None


def _holding(municipality: Municipality, snapshots: Snapshots) -> Holding:
    view = holding_view(municipality, snapshots=snapshots)
    bands = []
    for band, row in enumerate(view.by_band):
        last = band == AGE_BAND_COUNT - 1
        bands.append(
            AgeBand(
                age_from=band * AGE_BAND_YEARS,
                age_to=None if last else band * AGE_BAND_YEARS + AGE_BAND_YEARS - 1,
                residents=row.residents,
                card_holders=row.card_holders,
                cert_holders=row.cert_holders,
            )
        )
    total = view.total
    return Holding(
        register_on=view.snapshot.taken_on if view.snapshot else None,
        residents=total.residents if total else 0,
        card_holders=total.card_holders if total else 0,
        cert_holders=total.cert_holders if total else 0,
        by_age_band=bands,
    )


def _forecast(municipality: Municipality, today: dt.date, snapshots: Snapshots) -> Forecast:
    first_fy = fiscal_year_of(today)
    start = dt.date(first_fy, 4, 1)
    months = FORECAST_FISCAL_YEARS * 12
    demand = municipality_forecast(municipality, start=start, months=months, snapshots=snapshots)
    by_month = []
    by_year: dict[int, list[float]] = {}
    for index in range(months):
        month = month_start(start, index)
        cards = float(demand.card_renewals[index])
        certs = float(demand.cert_renewals[index])
        by_month.append(
            MonthForecast(
                month=f"{month:%Y-%m}", cards=round(cards, 1), certificates=round(certs, 1)
            )
        )
        totals = by_year.setdefault(fiscal_year_of(month), [0.0, 0.0])
        totals[0] += cards
        totals[1] += certs
    return Forecast(
        by_month=by_month,
        by_fiscal_year=[
            FiscalYearForecast(fiscal_year=year, cards=round(c, 1), certificates=round(e, 1))
            for year, (c, e) in sorted(by_year.items())
        ],
    )


def _capacity(
    municipality: Municipality,
    today: dt.date,
    sites: Sequence[SiteSlotInputs],
    policy: PlanningPolicy,
    snapshots: Snapshots,
) -> Capacity:
    plan = capacity_plan(
        municipality,
        start=today.replace(day=1),
        months=CAPACITY_MONTHS,
        take_up=policy.take_up,
        sites=sites,
        policy=policy,
        snapshots=snapshots,
    )
    return Capacity(
        months=CAPACITY_MONTHS,
        demand_hours=round(float(np.sum(plan.demand_hours)), 1),
        capacity_hours=round(float(np.sum(plan.capacity_hours)), 1),
        backlog_hours_peak=round(float(np.max(plan.backlog_hours, initial=0.0)), 1),
        wait_days_worst=_finite(float(np.max(plan.wait_days, initial=0.0))),
    )


def _staffing(
    municipality: Municipality,
    today: dt.date,
    sites: Sequence[SiteSlotInputs],
    policy: PlanningPolicy,
    snapshots: Snapshots,
) -> Staffing:
    needs = counter_needs(
        municipality,
        start=today.replace(day=1),
        months=CAPACITY_MONTHS,
        take_up=policy.take_up,
        sites=sites,
        policy=policy,
        snapshots=snapshots,
    )
    if needs is None:
        return Staffing(
            busiest_week=None,
            counters_needed=0,
            counters_now=0,
            terminals_needed=0,
            staff_hours_per_week=0.0,
            full_time_staff=0.0,
        )
    return Staffing(
        busiest_week=needs.week_start,
        counters_needed=sum(site.counters_needed for site in needs.sites),
        counters_now=sum(site.counters_now for site in needs.sites),
        terminals_needed=sum(site.terminals_needed for site in needs.sites),
        staff_hours_per_week=round(sum(site.staff_hours for site in needs.sites), 1),
        full_time_staff=round(sum(site.full_time_staff for site in needs.sites), 2),
    )


CARD_PROCEDURES = frozenset(code.value for code in ProcedureCode)


def measures_of(
    municipality: Municipality, today: dt.date, policy: PlanningPolicy | None = None
) -> Measures:
    """What the municipality runs, read from its configuration (docs/municipality-report.md);
    `policy`: its planning policy already read (`policy_for`)."""
    sites = Site.objects.filter(municipality=municipality, is_active=True).exclude(
        open_until__lt=today
    )
    temporary = sites.filter(kind__in=(SiteKind.TEMPORARY, SiteKind.OUTREACH)).count()
    temporary += (
        TemporaryCounterOption.objects.filter(
            municipality=municipality, site__isnull=False, closes_on__gte=today
        )
        .exclude(site__in=sites)
        .count()
    )
    # a counter dedicated to the card: every procedure it takes is one of the card's (a
    # counter taking none is not one); the active counters' procedures read in one statement
    codes_of: dict[int, set[str]] = {}
    for counter_id, code in Counter.procedures.through.objects.filter(
        counter__site__in=sites, counter__is_active=True
    ).values_list("counter_id", "procedure__code"):
        codes_of.setdefault(counter_id, set()).add(code)
    dedicated = any(codes <= CARD_PROCEDURES for codes in codes_of.values())
    extended_sessions = (
        OpeningSession.objects.filter(
            site__in=sites, kind__in=(SessionKind.EVENING, SessionKind.WEEKEND)
        )
        .exclude(valid_until__lt=today)
        .exists()
    )
    special = SpecialOpening.objects.filter(
        site__in=sites, day__gte=today - dt.timedelta(days=365)
    ).exists()
    policy = policy or policy_for(municipality.pk)
    contractors = StaffUser.objects.filter(
        municipality=municipality, role=Role.CONTRACTOR, is_active=True
    ).exists()
    post_offices = sites.filter(kind=SiteKind.POST_OFFICE).count()
    reservations = Slot.objects.filter(
        site__in=sites, is_offered=True, starts_at__date__gte=today - dt.timedelta(days=90)
    ).exists()
    return Measures(
        dedicated_or_temporary_counters=bool(temporary) or dedicated,
        weekend_holiday_evening_opening=extended_sessions or special,
        reservations=reservations,
        outsourcing=contractors or policy.contractor_share_percent > 0,
        post_office_consignment=post_offices > 0,
        post_offices=post_offices,
        temporary_sites=temporary,
    )


def _notices(municipality: Municipality, today: dt.date) -> Notices:
    first = today - dt.timedelta(days=NOTICE_PERIOD_DAYS)
    last = today - dt.timedelta(days=1)
    arrived = within_1 = within_2 = 0
    cards = CardRecord.objects.filter(
        municipality=municipality, delivered_on__gte=first, delivered_on__lte=last
    ).values_list("delivered_on", "first_notice_issued_at")
    for delivered_on, noticed_at in cards.iterator(chunk_size=5000):
        arrived += 1
        if noticed_at is None:
            continue
        days = (clock.to_jst(noticed_at).date() - delivered_on).days
        within_1 += days <= 7
        within_2 += days <= 14
    return Notices(
        arrived_from=first,
        arrived_to=last,
        arrived=arrived,
        within_1_week=within_1,
        within_2_weeks=within_2,
        waiting_past_limit=deadline_watch(municipality, today=today).late,
    )


def _backlog(
    municipality: Municipality,
    today: dt.date,
    capacity: Capacity,
    sites: Sequence[SiteSlotInputs],
    policy: PlanningPolicy,
) -> Backlog:
    if (
        offered_card_pickup(sites) is None
        and not Procedure.objects.filter(code=ProcedureCode.CARD_PICKUP).exists()
    ):
        return Backlog(  # no card pick-up at all yet: nothing to book, nothing to project
            waiting_for_notice=0,
            target_lead_days=TARGET_LEAD_DAYS,
            worst_lead_days=None,
            weeks_over_target=0,
            heading_for_backlog=capacity.backlog_hours_peak > 0,
        )
    view = backlog_view(municipality, today=today, sites=sites, policy=policy)
    if view.sites:
        projection = project_backlog(view.data)
        worst = float(np.max(projection.lead_days)) if projection.lead_days.size else 0.0
        weeks_over = int(np.sum(np.max(projection.lead_days, axis=0) > TARGET_LEAD_DAYS))
    else:
        worst, weeks_over = 0.0, 0
    return Backlog(
        waiting_for_notice=view.waiting_for_notice,
        target_lead_days=TARGET_LEAD_DAYS,
        worst_lead_days=_finite(worst),
        weeks_over_target=weeks_over,
        heading_for_backlog=weeks_over > 0 or capacity.backlog_hours_peak > 0,
    )


def build_report(municipality: Municipality, *, today: dt.date | None = None) -> ReportV1:
    """The municipality's report as of `today` (aggregates only; nothing about a person).
    Each site's calendar, procedures and counts are read once, for the capacity, the staffing
    and the backlog (`municipality_site_inputs`), and so are the planning policy and the
    register's newest snapshots (every part from the same register)."""
    today = today or clock.today()
    sites = municipality_site_inputs(municipality)
    policy = policy_for(municipality.pk)
    snapshots = newest_snapshots(municipality.pk)
    capacity = _capacity(municipality, today, sites, policy, snapshots)
    return ReportV1(
        schema_=SCHEMA,
        schema_version=SCHEMA_VERSION,
        as_of=today,
        generated_at=clock.now().replace(microsecond=0),
        municipality=MunicipalityPart(
            code=municipality.code,
            name=municipality.name,
            municipality_class=municipality.municipality_class,  # type: ignore[arg-type]
            population=municipality.population,
        ),
        holding=_holding(municipality, snapshots),
        forecast=_forecast(municipality, today, snapshots),
        capacity=capacity,
        staffing=_staffing(municipality, today, sites, policy, snapshots),
        measures=measures_of(municipality, today, policy),
        notices=_notices(municipality, today),
        backlog=_backlog(municipality, today, capacity, sites, policy),
    )


# --- signed files -----------------------------------------------------------------------------


def signed_document(report: ReportV1) -> dict[str, Any]:
    """{"report": …, "signature": {algorithm, public_key, value}} signed with the municipality's
    key (`report_signing.private_key`)."""
    data = report.dump()
    public_key, value = report_signing.sign(report.municipality.code, canonical_bytes(data))
    return {
        "report": data,
        "signature": {
            "algorithm": report_signing.ALGORITHM,
            "public_key": public_key,
            "value": value,
        },
    }


def to_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _flatten(prefix: str, value: Any, rows: list[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, item, rows)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(f"{prefix}.{index}", item, rows)
    elif value is None:
        rows.append((prefix, ""))
    elif isinstance(value, bool):
        rows.append((prefix, "true" if value else "false"))
    else:
        rows.append((prefix, value))


def to_csv(document: dict[str, Any]) -> bytes:
    """One `key,value` row per value (keys are dotted paths, list items by index), formula-safe
    (`core.csvsafe`), UTF-8 with a BOM for spreadsheets; the signature rows last."""
    rows: list[tuple[str, Any]] = []
    _flatten("", document, rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["key", "value"])
    for key, value in rows:
        writer.writerow(safe_row([key, value]))
    return ("\ufeff" + out.getvalue()).encode()
