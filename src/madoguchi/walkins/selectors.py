"""Reads of the walk-in queue, shaped for the board, the phone page, the staff page and the API."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from madoguchi.core import clock
from madoguchi.offices.calendar import OpenPeriod, SiteCalendar
from madoguchi.offices.models import Counter, Procedure, Site
from madoguchi.offices.selectors import offered_procedures
from madoguchi.walkins.calling import order_key
from madoguchi.walkins.estimates import (
    Waiting,
    blended_service_minutes,
    wait_minutes,
    wait_minutes_at_counters,
    waits_at_counters,
)
from madoguchi.walkins.models import AT_COUNTER_STATUSES, QueueSettings, QueueTicket, TicketStatus

OBSERVATION_DAYS = 14
"""Finished services from this many past days (and today) inform the service-time estimate."""
OBSERVATIONS_PER_PROCEDURE = 20
"""The most recent finished services per procedure used; older ones are ignored."""


@dataclass(frozen=True)
class CounterView:
    """A counter on the board: its name and the ticket it is calling or serving, if any."""

    counter: Counter
    ticket: QueueTicket | None


@dataclass(frozen=True)
class QueueState:
    """A site's queue today."""

    site: Site
    business_day: dt.date
    waiting: list[QueueTicket]
    at_counters: list[QueueTicket]
    counters: list[CounterView]
    estimated_wait_minutes: int
    """For somebody taking a ticket now (behind everyone waiting), counted from now: the longest
    of `wait_by_procedure` (a newcomer's procedure is not known yet)."""
    wait_by_procedure: dict[int, int] = field(default_factory=dict)
    """Per procedure offered (id): the wait of a newcomer for it, counting only the counters
    that take it."""
    opens_at: dt.datetime | None = None
    """Before today's first opening: when it starts (the estimate counts the wait until then)."""
    wait_after_opening_minutes: int | None = None
    """Before opening: the estimated wait counted from the opening."""

    @property
    def waiting_count(self) -> int:
        return len(self.waiting)

    @property
    def serving_numbers(self) -> list[int]:
        """Numbers being called or served, lowest first."""
        return sorted(t.number for t in self.at_counters)

    @property
    def serving_labels(self) -> list[str]:
        """Numbers being called or served as shown (with their prefix), by counter."""
        return [t.label for t in self.at_counters]

    @property
    def called(self) -> list[QueueTicket]:
        return [t for t in self.at_counters if t.status == TicketStatus.CALLED]


@dataclass(frozen=True)
class TicketView:
    """One ticket as its holder sees it."""

    ticket: QueueTicket
    position: int | None
    """1 = next to be called; None once the ticket is no longer waiting."""
    estimated_wait_minutes: int | None
    serving_numbers: list[int]
    serving_labels: list[str]


def _minutes(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 60


def service_minutes_by_procedure(site: Site, procedures: Iterable[Procedure]) -> dict[int, float]:
    """Expected service minutes per procedure id at `site`: plan (`procedures`' own durations,
    as the caller read them with its tickets) blended with recent services."""
    planned = {p.pk: p.duration_minutes for p in procedures}
    since = clock.today() - dt.timedelta(days=OBSERVATION_DAYS)
    finished = (
        QueueTicket.objects.filter(
            site=site,
            procedure_id__in=planned,
            status=TicketStatus.DONE,
            business_day__gte=since,
            served_at__isnull=False,
            finished_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("procedure_id", "served_at", "finished_at")
    )
    observed: dict[int, list[float]] = defaultdict(list)
    for procedure_id, served_at, finished_at in finished[: OBSERVATIONS_PER_PROCEDURE * 10]:
        if served_at and finished_at and len(observed[procedure_id]) < OBSERVATIONS_PER_PROCEDURE:
            observed[procedure_id].append(_minutes(finished_at - served_at))
    return {pk: blended_service_minutes(planned[pk], observed[pk]) for pk in planned}


def _planned_counters(
    site: Site, now: dt.datetime, calendar: SiteCalendar | None = None
) -> tuple[int, float]:
    """Counters the calendar opens now (or at today's next opening) and minutes until open
    (`calendar`: `site`'s, when the caller has read it)."""
    periods = (
        (calendar if calendar is not None else SiteCalendar.load(site)).day(now.date()).periods
    )
    current = [p for p in periods if p.starts_at <= now < p.ends_at]
    if current:
        return max(p.counters for p in current), 0.0
    upcoming = [p for p in periods if p.starts_at > now]
    if upcoming:
        first = upcoming[0]
        return first.counters, _minutes(first.starts_at - now)
    return 0, 0.0


def _active_counters(site: Site) -> list[Counter]:
    """`site`'s counters in use, by name, their skills prefetched (one round of queries)."""
    return list(
        Counter.objects.filter(site=site, is_active=True)
        .prefetch_related("procedures")
        .order_by("name")
    )


@dataclass(frozen=True)
class _AtWork:
    """The counters a replay counts (`_at_work`) and when each frees."""

    counters: list[Counter]
    free_in: dict[Hashable, float]
    skills: dict[int, set[int]]
    busy_remaining: dict[int, float]

    def takes(self, counters: list[Counter], procedure: Procedure) -> frozenset[Hashable]:
        return frozenset(c.pk for c in counters if c.can_serve(procedure, self.skills[c.pk]))


def _at_work(
    *,
    now: dt.datetime,
    at_counters: list[QueueTicket],
    service: dict[int, float],
    planned: tuple[int, float],
    active: list[Counter],
) -> _AtWork:
    """The counters at work (see `_estimate`) with the minutes until each frees."""
    count, minutes_until_open = planned
    opening = max(0.0, minutes_until_open)
    busy_remaining: dict[int, float] = {}
    for ticket in at_counters:
        expected = service[ticket.procedure_id]
        if ticket.status == TicketStatus.SERVING and ticket.served_at is not None:
            expected -= _minutes(now - ticket.served_at)
        if ticket.counter_id is not None:
            busy_remaining[ticket.counter_id] = max(opening, expected)
    skills = {c.pk: {p.pk for p in c.procedures.all()} for c in active}
    ordered = [c for c in active if c.pk in busy_remaining]
    ordered += [c for c in active if c.pk not in busy_remaining]
    counters = ordered[: max(count, len(busy_remaining))] if count else ordered
    free_in: dict[Hashable, float] = {c.pk: busy_remaining.get(c.pk, opening) for c in counters}
    return _AtWork(counters, free_in, skills, busy_remaining)


def _queue_of(
    tickets: list[QueueTicket], work: _AtWork, counters: list[Counter], service: dict[int, float]
) -> list[Waiting]:
    """`tickets` as the replay sees them: service time and the counters that may call each."""
    eligible: dict[int, frozenset[Hashable]] = {}
    queue = []
    for ticket in tickets:
        if ticket.procedure_id not in eligible:
            eligible[ticket.procedure_id] = work.takes(counters, ticket.procedure)
        allowed = eligible[ticket.procedure_id]
        if ticket.transfer_counter_id is not None:
            allowed = allowed & {ticket.transfer_counter_id}
        queue.append(Waiting(service[ticket.procedure_id], allowed))
    return queue


def _estimate(
    *,
    now: dt.datetime,
    procedure: Procedure,
    ahead: list[QueueTicket],
    at_counters: list[QueueTicket],
    service: dict[int, float],
    planned: tuple[int, float],
    active: list[Counter],
    transfer_counter_id: int | None = None,
) -> int:
    """The wait of somebody for `procedure` behind `ahead`, counting only the counters that take
    `procedure` and, ahead, who competes for them (`estimates.wait_minutes_at_counters`).

    The counters at work are the busy ones, then idle active counters by name until the
    calendar's number of counters open is reached (every active counter on a day without
    hours). When none of them takes `procedure`, the site's other counters that do are counted
    (staff would open one); a site without a counter that takes it is estimated as one counter
    for everybody. A transferred visitor waits for their one counter.
    """
    work = _at_work(
        now=now, at_counters=at_counters, service=service, planned=planned, active=active
    )
    counters = work.counters
    free_in = work.free_in
    mine = work.takes(counters, procedure)
    if not mine:
        counters = active
        opening = max(0.0, planned[1])
        free_in = {c.pk: work.busy_remaining.get(c.pk, opening) for c in counters}
        mine = work.takes(counters, procedure)
    if transfer_counter_id is not None and transfer_counter_id in mine:
        mine = frozenset({transfer_counter_id})
    if not mine:
        return wait_minutes(
            counters=max(planned[0], len(at_counters)),
            busy_remaining_minutes=list(work.busy_remaining.values()),
            ahead_service_minutes=[service[t.procedure_id] for t in ahead],
            minutes_until_open=planned[1],
        )
    found = wait_minutes_at_counters(
        free_in_minutes=free_in,
        ahead=_queue_of(ahead, work, counters, service),
        mine=mine,
    )
    assert found is not None  # a counter in `mine` is among them
    return found


def wait_by_ticket(
    *,
    now: dt.datetime,
    waiting: list[QueueTicket],
    at_counters: list[QueueTicket],
    service: dict[int, float],
    planned: tuple[int, float],
    active: list[Counter],
) -> dict[int, int]:
    """Every waiting ticket's `_estimate` (by ticket id), `waiting` being in the calling order:
    one replay of the whole queue (`estimates.waits_at_counters`) instead of one per ticket.

    A ticket the common replay does not describe — no counter at work takes its procedure, or
    it was transferred to a counter not at work — gets its own `_estimate`, so every value is
    the one `_estimate` gives with the tickets before it as `ahead`
    (tests/walkins/test_estimates_all_at_once.py).
    """
    work = _at_work(
        now=now, at_counters=at_counters, service=service, planned=planned, active=active
    )
    queue = _queue_of(waiting, work, work.counters, service)
    found = waits_at_counters(free_in_minutes=work.free_in, queue=queue)
    waits: dict[int, int] = {}
    for index, (ticket, entry, wait) in enumerate(zip(waiting, queue, found, strict=True)):
        mine = work.takes(work.counters, ticket.procedure)
        if ticket.transfer_counter_id is not None and ticket.transfer_counter_id in mine:
            mine = frozenset({ticket.transfer_counter_id})
        if wait is None or not mine or mine != entry.counters:
            wait = _estimate(
                now=now,
                procedure=ticket.procedure,
                ahead=waiting[:index],
                at_counters=at_counters,
                service=service,
                planned=planned,
                active=active,
                transfer_counter_id=ticket.transfer_counter_id,
            )
        waits[ticket.pk] = wait
    return waits


def _today_active(
    site: Site, now: dt.datetime, queue_settings: QueueSettings | None = None
) -> tuple[list[QueueTicket], list[QueueTicket], int]:
    """Waiting tickets in the calling order, tickets at counters (by counter), and the
    site's early window (from `queue_settings` when the caller has read them)."""
    early = (queue_settings or QueueSettings.defaults_for(site)).early_minutes
    tickets = list(
        QueueTicket.objects.filter(
            site=site,
            business_day=now.date(),
            status__in=[TicketStatus.WAITING, *AT_COUNTER_STATUSES],
        )
        .select_related("counter", "procedure")
        .order_by("number")  # the model's order (site, day, number) for one site and day
    )
    waiting = sorted(
        (t for t in tickets if t.status == TicketStatus.WAITING),
        key=lambda t: order_key(t, now=now, early_minutes=early),
    )
    at_counters = sorted(
        (t for t in tickets if t.status != TicketStatus.WAITING),
        key=lambda t: (t.counter.name if t.counter else "", t.pk),
    )
    return waiting, at_counters, early


def counters_with_leftovers(site: Site, state: QueueState) -> list[CounterView]:
    """`state`'s counters for the staff page, each free one showing a visitor left there on an
    earlier day if any (a ticket the nightly `close_queue_days` leaves open — a card pick-up
    served without a recorded hand-over — holds its counter until staff end it). One query;
    the public pages never show such a ticket."""
    leftovers = {
        t.counter_id: t
        for t in QueueTicket.objects.filter(
            site=site,
            business_day__lt=clock.today(),
            status__in=AT_COUNTER_STATUSES,
            counter__isnull=False,
        )
        .select_related("counter", "procedure")
        .order_by("business_day", "number")  # the model's order (site, day, number), one site
    }
    return [
        row
        if row.ticket is not None or row.counter.pk not in leftovers
        else CounterView(counter=row.counter, ticket=leftovers[row.counter.pk])
        for row in state.counters
    ]


def queue_state(
    site: Site,
    *,
    queue_settings: QueueSettings | None = None,
    calendar: SiteCalendar | None = None,
) -> QueueState:
    """`site`'s queue today: who waits, who is at which counter, and the wait for a newcomer.

    The estimate is explained in `walkins.estimates`; the number of counters at work is what the
    calendar opens now (before opening: what it opens first today, counting the minutes until
    then), never fewer than the counters busy, and the site's active counters on a day without
    hours. Runs a fixed number of queries. `queue_settings`: the site's settings
    (`QueueSettings.defaults_for`) and `calendar`: its calendar, when the caller has read them
    already.
    """
    now = clock.now()
    waiting, at_counters, _early = _today_active(site, now, queue_settings)
    procedures = {t.procedure_id: t.procedure for t in waiting + at_counters}
    service = service_minutes_by_procedure(site, procedures.values()) if procedures else {}
    by_counter = {t.counter_id: t for t in at_counters}
    active = _active_counters(site)
    counters = [CounterView(counter=c, ticket=by_counter.get(c.pk)) for c in active]
    planned = _planned_counters(site, now, calendar)
    offered = offered_procedures(site)

    def longest(planned: tuple[int, float]) -> tuple[int, dict[int, int]]:
        by_procedure = {
            p.pk: _estimate(
                now=now,
                procedure=p,
                ahead=waiting,
                at_counters=at_counters,
                service=service,
                planned=planned,
                active=active,
            )
            for p in offered
        }
        if not by_procedure:  # a site offering nothing: every counter for everybody
            return wait_minutes(
                counters=max(planned[0], len(at_counters)),
                busy_remaining_minutes=[],
                ahead_service_minutes=[service[t.procedure_id] for t in waiting],
                minutes_until_open=planned[1],
            ), {}
        return max(by_procedure.values()), by_procedure

    estimate, by_procedure = longest(planned)
    opens_at, after_opening = None, None
    if planned[1] > 0:
        opens_at = now + dt.timedelta(minutes=planned[1])
        after_opening, _ = longest((planned[0], 0.0))
    return QueueState(
        site=site,
        business_day=now.date(),
        waiting=waiting,
        at_counters=at_counters,
        counters=counters,
        estimated_wait_minutes=estimate,
        wait_by_procedure=by_procedure,
        opens_at=opens_at,
        wait_after_opening_minutes=after_opening,
    )


@dataclass(frozen=True)
class Intake:
    """Whether `site` gives out tickets today, and when."""

    site: Site
    state: str
    """"open" (tickets now), "before_open" (tickets now; service from `opens_at`), "ended"
    (today's hours are over) or "closed" (not open today)."""
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    closed_reason: str | None
    periods: tuple[OpenPeriod, ...]

    @property
    def takes_tickets(self) -> bool:
        return self.state in ("open", "before_open")


def intake_today(site: Site, *, calendar: SiteCalendar | None = None) -> Intake:
    """Today's hours at `site` and whether it takes tickets now (the per-procedure check —
    card work ends at 20:00 — stays in `walkins.services.issue_ticket`). `calendar`: `site`'s,
    when the caller has read it."""
    now = clock.now()
    day = (calendar if calendar is not None else SiteCalendar.load(site)).day(now.date())
    if not site.is_active or not day.periods:
        return Intake(site, "closed", None, None, day.closed_reason, day.periods)
    opens_at, closes_at = day.periods[0].starts_at, day.periods[-1].ends_at
    if now >= closes_at:
        state = "ended"
    elif now < opens_at:
        state = "before_open"
    else:
        state = "open"
    return Intake(site, state, opens_at, closes_at, None, day.periods)


def ticket_by_token(token: str) -> QueueTicket | None:
    """The ticket behind a status-page token, or None — with its site's municipality, which its
    site's calendar (the wait's counters) and the pages' links read."""
    return (
        QueueTicket.objects.select_related("site__municipality", "procedure", "counter")
        .filter(token=token)
        .first()
    )


@dataclass(frozen=True)
class QueueSnapshot:
    """A site's queue at one moment: what every ticket's position and wait are computed from
    (`ticket_view`). The phone pages keep one per site for a second (queue_board), so a page
    costs the ticket's own row at most, not the whole queue."""

    site: Site
    waiting: list[QueueTicket]
    at_counters: list[QueueTicket]
    early_minutes: int
    service: dict[int, float]
    planned: tuple[int, float]
    active: list[Counter]
    now: dt.datetime | None = None
    """When it was read (None: count from the moment a wait is asked for)."""

    @functools.cached_property
    def waits(self) -> dict[int, int]:
        """Every waiting ticket's estimated wait (by ticket id), as of `now`: computed once per
        snapshot, on first use (`wait_by_ticket`), so the phones of a site share one replay."""
        return wait_by_ticket(
            now=self.now or clock.now(),
            waiting=self.waiting,
            at_counters=self.at_counters,
            service=self.service,
            planned=self.planned,
            active=self.active,
        )

    def ticket(self, token: str) -> QueueTicket | None:
        """The waiting or called ticket with this token, as it was in the snapshot."""
        for ticket in (*self.at_counters, *self.waiting):
            if ticket.token == token:
                return ticket
        return None


def queue_snapshot(
    site: Site,
    *,
    calendar: SiteCalendar | None = None,
    queue_settings: QueueSettings | None = None,
) -> QueueSnapshot:
    """`site`'s queue now (a fixed number of queries; `calendar`: `site`'s, and
    `queue_settings`: its settings, when the caller has read them — read here otherwise)."""
    now = clock.now()
    waiting, at_counters, early = _today_active(site, now, queue_settings)
    for ticket in (*waiting, *at_counters):
        ticket.site = site  # one site object for all (pages show its name)
    procedures = {t.procedure_id: t.procedure for t in waiting + at_counters}
    return QueueSnapshot(
        site=site,
        waiting=waiting,
        at_counters=at_counters,
        early_minutes=early,
        service=service_minutes_by_procedure(site, procedures.values()) if procedures else {},
        planned=_planned_counters(site, now, calendar),
        active=_active_counters(site),
        now=now,
    )


def ticket_view(
    ticket: QueueTicket,
    snapshot: QueueSnapshot | None = None,
    *,
    calendar: SiteCalendar | None = None,
    queue_settings: QueueSettings | None = None,
) -> TicketView:
    """Where `ticket` stands: its position among those waiting and its estimated wait — from
    `snapshot` (the site's queue a moment ago) when given, else read now (with `calendar`, the
    ticket's site's calendar, and `queue_settings`, its settings, when the caller has read
    them). The ticket itself is taken as given."""
    if ticket.business_day != clock.today():
        return TicketView(ticket, None, None, [], [])
    queue = (
        snapshot
        if snapshot is not None
        else queue_snapshot(ticket.site, calendar=calendar, queue_settings=queue_settings)
    )
    at_counters = queue.at_counters
    serving_numbers = sorted(t.number for t in at_counters)
    serving_labels = [t.label for t in at_counters]
    if ticket.status != TicketStatus.WAITING:
        return TicketView(ticket, None, None, serving_numbers, serving_labels)
    now = clock.now()
    early = queue.early_minutes
    mine = order_key(ticket, now=now, early_minutes=early)
    keys = {t.pk: order_key(t, now=now, early_minutes=early) for t in queue.waiting}
    # in the calling order now (a booked visitor may have become due since the snapshot)
    ahead = sorted(
        (t for t in queue.waiting if t.pk != ticket.pk and keys[t.pk] < mine),
        key=lambda t: keys[t.pk],
    )
    if snapshot is not None and ticket.pk in queue.waits:
        index = next(n for n, t in enumerate(queue.waiting) if t.pk == ticket.pk)
        held = queue.waiting[index]
        if (held.procedure_id, held.transfer_counter_id) == (
            ticket.procedure_id,
            ticket.transfer_counter_id,
        ) and [t.pk for t in queue.waiting[:index]] == [t.pk for t in ahead]:
            # the calling order is still the snapshot's: its wait (≤ a snapshot's age old)
            return TicketView(
                ticket=ticket,
                position=len(ahead) + 1,
                estimated_wait_minutes=queue.waits[ticket.pk],
                serving_numbers=serving_numbers,
                serving_labels=serving_labels,
            )
    service = queue.service
    missing = {
        t.procedure_id: t.procedure for t in ahead + at_counters if t.procedure_id not in service
    }
    if missing:  # a procedure that joined the queue after the snapshot
        service = {**service, **service_minutes_by_procedure(ticket.site, missing.values())}
    estimate = _estimate(
        now=now,
        procedure=ticket.procedure,
        ahead=ahead,
        at_counters=at_counters,
        service=service,
        planned=queue.planned,
        active=queue.active,
        transfer_counter_id=ticket.transfer_counter_id,
    )
    return TicketView(
        ticket=ticket,
        position=len(ahead) + 1,
        estimated_wait_minutes=estimate,
        serving_numbers=serving_numbers,
        serving_labels=serving_labels,
    )
