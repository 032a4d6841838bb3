"""The staffing plan page: how many counters to open per site, week and session kind."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from madoguchi.core import clock
from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.forecasts.models import PlanningPolicy, policy_for
from madoguchi.forecasts.staffing_cost import claim_csv, claim_lines, claim_xlsx
from madoguchi.forecasts.staffing_plan import (
    DEFAULT_TIME_LIMIT_SECONDS,
    KIND_LABELS,
    MIP_REL_GAP,
    StaffingInput,
    StaffingOutcome,
    StaffingSettings,
    planned_hours,
    solve_staffing_plan,
    staffing_input,
)
from madoguchi.planning.staffing import StaffingError, StaffingPlan
from madoguchi.staff.access import Action, staff_view
from madoguchi.staff_console import charts
from madoguchi.staff_console.forecasts.views import COLORS, _municipality


class StaffingForm(RefusesIndividualNumbers, forms.Form):
    """Horizon, take-up, lead-time target and relative costs of evening and weekend hours."""

    weeks = forms.IntegerField(label=_("期間（週）"), min_value=4, max_value=52, initial=26)
    take_up = forms.IntegerField(
        label=_("更新する人の割合（％）"), min_value=0, max_value=100, initial=90
    )
    lead_time_weeks = forms.IntegerField(
        label=_("待ちの目標（週）"), min_value=0, max_value=12, initial=2
    )
    weekday_cost = forms.DecimalField(
        label=_("平日1時間の費用（基準）"), min_value=0, max_value=10, decimal_places=2, initial=1
    )
    evening_cost = forms.DecimalField(
        label=_("夜間1時間の費用（平日比）"),
        min_value=0,
        max_value=10,
        decimal_places=2,
        initial=1.25,
    )
    weekend_cost = forms.DecimalField(
        label=_("休日1時間の費用（平日比）"),
        min_value=0,
        max_value=10,
        decimal_places=2,
        initial=1.5,
    )


def _settings(form: StaffingForm, policy: PlanningPolicy) -> StaffingSettings:
    """The manager's choices, or the policy's when the form is not sent: relative costs from
    the municipality's yen rates, and the yen of a weekday hour they multiply."""
    rate = policy.blended_rate_yen("weekday")
    limit = policy.staff_hours_per_week_limit
    cap = float(limit) if limit is not None else None
    if not form.is_bound:
        return StaffingSettings(
            take_up=policy.take_up_percent / 100,
            evening_cost=float(policy.evening_cost_weight),
            weekend_cost=float(policy.weekend_cost_weight),
            weekday_rate_yen=rate,
            total_staff_hours_per_week=cap,
        )
    data = form.cleaned_data
    return StaffingSettings(
        weeks=data["weeks"],
        take_up=data["take_up"] / 100,
        lead_time_weeks=float(data["lead_time_weeks"]),
        weekday_cost=float(data["weekday_cost"]),
        evening_cost=float(data["evening_cost"]),
        weekend_cost=float(data["weekend_cost"]),
        weekday_rate_yen=rate,
        total_staff_hours_per_week=cap,
    )


def _solve(
    request: HttpRequest,
) -> tuple[dict[str, Any], StaffingInput | None, StaffingOutcome | None]:
    """Read the form, build the problem and solve it (the page and the claim share this)."""
    municipality = _municipality(request)
    policy = policy_for(municipality.pk)
    form = StaffingForm(
        request.GET or None,
        initial={
            "take_up": policy.take_up_percent,
            "evening_cost": policy.evening_cost_weight,
            "weekend_cost": policy.weekend_cost_weight,
        },
    )
    context: dict[str, Any] = {"municipality": municipality, "form": form}
    if form.is_bound and not form.is_valid():
        return context, None, None
    settings = _settings(form, policy)
    context.update({"settings": settings, "policy": policy})
    try:
        staffing_data = staffing_input(municipality, today=clock.today(), settings=settings)
    except StaffingError:
        context["error"] = "カードや電子証明書の更新を受け付ける窓口が登録されていません。"
        return context, None, None
    return context, staffing_data, solve_staffing_plan(staffing_data)


def _status(plan: StaffingPlan) -> dict[str, Any]:
    gap = plan.mip_gap * 100 if math.isfinite(plan.mip_gap) else None
    if plan.status == "optimal":
        label = gettext("最適（費用の下限との差 %(gap)s%% 以内を確認済み）") % {
            "gap": f"{MIP_REL_GAP * 100:g}"
        }
    else:
        label = gettext("時間切れ（%(seconds)s秒）: 暫定の計画です。") % {
            "seconds": f"{DEFAULT_TIME_LIMIT_SECONDS:g}"
        } + (
            gettext("費用の下限との差は最大 %(gap)s%% です。") % {"gap": f"{gap:.1f}"}
            if gap is not None
            else ""
        )
    return {
        "status": plan.status,
        "status_label": label,
        "gap_percent": gap,
        "cost": plan.cost,
        "solve_seconds": plan.solve_seconds,
    }


def _plan_context(staffing: StaffingInput, plan: StaffingPlan) -> dict[str, Any]:
    problem = staffing.problem
    labels = [f"{d.month}/{d.day}" for d in staffing.week_starts]
    hours = planned_hours(plan, problem.session_kinds)
    workload = problem.demand_hours.sum(axis=1)
    open_weeks = problem.open_weeks
    sites = []
    for s, site in enumerate(staffing.sites):
        rows = [
            {
                "label": labels[w],
                "week_start": staffing.week_starts[w],
                "open": bool(open_weeks[w, s]) if open_weeks is not None else True,
                "sessions": [
                    int(plan.counter_sessions[w, s, k]) for k in range(len(problem.session_kinds))
                ],
                "planned": hours[w, s],
                "card": staffing.card_hours[w, s],
                "cert": staffing.cert_hours[w, s],
                "backlog": plan.backlog_hours[w, s],
            }
            for w in range(problem.weeks)
        ]
        sites.append(
            {
                "name": site.name,
                "kind": site.get_kind_display(),
                "max_counters": int(problem.max_counters[s]),
                "total_sessions": int(plan.counter_sessions[:, s, :].sum()),
                "rows": rows,
            }
        )
    return {
        **_status(plan),
        "sites": sites,
        "weeks": [
            {
                "label": labels[w],
                "card": staffing.card_renewals[w],
                "cert": staffing.cert_renewals[w],
                "workload": workload[w],
                "planned": hours[w].sum(),
            }
            for w in range(problem.weeks)
        ],
        "chart": charts.line_chart(
            title="計画した窓口時間と需要（週別）",
            summary=f"今後{problem.weeks}週間、全窓口で計画した窓口時間（窓口数×時間）と、"
            "更新の需要を窓口時間に換算したもの。",
            labels=labels,
            series=[
                charts.Series("需要（窓口時間）", list(workload), COLORS[1]),
                charts.Series("計画した窓口時間", list(hours.sum(axis=1)), COLORS[0]),
            ],
            unit="時間",
        ),
    }


@staff_view(Action.SEE_PLANNING)
def staffing(request: HttpRequest) -> HttpResponse:
    """The staffing plan; the form answers through GET (bookmarkable)."""
    context, staffing_data, outcome = _solve(request)
    if staffing_data is None or outcome is None:
        return render(request, "forecasts/staffing.html", context)
    kinds = staffing_data.problem.session_kinds
    context.update(
        {
            "first_week": staffing_data.week_starts[0],
            "kinds": [
                {
                    "label": KIND_LABELS.get(k.name, k.name),
                    "hours": f"{_clock(k.start_hour)}〜{_clock(k.end_hour)}",
                    "days": k.days_per_week,
                    "cost": k.cost_per_counter_hour,
                }
                for k in kinds
            ],
            "kind_labels": [KIND_LABELS.get(k.name, k.name) for k in kinds],
            "error": outcome.error,
        }
    )
    if outcome.plan is not None:
        context.update(_plan_context(staffing_data, outcome.plan))
        lines = claim_lines(staffing_data, outcome.plan, context["policy"])
        context["cost_yen"] = sum(line.amount_yen for line in lines if not line.is_total)
        context["claim_query"] = request.GET.urlencode()
    return render(request, "forecasts/staffing.html", context)


def _clock(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _claim(request: HttpRequest, kind: str) -> HttpResponse:
    context, staffing_data, outcome = _solve(request)
    if staffing_data is None or outcome is None or outcome.plan is None:
        raise Http404("no plan for these conditions")
    lines = claim_lines(staffing_data, outcome.plan, context["policy"])
    name = context["municipality"].name
    first = staffing_data.week_starts[0].isoformat()
    if kind == "xlsx":
        response = HttpResponse(
            claim_xlsx(lines, municipality=name),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        text = claim_csv(lines, municipality=name)
        response = HttpResponse(
            ("\ufeff" + text).encode("utf-8"), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="staffing-claim-{first}.{kind}"'
    return response


@staff_view(Action.SEE_PLANNING)
def staffing_claim(request: HttpRequest) -> HttpResponse:
    """The plan's cost as a subsidy-claim CSV (same conditions as the page, through GET)."""
    return _claim(request, "csv")


@staff_view(Action.SEE_PLANNING)
def staffing_claim_xlsx(request: HttpRequest) -> HttpResponse:
    """The same claim as an XLSX workbook."""
    return _claim(request, "xlsx")
