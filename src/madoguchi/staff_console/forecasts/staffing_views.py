"""The staffing plan page: how many counters to open per site, week and session kind."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import numpy as np
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from madoguchi.core.forms import RefusesIndividualNumbers
from madoguchi.forecasts.models import PlanningPolicy, policy_for
from madoguchi.forecasts.staffing_cache import (
    KeptPlan,
    kept_plan,
    normalise_choices,
    settings_for,
    solve_and_keep,
)
from madoguchi.forecasts.staffing_cost import claim_csv, claim_lines, claim_xlsx
from madoguchi.forecasts.staffing_plan import (
    DEFAULT_TIME_LIMIT_SECONDS,
    KIND_LABELS,
    MIP_REL_GAP,
    StaffingInput,
    planned_back_office,
    planned_hours,
)
from madoguchi.planning.staffing import StaffingPlan
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


def _form(request: HttpRequest, policy: PlanningPolicy) -> StaffingForm:
    data = request.POST if request.method == "POST" else request.GET
    return StaffingForm(
        {k: v for k, v in data.items() if k in StaffingForm.base_fields} or None,
        initial={
            "take_up": policy.take_up_percent,
            "evening_cost": policy.evening_cost_weight,
            "weekend_cost": policy.weekend_cost_weight,
        },
    )


def _kept(
    request: HttpRequest,
) -> tuple[dict[str, Any], KeptPlan | None]:
    """Read the form and find the plan kept for its choices (the page and the claim share
    this). Never solves: `madoguchi solve-staffing` and the 再計算 button do."""
    municipality = _municipality(request)
    policy = policy_for(municipality.pk)
    form = _form(request, policy)
    context: dict[str, Any] = {"municipality": municipality, "form": form}
    if form.is_bound and not form.is_valid():
        return context, None
    choices = normalise_choices(form.cleaned_data if form.is_bound else None)
    context.update(
        {"settings": settings_for(policy, choices), "policy": policy, "choices": choices}
    )
    kept = kept_plan(municipality, choices, policy=policy)
    if kept is not None:
        context.update(
            {"solved_at": kept.solved_at, "stale": kept.stale, "kept_seconds": kept.solve_seconds}
        )
        if kept.error:
            context["error"] = kept.error
    else:
        context["not_solved"] = True
    return context, kept


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
    back_office = planned_back_office(staffing, plan)
    sites = []
    for s, site in enumerate(staffing.sites):
        if staffing.is_candidate(s) and not plan.temporary_used[s]:
            continue  # a candidate the plan leaves unopened has no roster (it is named below)
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
                "back_office": back_office[w, s],
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
    fixed = problem.temporary_fixed_cost
    return {
        **_status(plan),
        "sites": sites,
        "back_office_hours": float(back_office.sum()),
        "temporary_sites": [
            {"name": site.name, "used": bool(plan.temporary_used[s])}
            for s, site in enumerate(staffing.sites)
            if fixed is not None and not np.isnan(fixed[s])
        ],
        "weeks": [
            {
                "label": labels[w],
                "card": staffing.card_renewals[w],
                "cert": staffing.cert_renewals[w],
                "workload": workload[w],
                "planned": hours[w].sum(),
                "back_office": back_office[w].sum(),
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
    """The kept staffing plan; the form answers through GET (bookmarkable)."""
    context, kept = _kept(request)
    if kept is None or kept.staffing is None or kept.outcome is None:
        return render(request, "forecasts/staffing.html", context)
    staffing_data, outcome = kept.staffing, kept.outcome
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


@staff_view(Action.SEE_PLANNING)
@require_POST
def staffing_solve(request: HttpRequest) -> HttpResponse:
    """再計算: solve the plan for the posted choices now, keep it, and show it."""
    municipality = _municipality(request)
    policy = policy_for(municipality.pk)
    form = _form(request, policy)
    if form.is_bound and not form.is_valid():
        context = {"municipality": municipality, "form": form, "not_solved": True}
        return render(request, "forecasts/staffing.html", context, status=400)
    choices = normalise_choices(form.cleaned_data if form.is_bound else None)
    solve_and_keep(municipality, choices, policy=policy)
    query = urlencode({k: request.POST[k] for k in StaffingForm.base_fields if k in request.POST})
    return redirect(reverse("forecasts:staffing") + (f"?{query}" if query else ""))


def _clock(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _claim(request: HttpRequest, kind: str) -> HttpResponse:
    context, kept = _kept(request)
    plan = kept.outcome.plan if kept is not None and kept.outcome is not None else None
    if kept is None or kept.staffing is None or plan is None:
        return HttpResponse(
            gettext("この条件の計画はまだ計算されていません。"),
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    staffing_data = kept.staffing
    lines = claim_lines(staffing_data, plan, context["policy"])
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
