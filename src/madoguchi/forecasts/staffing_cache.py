"""The staffing plan solved outside the page and kept (issue 15.6; docs/decisions/0025).

The page never solves: it shows the plan kept for its choices (`SolvedStaffingPlan`) and says
whether it is stale. A plan is stale when the digest of its inputs — the planning policy, the
temporary-counter options, the register's current snapshot (every import makes a new one with
the file's SHA-256; the plan reads its aggregates, never the rows), the municipality's sites,
counters, terminals, sessions, special openings, closures, the procedures' minutes, the choices
and the first week planned — differs from the one it was solved from. The digest is a dozen
small queries (`site_input_parts_of` takes them for many municipalities at once, the roll-up's
kept reports use it), so the page can afford it; `madoguchi solve-staffing` (run after an import or
from cron) and the page's 再計算 button solve and store.

The kept plan is pickled (`forecasts.kept`): it is written only by this module from the solver's
own objects and read back by the same payload version (a mismatch reads as "not solved").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from madoguchi.core import clock
from madoguchi.core.dates import monday_of
from madoguchi.forecasts.kept import keep, pickled, unpickled
from madoguchi.forecasts.models import (
    PlanningPolicy,
    RegisterSnapshot,
    SolvedStaffingPlan,
    TemporaryCounterOption,
    policy_for,
)
from madoguchi.forecasts.staffing_plan import (
    StaffingInput,
    StaffingOutcome,
    StaffingSettings,
    solve_staffing_plan,
    staffing_input,
)
from madoguchi.offices.models import (
    Closure,
    Counter,
    Municipality,
    OpeningSession,
    Procedure,
    Site,
    SpecialOpening,
    Terminal,
)
from madoguchi.planning.staffing import StaffingError

PAYLOAD_VERSION = 5
"""The layout of a kept plan (`kept.pickled`): a plan kept under another one reads as not solved."""


def settings_for(policy: PlanningPolicy, choices: dict[str, Any] | None) -> StaffingSettings:
    """The manager's choices (the form's cleaned values), or the policy's when there are none:
    relative costs from the municipality's yen rates, and the yen of a weekday hour."""
    rate = policy.blended_rate_yen("weekday")
    limit = policy.staff_hours_per_week_limit
    cap = float(limit) if limit is not None else None
    deadlines = {
        "setup_deadline_days": int(policy.setup_deadline_days),
        "notice_deadline_days": 7 * int(policy.notice_delay_weeks),
    }
    if not choices:
        return StaffingSettings(
            take_up=policy.take_up,
            evening_cost=float(policy.evening_cost_weight),
            weekend_cost=float(policy.weekend_cost_weight),
            weekday_rate_yen=rate,
            total_staff_hours_per_week=cap,
            **deadlines,
        )
    return StaffingSettings(
        weeks=int(choices["weeks"]),
        take_up=int(choices["take_up"]) / 100,
        lead_time_weeks=float(choices["lead_time_weeks"]),
        weekday_cost=float(choices["weekday_cost"]),
        evening_cost=float(choices["evening_cost"]),
        weekend_cost=float(choices["weekend_cost"]),
        weekday_rate_yen=rate,
        total_staff_hours_per_week=cap,
        **deadlines,
    )


def normalise_choices(cleaned: dict[str, Any] | None) -> dict[str, str]:
    """The form's cleaned values as strings (JSON-safe, stable), {} for the policy's defaults."""
    if not cleaned:
        return {}
    return {
        key: (format(value.normalize(), "f") if isinstance(value, Decimal) else str(value))
        for key, value in sorted(cleaned.items())
    }


def choices_key(choices: dict[str, str]) -> str:
    if not choices:
        return ""
    return hashlib.sha256(json.dumps(choices, sort_keys=True).encode()).hexdigest()


def _rows(queryset: Any) -> list[dict[str, Any]]:
    return list(queryset.order_by("pk").values())


def site_input_parts(municipality: Municipality) -> dict[str, Any]:
    """The municipality's planning inputs as plain rows: policy, temporary-counter options, the
    register's current snapshot, sites, counters, terminals, sessions, special openings,
    closures and procedures (also part of the kept report's digest, `report_cache`)."""
    return site_input_parts_of([municipality.pk])[municipality.pk]


Grouped = dict[int, list[dict[str, Any]]]


def _by(rows: list[dict[str, Any]], owner: Callable[[dict[str, Any]], Iterable[int]]) -> Grouped:
    grouped: Grouped = {}
    for row in rows:
        for municipality_id in owner(row):
            grouped.setdefault(municipality_id, []).append(row)
    return grouped


Snapshots = dict[int, list[tuple[int, str, dt.date]]]


def snapshots_of(municipality_ids: Iterable[int]) -> Snapshots:
    """Each municipality's register snapshots, newest first (`RegisterSnapshot` orders by
    -pk): id, file digest and date, in one statement for all of them."""
    snapshots: Snapshots = {}
    for owner, pk, sha, taken_on in (
        RegisterSnapshot.objects.filter(municipality_id__in=set(municipality_ids))
        .order_by("municipality_id", "-pk")
        .values_list("municipality_id", "pk", "file_sha256", "taken_on")
    ):
        snapshots.setdefault(owner, []).append((pk, sha, taken_on))
    return snapshots


def site_input_parts_of(
    municipality_ids: list[int], *, snapshots: Snapshots | None = None
) -> dict[int, dict[str, Any]]:
    """`site_input_parts` of several municipalities at once: one query per table over all of
    them (a dozen queries whatever their number), rows in the same order as for one.
    `snapshots`: their snapshots already read (`snapshots_of`)."""
    ids = set(municipality_ids)
    sites = _rows(Site.objects.filter(municipality_id__in=ids))
    site_owner = {row["id"]: row["municipality_id"] for row in sites}
    counters = _rows(Counter.objects.filter(site_id__in=site_owner))
    counter_owner = {row["id"]: site_owner[row["site_id"]] for row in counters}

    def of_site(row: dict[str, Any]) -> Iterable[int]:
        return (site_owner[row["site_id"]],)

    def of_municipality(row: dict[str, Any]) -> Iterable[int]:
        return (row["municipality_id"],)

    def of_closure(row: dict[str, Any]) -> Iterable[int]:
        owners = {row["municipality_id"], site_owner.get(row["site_id"])}
        return sorted(owner for owner in owners if owner in ids)

    newest = {
        owner: {"pk": pk, "file_sha256": sha, "taken_on": taken_on}
        for owner, ((pk, sha, taken_on), *_older) in (
            snapshots if snapshots is not None else snapshots_of(ids)
        ).items()
    }
    policies = _by(_rows(PlanningPolicy.objects.filter(municipality_id__in=ids)), of_municipality)
    grouped = {
        "temporary_options": _by(
            _rows(TemporaryCounterOption.objects.filter(municipality_id__in=ids)), of_municipality
        ),
        "sites": _by(sites, of_municipality),
        "site_procedures": _by(
            _rows(Site.procedures.through.objects.filter(site_id__in=site_owner)), of_site
        ),
        "counters": _by(counters, of_site),
        "counter_procedures": _by(
            _rows(Counter.procedures.through.objects.filter(counter_id__in=counter_owner)),
            lambda row: (counter_owner[row["counter_id"]],),
        ),
        "terminals": _by(_rows(Terminal.objects.filter(site_id__in=site_owner)), of_site),
        "sessions": _by(_rows(OpeningSession.objects.filter(site_id__in=site_owner)), of_site),
        "specials": _by(_rows(SpecialOpening.objects.filter(site_id__in=site_owner)), of_site),
        "closures": _by(
            _rows(Closure.objects.filter(Q(municipality_id__in=ids) | Q(site_id__in=site_owner))),
            of_closure,
        ),
    }
    procedures = _rows(Procedure.objects.all())
    return {
        municipality_id: {
            "policy": policies[municipality_id][0] if municipality_id in policies else None,
            "snapshot": newest.get(municipality_id),
            **{name: rows.get(municipality_id, []) for name, rows in grouped.items()},
            "procedures": procedures,
        }
        for municipality_id in municipality_ids
    }


def digest_of(parts: dict[str, Any]) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def inputs_digest(municipality: Municipality, settings: StaffingSettings, *, today: dt.date) -> str:
    """SHA-256 of everything the plan for `settings` is built from (see the module docstring)."""
    return digest_of(
        {
            "version": PAYLOAD_VERSION,
            "first_monday": monday_of(today) + dt.timedelta(weeks=1),
            "settings": asdict(settings),
            **site_input_parts(municipality),
        }
    )


@dataclass(frozen=True)
class KeptPlan:
    """A kept plan as the page shows it: the problem, the outcome, when and whether stale."""

    staffing: StaffingInput | None
    outcome: StaffingOutcome | None
    error: str | None
    solved_at: dt.datetime
    solve_seconds: float
    stale: bool


def kept_plan(
    municipality: Municipality,
    choices: dict[str, str],
    *,
    today: dt.date | None = None,
    policy: PlanningPolicy | None = None,
) -> KeptPlan | None:
    """The plan kept for these choices, with whether its inputs changed since; None when none
    was solved (or it was kept by another code version). Never solves. `policy`: the
    municipality's planning policy when the caller has read it."""
    row = SolvedStaffingPlan.objects.filter(
        municipality=municipality, choices_key=choices_key(choices)
    ).first()
    if row is None:
        return None
    kept = unpickled(row.payload, kind=tuple, version=PAYLOAD_VERSION)
    if kept is None:
        return None
    staffing, outcome, error = kept
    settings = settings_for(policy or policy_for(municipality.pk), choices)
    current = inputs_digest(municipality, settings, today=today or clock.today())
    return KeptPlan(
        staffing=staffing,
        outcome=outcome,
        error=error,
        solved_at=row.solved_at,
        solve_seconds=row.solve_seconds,
        stale=current != row.inputs_digest,
    )


NO_SITE = "カードや電子証明書の更新を受け付ける窓口が登録されていません。"


def solve_and_keep(
    municipality: Municipality,
    choices: dict[str, str],
    *,
    today: dt.date | None = None,
    policy: PlanningPolicy | None = None,
) -> SolvedStaffingPlan:
    """Build the problem from live data, solve it and keep it (replacing the previous plan for
    the same choices). The digest is taken before reading the inputs, so a change made during
    the solve leaves the kept plan stale rather than wrongly fresh. `policy`: the
    municipality's planning policy when the caller has read it; the settings and the problem
    are built from the same one."""
    today = today or clock.today()
    policy = policy or policy_for(municipality.pk)
    settings = settings_for(policy, choices)
    digest = inputs_digest(municipality, settings, today=today)
    started = time.perf_counter()
    staffing: StaffingInput | None
    outcome: StaffingOutcome | None
    error: str | None = None
    try:
        staffing = staffing_input(municipality, today=today, settings=settings, policy=policy)
    except StaffingError:
        staffing, outcome, error = None, None, NO_SITE
    else:
        outcome = solve_staffing_plan(staffing)
    seconds = time.perf_counter() - started
    return keep(
        SolvedStaffingPlan,
        municipality=municipality,
        choices_key=choices_key(choices),
        defaults={
            "choices": choices,
            "inputs_digest": digest,
            "solved_at": clock.now(),
            "solve_seconds": seconds,
            "payload": pickled((staffing, outcome, error), version=PAYLOAD_VERSION),
        },
    )


def solve_stale(*, today: dt.date | None = None) -> list[tuple[SolvedStaffingPlan, bool]]:
    """Solve the policy's plan of every municipality with a site, and every kept plan whose
    inputs changed; returns (row, solved) pairs — solved False when it was already current."""
    today = today or clock.today()
    results = []
    seen: set[tuple[int, str]] = set()
    municipalities = Municipality.objects.filter(sites__isnull=False).distinct().order_by("pk")
    work: list[tuple[Municipality, dict[str, str]]] = [(m, {}) for m in municipalities]
    for row in SolvedStaffingPlan.objects.select_related("municipality").order_by("pk"):
        work.append((row.municipality, dict(row.choices)))
    for municipality, choices in work:
        key = (municipality.pk, choices_key(choices))
        if key in seen:
            continue
        seen.add(key)
        policy = policy_for(municipality.pk)  # read once for the check and the solve
        kept = kept_plan(municipality, choices, today=today, policy=policy)
        if kept is not None and not kept.stale:
            row = SolvedStaffingPlan.objects.get(municipality=municipality, choices_key=key[1])
            results.append((row, False))
            continue
        results.append((solve_and_keep(municipality, choices, today=today, policy=policy), True))
    return results
