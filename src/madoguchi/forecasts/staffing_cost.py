"""The staffing plan's cost in yen, in the shape of a subsidy claim (issue 15.6).

The optimiser decides counter-sessions per week, site and session kind; this module prices them
with the municipality's rates (`PlanningPolicy`: yen per hour by employment and session kind, and
the share of counter hours contractors work) and lays the result out as a claim: per month, staff
hours × rate by employment (official, contractor) and session kind, with the hours at temporary
sites on their own lines, then the totals per fiscal year (April–March).

Conventions:
* A week's hours go to the months its seven days fall in, in proportion (a week of 29 March
  counts 3/7 in March, 4/7 in April).
* The plan's "weekend" kind is a Saturday session (`PlanningPolicy.hourly_rate_yen`).
* Contractor hours are `contractor_share_percent` of every counter hour; the rest are officials'.
* Back-office hours (inspection and pre-issuance set-up of the cards delivered, notices; 時間帯
  "事務") are claimed in the week the plan does them (work that may wait is done when it fits,
  and what still waits after the plan is not in this claim) at the weekday rate, split between
  officials and contractors as the counter hours are.
* A temporary site linked to its `TemporaryCounterOption` adds its fixed costs on lines of their
  own (従事者 "固定費"): the set-up and removal cost in the month it opens, when that month is in
  the plan's horizon, and the monthly cost for every month of the horizon in which it is open on
  any day — only when the optimiser opened it (it weighs them against the counter-hours the site
  saves; `staffing_plan.temporary_fixed_costs`).
* A month line's hours are rounded to the hundredth of an hour and its amount is those hours ×
  the rate, rounded to the yen — so every line reconciles as written (時間 × 単価 = 金額, to the
  yen); the fiscal-year lines add the month lines, so a claim's lines always sum to its totals.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from openpyxl import Workbook

from madoguchi.core.csvsafe import safe_writer
from madoguchi.forecasts.models import EMPLOYMENTS, PlanningPolicy
from madoguchi.forecasts.staffing_plan import KIND_LABELS, StaffingInput, planned_back_office
from madoguchi.offices.models import SiteKind
from madoguchi.planning.staffing import StaffingPlan

HOURS_DECIMALS = 2
"""Hours are claimed to the hundredth (0.01 h, 36 seconds)."""
EMPLOYMENT_LABELS = {**dict(EMPLOYMENTS), "fixed": "固定費"}
FIXED_LABELS = {"setup": "開設・撤去", "monthly": "会場費など（月額）"}
CLAIM_HEADER = (
    "自治体",
    "区分",
    "年月・年度",
    "従事者",
    "時間帯",
    "窓口",
    "時間",
    "単価（円）",
    "金額（円）",
)


@dataclass(frozen=True)
class ClaimLine:
    """One line of the claim: `period` is YYYY-MM (a month) or 'FY2026' (a fiscal year's total);
    `place` is 常設 (permanent sites) or a temporary site's name."""

    period: str
    employment: str
    session_kind: str
    place: str
    hours: float
    rate_yen: int
    amount_yen: int

    @property
    def is_total(self) -> bool:
        return self.period.startswith("FY")


def _month_shares(monday: dt.date) -> dict[str, float]:
    shares: dict[str, float] = defaultdict(float)
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        shares[f"{day.year:04d}-{day.month:02d}"] += 1 / 7
    return shares


def claim_lines(
    staffing: StaffingInput, plan: StaffingPlan, policy: PlanningPolicy
) -> list[ClaimLine]:
    """Month lines then fiscal-year totals (see the module docstring). Lines with no hours are
    left out."""
    kinds = staffing.problem.session_kinds
    session_hours = np.array([k.session_hours for k in kinds])
    hours = plan.counter_sessions * session_hours  # [week, site, kind] counter-hours
    contractor_share = policy.contractor_share_percent / 100
    places = [site.name if site.kind == SiteKind.TEMPORARY else "常設" for site in staffing.sites]
    back_office = planned_back_office(staffing, plan)
    by_month: dict[tuple[str, str, str, str], float] = defaultdict(float)
    for w, monday in enumerate(staffing.week_starts):
        shares = _month_shares(monday)
        for s, place in enumerate(places):
            for kind_name, counter_hours in [
                *((kind.name, float(hours[w, s, k])) for k, kind in enumerate(kinds)),
                ("back_office", float(back_office[w, s])),
            ]:
                if counter_hours <= 0:
                    continue
                for employment, share in (
                    ("official", 1 - contractor_share),
                    ("contractor", contractor_share),
                ):
                    if share <= 0:
                        continue
                    for month, month_share in shares.items():
                        key = (month, employment, kind_name, place)
                        by_month[key] += counter_hours * share * month_share
    month_lines = []
    for (month, employment, kind_name, place), value in sorted(by_month.items()):
        rate = policy.hourly_rate_yen(
            employment, "weekday" if kind_name == "back_office" else kind_name
        )
        shown = round(value, HOURS_DECIMALS)  # the hours as the claim writes them
        if shown <= 0:
            continue
        month_lines.append(
            ClaimLine(month, employment, kind_name, place, shown, rate, round(shown * rate))
        )
    month_lines.extend(fixed_cost_lines(staffing, plan))
    month_lines.sort(key=lambda line: (line.period, line.employment, line.session_kind, line.place))
    totals: dict[tuple[str, str, str, str, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for line in month_lines:
        year, month_number = (int(part) for part in line.period.split("-"))
        fiscal = f"FY{year if month_number >= 4 else year - 1}"
        total_key = (fiscal, line.employment, line.session_kind, line.place, line.rate_yen)
        totals[total_key][0] += line.hours
        totals[total_key][1] += line.amount_yen
    total_lines = [
        ClaimLine(
            fiscal, employment, kind_name, place, round(value, HOURS_DECIMALS), rate, int(amount)
        )
        for (fiscal, employment, kind_name, place, rate), (value, amount) in sorted(totals.items())
    ]
    return month_lines + total_lines


def fixed_cost_lines(staffing: StaffingInput, plan: StaffingPlan) -> list[ClaimLine]:
    """The fixed costs of the temporary sites the plan opens (see the module docstring)."""
    return [
        ClaimLine(
            cost.period,
            "fixed",
            cost.kind,
            staffing.sites[cost.site_index].name,
            0.0,
            cost.yen,
            cost.yen,
        )
        for cost in staffing.fixed_costs
        if plan.temporary_used[cost.site_index]
    ]


def claim_rows(lines: list[ClaimLine], *, municipality: str) -> list[tuple[str | int | float, ...]]:
    """The claim's rows under :data:`CLAIM_HEADER`: month lines, fiscal-year totals, then the
    grand total (the month lines' sum)."""
    rows: list[tuple[str | int | float, ...]] = [
        (
            municipality,
            "年度計" if line.is_total else "月別",
            line.period,
            EMPLOYMENT_LABELS[line.employment],
            FIXED_LABELS.get(line.session_kind)
            or KIND_LABELS.get(line.session_kind, line.session_kind),
            line.place,
            round(line.hours, HOURS_DECIMALS),
            line.rate_yen,
            line.amount_yen,
        )
        for line in lines
    ]
    month_lines = [line for line in lines if not line.is_total]
    rows.append(
        (
            municipality,
            "合計",
            "",
            "",
            "",
            "",
            round(sum(line.hours for line in month_lines), HOURS_DECIMALS),
            "",
            sum(line.amount_yen for line in month_lines),
        )
    )
    return rows


def claim_xlsx(lines: list[ClaimLine], *, municipality: str) -> bytes:
    """The claim as an XLSX workbook (openpyxl): the same rows as the CSV, numbers as numbers,
    every text cell stored as text — a site named `=…` is a string, never a formula."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "人件費の内訳"
    for row_index, row in enumerate(
        [CLAIM_HEADER, *claim_rows(lines, municipality=municipality)], start=1
    ):
        for column_index, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_index, column=column_index)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would take a leading "=" as a formula
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def claim_csv(lines: list[ClaimLine], *, municipality: str) -> str:
    """The claim as CSV text (UTF-8 with BOM when encoded by the caller), formula-safe: text
    cells that a spreadsheet would run as formulas (a site named `=…`) are neutralised."""
    out = io.StringIO()
    writer = safe_writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CLAIM_HEADER)
    writer.writerows(claim_rows(lines, municipality=municipality))
    return out.getvalue()
