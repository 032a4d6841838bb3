"""Planning pages for managers: the wave, capacity against demand, the backlog and what to open."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.forecasts.backlog_plan import (
    TARGET_LEAD_DAYS,
    apply_backlog_plan,
    plan_digest,
    propose,
)
from madoguchi.forecasts.dashboard_cache import kept_figures
from madoguchi.forecasts.models import PlanningPolicy, policy_for
from madoguchi.forecasts.register_import import import_register
from madoguchi.forecasts.selectors import (
    BacklogView,
    CapacityPlan,
    CounterNeeds,
    HoldingView,
    WhatIf,
    backlog_view,
    capacity_plans,
    counter_needs,
    holding_view,
    municipality_site_inputs,
    newest_snapshots,
)
from madoguchi.offices.models import Municipality, Site
from madoguchi.planning.backlog import ProposalResult
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view
from madoguchi.staff_console import charts
from madoguchi.staff_console.forecasts.forms import RegisterUploadForm, WhatIfForm

COLORS = ("#0b5394", "#e69138", "#38761d", "#990000", "#674ea7", "#45818e")


def _municipality(request: HttpRequest, action: Action = Action.SEE_PLANNING) -> Municipality:
    """The person's own municipality, if the access rule lets them do `action` (403 else)."""
    return access.municipality(request.user, action)


def _what_if(form: WhatIfForm) -> WhatIf:
    data = form.cleaned_data
    site = data.get("site")
    return WhatIf(
        extra_counters={site.pk: data["extra_counters"]}
        if site and data.get("extra_counters")
        else {},
        saturday_counters=(
            {site.pk: data["saturday_counters"]} if site and data.get("saturday_counters") else {}
        ),
        temporary_counters=data.get("temporary_counters") or 0,
        temporary_from=data.get("temporary_from"),
        temporary_weeks=data.get("temporary_weeks") or 0,
        temporary_hours_per_week=float(data.get("temporary_hours_per_week") or 0),
    )


def _backlog_context(view: BacklogView, result: ProposalResult) -> dict[str, Any]:
    labels = [f"{d.month}/{d.day}" for d in view.week_starts]
    names = {site.pk: site.name for site in view.sites}
    names.update({t.site_id: t.name for t in view.temporary})
    lead_series = [
        charts.Series(
            f"{view.sites[row].name}", list(result.before.lead_days[row]), COLORS[row % 6]
        )
        for row in range(len(view.sites))
    ]
    rows = [
        {
            "site": view.sites[row].name,
            "weeks": [
                {
                    "label": labels[w],
                    "demand": result.before.demand[row][w],
                    "seats": result.before.seats[row][w],
                    "lead": result.before.lead_days[row][w],
                    "late": result.before.lead_days[row][w] > TARGET_LEAD_DAYS,
                }
                for w in range(len(view.week_starts))
            ],
        }
        for row in range(len(view.sites))
    ]
    proposals = [
        {
            "site": names[p.option.site_id],
            "site_id": p.option.site_id,
            "week_start": view.week_starts[p.week],
            "label": p.option.label,
            "kind": p.option.session_kind,
            "sessions": p.sessions,
            "seats": p.seats,
            "cost": p.cost,
        }
        for p in result.proposals
    ]
    opened = [
        {
            "name": t.name,
            "candidate": view.temporary_candidates[-t.site_id],
            "seats": t.seats,
            "cost": t.cost,
        }
        for t in result.opened
    ]
    return {
        "backlog": view,
        "week_labels": labels,
        "backlog_rows": rows,
        "lead_chart": charts.line_chart(
            title="予約の待ち日数の見通し（窓口別・週別）",
            summary=f"今後{len(labels)}週間、各窓口で最初に空いている予約枠までの日数の見通し。"
            f"目標は{TARGET_LEAD_DAYS}日以内。",
            labels=labels,
            series=lead_series,
            unit="日",
            threshold=TARGET_LEAD_DAYS,
            threshold_label=f"目標 {TARGET_LEAD_DAYS}日",
        ),
        "proposals": proposals,
        "opened_counters": opened,
        "proposal_cost": result.cost,
        "post_office": view.post_office,
        "proposal_resolved": result.resolved,
        "unresolved": [names[s] for s in result.unresolved_site_ids],
        "shortfalls": [
            {"site": names[site_id], "seats": seats, "reachable": math.isfinite(seats)}
            for site_id, seats in result.shortfall_seats_per_week.items()
        ],
        "after_worst": [
            {"site": names[site_id], "lead": lead}
            for site_id, lead in zip(
                result.after.site_ids, result.after.worst_lead_days(), strict=True
            )
        ],
        "proposal_seats": result.seats,
        "breach": result.before.first_breach(TARGET_LEAD_DAYS) is not None,
        "target_days": TARGET_LEAD_DAYS,
        "plan_digest": plan_digest(view, result),
    }


def _holding_context(view: HoldingView) -> dict[str, Any]:
    if view.snapshot is None:
        return {"holding": view}
    labels = [row.label for row in view.by_band]
    series = [
        charts.Series("カード保有率（今回）", [row.rate * 100 for row in view.by_band], COLORS[0])
    ]
    if view.previous is not None:
        series.append(
            charts.Series(
                "前回",
                [(row.previous_rate or 0.0) * 100 for row in view.by_band],
                COLORS[1],
            )
        )
    return {
        "holding": view,
        "holding_tables": [
            ("年齢階級別", [*view.by_band, view.total]),
            ("地区別", view.by_area),
        ],
        "holding_chart": charts.bar_chart(
            title="年齢階級別のカード保有率（％）",
            summary="住民台帳の基準日に有効なカードを持つ住民の割合（保有者数 ÷ 住民数）を"
            "5歳ごとの年齢階級別に示したもの。前回の台帳があれば並べて示す。",
            labels=labels,
            series=series,
            unit="％",
        ),
    }


@dataclass(frozen=True)
class PlanningFigures:
    """What the dashboard computes for one set of choices (kept: `forecasts.dashboard_cache`)."""

    plan: CapacityPlan
    regular: CapacityPlan | None
    """The regular hours alone, when the municipality has more (else None)."""
    tried: CapacityPlan | None
    backlog: BacklogView
    proposals: ProposalResult
    holding: HoldingView
    counter_needs: CounterNeeds | None


def planning_figures(
    municipality: Municipality,
    *,
    today: dt.date,
    start: dt.date,
    months: int,
    take_up: float,
    what_if: WhatIf,
    policy: PlanningPolicy | None = None,
) -> PlanningFigures:
    """Compute the dashboard's figures (every read of the database and of the engine).

    Each site's calendar, procedures and counts are read once, for the capacity, the backlog
    and the counter needs (`municipality_site_inputs`), and so are the planning policy (the
    page's own, `policy`, when it has read it) and the register's newest snapshots."""
    sites = municipality_site_inputs(municipality)
    policy = policy or policy_for(municipality.pk)
    snapshots = newest_snapshots(municipality.pk)  # one register for every figure
    # the regular hours alone (no temporary counter, no weekend or holiday opening): when the
    # municipality has any, the page shows what they cover and what falls short without them;
    # the current hours, the regular ones and the what-if in one walk of the calendars
    variants: list[tuple[WhatIf | None, bool]] = [(None, False), (None, True)]
    if not what_if.is_empty:
        variants.append((what_if, False))
    plan, *others = capacity_plans(
        municipality,
        start=start,
        months=months,
        take_up=take_up,
        variants=variants,
        sites=sites,
        policy=policy,
        snapshots=snapshots,
    )
    regular: CapacityPlan | None = others[0]
    if regular is not None and all(
        math.isclose(a, b, abs_tol=1e-6)
        for a, b in zip(regular.capacity_hours, plan.capacity_hours, strict=True)
    ):
        regular = None
    tried = others[1] if not what_if.is_empty else None
    backlog = backlog_view(municipality, today=today, sites=sites, policy=policy)
    return PlanningFigures(
        plan=plan,
        regular=regular,
        tried=tried,
        backlog=backlog,
        proposals=propose(backlog),
        holding=holding_view(municipality, snapshots=snapshots),
        counter_needs=counter_needs(
            municipality,
            start=start,
            months=months,
            take_up=take_up,
            sites=sites,
            policy=policy,
            snapshots=snapshots,
        ),
    )


@staff_view(Action.SEE_PLANNING)
def planning(request: HttpRequest) -> HttpResponse:
    """The planning dashboard; the what-if form answers through GET (bookmarkable). Its figures
    are computed once per change of their inputs and kept (`forecasts.dashboard_cache`)."""
    municipality = _municipality(request)
    today = clock.today()
    start = today.replace(day=1)
    sites = Site.objects.filter(municipality=municipality, is_active=True)
    policy = policy_for(municipality.pk)
    form = WhatIfForm(request.GET or None, sites=sites, initial={"take_up": policy.take_up_percent})
    what_if = WhatIf()
    months, take_up = 12, policy.take_up
    if form.is_bound and form.is_valid():
        what_if = _what_if(form)
        months, take_up = form.cleaned_data["months"], form.cleaned_data["take_up"] / 100
    figures = kept_figures(
        municipality,
        choices={"start": start, "months": months, "take_up": take_up, "what_if": asdict(what_if)},
        build=lambda: planning_figures(
            municipality,
            today=today,
            start=start,
            months=months,
            take_up=take_up,
            what_if=what_if,
            policy=policy,
        ),
        kind=PlanningFigures,
    )
    plan, regular, tried = figures.plan, figures.regular, figures.tried
    labels = plan.labels
    capacity_series = [
        charts.Series("需要（窓口時間）", list(plan.demand_hours), COLORS[1]),
        charts.Series("現在の体制", list(plan.capacity_hours), COLORS[0]),
    ]
    if regular is not None:
        capacity_series.append(
            charts.Series(
                "通常の体制（臨時窓口・土日祝を除く）",
                list(regular.capacity_hours),
                COLORS[3],
                True,
            )
        )
    if tried is not None:
        capacity_series.append(
            charts.Series("試算の体制", list(tried.capacity_hours), COLORS[2], True)
        )
    context = {
        "municipality": municipality,
        "form": form,
        "plan": plan,
        "tried": tried,
        "regular": regular,
        "months": [
            {
                "label": label,
                "card": plan.card_renewals[i],
                "cert": plan.cert_renewals[i],
                "demand": plan.demand_hours[i],
                "capacity": plan.capacity_hours[i],
                "backlog": plan.backlog_hours[i],
                "wait": plan.wait_days[i],
                "regular_capacity": regular.capacity_hours[i] if regular is not None else None,
                "regular_backlog": regular.backlog_hours[i] if regular is not None else None,
                "tried_capacity": tried.capacity_hours[i] if tried is not None else None,
                "tried_wait": tried.wait_days[i] if tried is not None else None,
            }
            for i, label in enumerate(labels)
        ],
        "forecast_chart": charts.bar_chart(
            title="更新の見込み（月別）",
            summary="住民台帳から計算した、カードと電子証明書の有効期限による更新件数の見込み。",
            labels=labels,
            series=[
                charts.Series("カード更新", list(plan.card_renewals), COLORS[0]),
                charts.Series("電子証明書の更新", list(plan.cert_renewals), COLORS[1]),
            ],
            unit="件",
        ),
        "capacity_chart": charts.line_chart(
            title="窓口の処理能力と需要（月別、窓口時間）",
            summary="更新の需要を窓口で必要な時間に換算し、開庁時間と窓口数から計算した処理能力と比べたもの。",
            labels=labels,
            series=capacity_series,
            unit="時間",
        ),
        "can_apply": access.allows(request.user, Action.CHANGE_PLANNING),
    }
    context.update(_backlog_context(figures.backlog, figures.proposals))
    context.update(_holding_context(figures.holding))
    context["counter_needs"] = figures.counter_needs
    return render(request, "forecasts/planning.html", context)


@staff_view(Action.CHANGE_PLANNING)
@require_POST
def apply_proposals(request: HttpRequest) -> HttpResponse:
    """Apply the plan the page showed (its fingerprint in the form): worked out again here,
    never taken from the form, and refused whole when it is no longer the one shown."""
    municipality = _municipality(request, Action.CHANGE_PLANNING)
    try:
        applied = apply_backlog_plan(
            municipality,
            shown=request.POST.get("plan", "")[:64],
            today=clock.today(),
            actor=Actor.staff(request.user),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("forecasts:planning")
    messages.success(
        request,
        (
            gettext("臨時窓口を開設しました: %(names)s。") % {"names": "、".join(applied.opened)}
            if applied.opened
            else ""
        )
        + gettext("臨時開庁を %(n)s 件追加し、予約枠を作成しました。") % {"n": len(applied.created)}
        + (
            gettext("（%(n)s 件は空いている日がなく見送りました）") % {"n": len(applied.skipped)}
            if applied.skipped
            else ""
        ),
    )
    return redirect("forecasts:planning")


@staff_view(Action.CHANGE_PLANNING)
def register_upload(request: HttpRequest) -> HttpResponse:
    """Upload a small register file (managers, administrators); the report is shown whatever
    the outcome."""
    municipality = _municipality(request, Action.CHANGE_PLANNING)
    max_bytes = settings.MADOGUCHI_IMPORT_UPLOAD_MAX_BYTES
    form = RegisterUploadForm(
        request.POST or None, request.FILES or None, max_bytes=max_bytes, today=clock.today()
    )
    report = None
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        report = import_register(
            uploaded.file,
            file_name=uploaded.name or "register.csv",
            municipality=municipality,
            actor=Actor.staff(request.user),
            taken_on=form.cleaned_data["taken_on"],
        )
    rejected = request.method == "POST" and (report is None or not report.accepted)
    return render(
        request,
        "forecasts/register_upload.html",
        {
            "municipality": municipality,
            "form": form,
            "report": report,
            "holding": holding_view(municipality),
            "max_mb": max_bytes // (1024 * 1024),
        },
        status=400 if rejected else 200,
    )
