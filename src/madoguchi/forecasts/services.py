"""Applying a planning proposal: the openings it lists become special openings and slots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.db.models import Count

from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.changes import planning_inputs_changed
from madoguchi.core.errors import DomainError
from madoguchi.core.holidays import national_holiday_name
from madoguchi.forecasts.models import PlanningPolicy, TemporaryCounterOption, policy_for
from madoguchi.offices.calendar import SiteCalendar
from madoguchi.offices.models import (
    Closure,
    Counter,
    OpeningSession,
    Procedure,
    ProcedureCode,
    SessionKind,
    Site,
    SiteKind,
    SpecialOpening,
    Terminal,
)
from madoguchi.offices.services import add_special_opening
from madoguchi.reservations.slots import planned_slots, regenerate_site_slots

SESSION_KINDS = ("evening", "saturday", "sunday")
"""The extra sessions a backlog proposal may add (which ones: the municipality's policy)."""


def allowed_session_kinds(policy: PlanningPolicy) -> list[str]:
    """The session kinds `policy` lets the planner propose."""
    allowed = {
        "evening": policy.allow_evenings,
        "saturday": policy.allow_saturdays,
        "sunday": policy.allow_sundays,
    }
    return [kind for kind in SESSION_KINDS if allowed[kind]]


def session_hours(policy: PlanningPolicy, session_kind: str) -> tuple[dt.time, dt.time]:
    """Start and end of an extra session of `session_kind` under `policy`."""
    if session_kind == "saturday":
        return policy.saturday_starts_at, policy.saturday_ends_at
    if session_kind == "sunday":
        return policy.sunday_starts_at, policy.sunday_ends_at
    return policy.evening_starts_at, policy.evening_ends_at


def session_minutes(policy: PlanningPolicy, session_kind: str) -> int:
    return {
        "saturday": policy.saturday_minutes,
        "sunday": policy.sunday_minutes,
    }.get(session_kind, policy.evening_minutes)


def session_weekdays(policy: PlanningPolicy, session_kind: str) -> tuple[int, ...]:
    """The weekdays an extra session of `session_kind` may take, in the order they are tried
    (a Sunday/holiday session: Sunday, or a weekday that is a national holiday)."""
    if session_kind == "saturday":
        return (5,)
    if session_kind == "sunday":
        return (6, 0, 1, 2, 3, 4)
    return tuple(int(day) for day in policy.evening_weekdays)


@dataclass(frozen=True)
class ProposedOpening:
    """`sessions` sessions of `session_kind` at `site_id` in the week starting `week_start`."""

    site_id: int
    week_start: dt.date
    session_kind: str
    sessions: int


@dataclass(frozen=True)
class AppliedOpenings:
    created: list[tuple[str, dt.date]]
    skipped: list[tuple[str, dt.date, str]]
    opened: list[str] = field(default_factory=list)


def candidate_days(
    calendar: SiteCalendar,
    *,
    session_kind: str,
    week_start: dt.date,
    today: dt.date,
    policy: PlanningPolicy,
) -> list[dt.date]:
    """The days of a week an extra session of `session_kind` would take, in the order they are
    taken: after `today`, the session's hours free, inside the site's dates, not a weekday
    holiday or closure (except that a Sunday/holiday session takes a weekday holiday). The
    backlog's options and `apply_opening_proposals` both use it, so the seats an option
    promises are the seats applying it creates."""
    starts, ends = session_hours(policy, session_kind)
    days = []
    for weekday in session_weekdays(policy, session_kind):
        day = week_start + dt.timedelta(days=weekday)
        if day <= today:
            continue
        site_day = calendar.day(day)
        if session_kind == "sunday":
            if day.weekday() < 5 and national_holiday_name(day) is None:
                continue  # a Sunday/holiday session takes a weekday only when it is a holiday
        elif calendar.closed_reason(day) is not None and day.weekday() < 5:
            continue  # a weekday holiday or closure stays closed
        if not calendar.site.is_open_on_date(day):
            continue
        if any(p.starts_at.time() < ends and p.ends_at.time() > starts for p in site_day.periods):
            continue
        days.append(day)
    return days


@dataclass(frozen=True)
class SiteSlotInputs:
    """What the slot generator reads for one site, loaded once (`site_slot_inputs`)."""

    site: Site
    calendar: SiteCalendar
    procedures: list[Procedure]
    terminals: int
    counters: int
    walkin_share_percent: int


def site_slot_inputs(site: Site) -> SiteSlotInputs:
    """What the slot generator reads for `site` (`site_slot_inputs_of` for one site)."""
    (inputs,) = site_slot_inputs_of([site])
    return inputs


def site_slot_inputs_of(sites: Sequence[Site]) -> list[SiteSlotInputs]:
    """`site_slot_inputs` of each of `sites` (read with their municipality and procedures, as
    `active_sites` reads them), in their order: the calendars in three statements
    (`SiteCalendar.load_many`) and the active terminals and counters in one count each for
    all of them, instead of five statements per site."""
    from madoguchi.offices.selectors import offered_procedures

    ids = [site.pk for site in sites]
    calendars = SiteCalendar.load_many(sites)

    def active(model: type[Terminal] | type[Counter]) -> dict[int, int]:
        rows = (
            model.objects.filter(site_id__in=ids, is_active=True)
            .order_by()
            .values_list("site_id")
            .annotate(count=Count("pk"))
        )
        return dict(rows)

    terminals, counters = active(Terminal), active(Counter)
    return [
        SiteSlotInputs(
            site=site,
            calendar=calendars[site.pk],
            procedures=offered_procedures(site),
            terminals=terminals.get(site.pk, 0),
            counters=counters.get(site.pk, 0),
            walkin_share_percent=site.municipality.walkin_share_percent,
        )
        for site in sites
    ]


def _seats_on(
    inputs: SiteSlotInputs, calendar: SiteCalendar, procedure_id: int, day: dt.date
) -> int:
    return sum(
        slot.capacity
        for slot in planned_slots(
            calendar,
            inputs.procedures,
            day,
            day,
            terminals=inputs.terminals,
            walkin_share_percent=inputs.walkin_share_percent,
            only=procedure_id,
        )
    )


def opening_seats(
    inputs: SiteSlotInputs,
    *,
    session_kind: str,
    day: dt.date,
    procedure_id: int,
    policy: PlanningPolicy,
) -> int:
    """The `procedure_id` seats an extra `session_kind` session on `day` creates: the slot
    generator's own plan for that day with the opening `apply_opening_proposals` would add,
    minus its plan without it (the split between procedures, terminals and walk-in share
    included)."""
    starts, ends = session_hours(policy, session_kind)
    opening = SpecialOpening(
        site=inputs.site,
        day=day,
        starts_at_time=starts,
        ends_at_time=ends,
        counters_open=inputs.counters,
    )
    opened = replace(inputs.calendar, specials=[*inputs.calendar.specials, opening])
    return _seats_on(inputs, opened, procedure_id, day) - _seats_on(
        inputs, inputs.calendar, procedure_id, day
    )


# --- temporary counters -------------------------------------------------------------------------


def temporary_site_dates(option: TemporaryCounterOption, today: dt.date) -> tuple[dt.date, dt.date]:
    """The dates a temporary counter opened today would run: from tomorrow at the earliest."""
    return max(option.opens_on, today + dt.timedelta(days=1)), option.closes_on


def _temporary_session_kind(weekday: int, starts: dt.time) -> str:
    if weekday >= 5:
        return SessionKind.WEEKEND
    return SessionKind.EVENING if starts >= dt.time(17, 0) else SessionKind.WEEKDAY


def planned_temporary_calendar(option: TemporaryCounterOption, *, today: dt.date) -> SiteCalendar:
    """The calendar the candidate would have once opened (unsaved site and sessions): the
    municipality's holidays and closures, its weekdays and hours with all its counters.
    `open_temporary_counter` saves exactly these, so the seats promised are the seats created."""
    opens, closes = temporary_site_dates(option, today)
    municipality = option.municipality
    site = Site(
        municipality=municipality,
        name=option.name,
        kind=SiteKind.TEMPORARY,
        address=option.name,
        open_from=opens,
        open_until=closes,
        translations=_site_translations(option),
    )
    sessions = [
        OpeningSession(
            site=site,
            weekday=weekday,
            kind=_temporary_session_kind(weekday, option.starts_at),
            starts_at_time=option.starts_at,
            ends_at_time=option.ends_at,
            counters_open=option.counters,
        )
        for weekday in sorted(option.weekdays)
    ]
    return SiteCalendar(
        site=site,
        sessions=sessions,
        closures=list(Closure.objects.filter(municipality_id=municipality.pk, site__isnull=True)),
        specials=[],
        year_end_closure=municipality.year_end_closure,
        closes_sunday_after_third_saturday=municipality.closes_sunday_after_third_saturday,
    )


def _site_translations(option: TemporaryCounterOption) -> dict[str, dict[str, str]]:
    """The opened site's names in other languages (decision 0029): the candidate's name, which
    is also the site's address, as entered for the candidate in the admin."""
    entries = option.translations if isinstance(option.translations, dict) else {}
    return {
        language: {"name": name, "address": name}
        for language, values in entries.items()
        if isinstance(values, dict) and (name := str(values.get("name") or "").strip())
    }


def _counter_translations(municipality_id: int) -> dict[str, dict[str, dict[str, str]]]:
    """The names in other languages the municipality entered for its counters, by Japanese name
    (「1番窓口」 at the main office): a new counter of the same name takes them."""
    known: dict[str, dict[str, dict[str, str]]] = {}
    for name, entries in Counter.objects.filter(site__municipality_id=municipality_id).values_list(
        "name", "translations"
    ):
        if isinstance(entries, dict) and entries:
            known.setdefault(name, entries)
    return known


def temporary_counter_seats(
    option: TemporaryCounterOption, *, today: dt.date, weeks: list[dt.date], pickup: Procedure
) -> list[float]:
    """Card pick-up seats per week (weeks start on the given Mondays) the candidate would
    offer once opened: it offers card pick-up only, at all its counters (and terminals)."""
    calendar = planned_temporary_calendar(option, today=today)
    seats = [0.0] * len(weeks)
    first, last = weeks[0], weeks[-1] + dt.timedelta(days=6)
    for planned in planned_slots(
        calendar,
        [pickup],
        first,
        last,
        terminals=option.terminals,
        walkin_share_percent=option.municipality.walkin_share_percent,
    ):
        seats[(planned.starts_at.date() - first).days // 7] += planned.capacity
    return seats


def _rate_kind(period_kind: str, day: dt.date) -> str:
    if period_kind == "weekend":
        return "saturday" if day.weekday() == 5 else "sunday"
    return period_kind


def temporary_counter_cost(
    option: TemporaryCounterOption, *, today: dt.date, policy: PlanningPolicy
) -> float:
    """Yen the candidate costs over its whole run if opened today: set-up, the monthly cost for
    every calendar month it is open, and its counters' staff hours at the policy's rates."""
    calendar = planned_temporary_calendar(option, today=today)
    opens, closes = temporary_site_dates(option, today)
    if closes < opens:
        return float(option.setup_cost_yen)
    staff = 0.0
    for site_day in calendar.days(opens, closes):
        for period in site_day.periods:
            rate = policy.blended_rate_yen(_rate_kind(period.kind, site_day.day))
            staff += period.minutes / 60 * period.counters * rate
    months = (closes.year - opens.year) * 12 + closes.month - opens.month + 1
    return float(option.setup_cost_yen + option.monthly_cost_yen * months) + staff


def open_temporary_counter(
    *, option_id: int, today: dt.date, slots_until: dt.date, actor: Actor
) -> Site:
    """Open a temporary-counter candidate as a site: the site (card pick-up), its counters,
    terminals and weekly hours as `planned_temporary_calendar` plans them, the candidate linked
    to it (its fixed costs then count in the staffing plan and the claim), and its slots up to
    `slots_until`. Atomic and audited; DomainError when it is open already or its name is taken."""
    with transaction.atomic():
        option = (
            TemporaryCounterOption.objects.select_for_update()
            .select_related("municipality")
            .get(pk=option_id)
        )
        if option.site_id is not None:
            raise DomainError("already_open", "この臨時窓口の候補はすでに開設されています。")
        if Site.objects.filter(municipality=option.municipality, name=option.name).exists():
            raise DomainError(
                "name_taken",
                f"「{option.name}」という窓口がすでにあります。候補の名称を変えてください。",
            )
        calendar = planned_temporary_calendar(option, today=today)
        site = calendar.site
        site.save()
        site.procedures.set(Procedure.objects.filter(code=ProcedureCode.CARD_PICKUP))
        counter_names = _counter_translations(option.municipality_id)
        Counter.objects.bulk_create(
            Counter(site=site, name=name, translations=counter_names.get(name, {}))
            for name in (f"{n}番窓口" for n in range(1, option.counters + 1))
        )
        Terminal.objects.bulk_create(
            Terminal(site=site, name=f"端末{n}") for n in range(1, option.terminals + 1)
        )
        planning_inputs_changed.send(sender=Counter)  # bulk writes send no post_save
        for session in calendar.sessions:
            session.site = site
            session.save()
        option.site = site
        option.save(update_fields=["site"])
        record_audit_event(
            actor=actor,
            action="planning.temporary_counter.open",
            subject_type="forecasts.TemporaryCounterOption",
            subject_id=option.pk,
            after={
                "site": site.pk,
                "name": site.name,
                "translations": site.translations,
                "open_from": site.open_from.isoformat() if site.open_from else None,
                "open_until": site.open_until.isoformat() if site.open_until else None,
                "counters": option.counters,
                "terminals": option.terminals,
            },
        )
        assert site.open_from is not None and site.open_until is not None
        if site.open_from <= min(site.open_until, slots_until):
            regenerate_site_slots(
                site=site,
                first=site.open_from,
                last=min(site.open_until, slots_until),
                actor=actor,
            )
    return site


def apply_opening_proposals(
    *,
    proposals: list[ProposedOpening],
    actor: Actor,
    today: dt.date,
    temporary_counters: tuple[int, ...] = (),
    slots_until: dt.date | None = None,
) -> AppliedOpenings:
    """Open the temporary counters (candidate ids; slots up to `slots_until`), then create the
    special openings a backlog proposal lists and the slots for them.

    All-or-nothing; each opening is audited by `add_special_opening`, the whole action once more.
    A session with no free day in its week (already open then, holiday, outside a temporary
    counter's dates) is skipped and reported. Raises DomainError when an opening is invalid.
    """
    created: list[tuple[str, dt.date]] = []
    skipped: list[tuple[str, dt.date, str]] = []
    opened: list[str] = []
    policies: dict[int, PlanningPolicy] = {}  # each municipality's read once, not per proposal
    with transaction.atomic():
        for option_id in temporary_counters:
            site = open_temporary_counter(
                option_id=option_id,
                today=today,
                slots_until=slots_until or today + dt.timedelta(weeks=12),
                actor=actor,
            )
            opened.append(site.name)
        for proposal in proposals:
            site = Site.objects.select_related("municipality").get(pk=proposal.site_id)
            calendar = SiteCalendar.load(site)
            if site.municipality_id not in policies:
                policies[site.municipality_id] = policy_for(site.municipality_id)
            policy = policies[site.municipality_id]
            days = candidate_days(
                calendar,
                session_kind=proposal.session_kind,
                week_start=proposal.week_start,
                today=today,
                policy=policy,
            )
            starts, ends = session_hours(policy, proposal.session_kind)
            counters = site.counters.filter(is_active=True).count()
            for day in days[: proposal.sessions]:
                add_special_opening(
                    site=site,
                    day=day,
                    starts_at_time=starts,
                    ends_at_time=ends,
                    counters_open=counters,
                    reason="滞留対策の臨時開庁",
                    actor=actor,
                )
                # only the opened day: the seats created are exactly the seats promised
                regenerate_site_slots(site=site, first=day, last=day, actor=actor)
                created.append((site.name, day))
            for _ in range(proposal.sessions - len(days[: proposal.sessions])):
                skipped.append((site.name, proposal.week_start, "空いている日がありません"))
        record_audit_event(
            actor=actor,
            action="planning.openings.apply",
            subject_type="offices.Municipality",
            subject_id="backlog",
            after={
                "temporary_counters": opened,
                "created": [(name, day.isoformat()) for name, day in created],
                "skipped": [(name, day.isoformat(), why) for name, day, why in skipped],
            },
        )
    return AppliedOpenings(created=created, skipped=skipped, opened=opened)
