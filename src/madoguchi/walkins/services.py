"""Every write to the queue: issuing walk-in tickets, checking booked visitors in, calling,
serving, finishing, no-shows, cancelling.

Each function is atomic, checks `TICKET_TRANSITIONS` before changing a status, and writes one
audit event (ARCHITECTURE.md invariant 3). Staff scope (which sites a person may work at) is
checked by the interfaces before they call in here; the services check everything that is about
the queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.errors import DomainError
from madoguchi.core.languages import offered_language
from madoguchi.core.transitions import check_transition, table
from madoguchi.offices.calendar import SiteCalendar, procedure_periods, site_offers
from madoguchi.offices.models import Counter, Procedure, Site
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.reservations.services import (
    check_in_reservation,
    close_checked_in_visit,
    unknown_language,
)
from madoguchi.walkins.calling import call_order
from madoguchi.walkins.models import (
    ACTIVE_STATUSES,
    AT_COUNTER_STATUSES,
    QueueDay,
    QueuePrefix,
    QueueSettings,
    QueueTicket,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)

if TYPE_CHECKING:
    from madoguchi.walkins.selectors import TicketView

TICKET_LABELS = dict(TicketStatus.choices)
"""The states' Japanese names for transition refusals."""

TICKET_TRANSITIONS = table(
    waiting={TicketStatus.CALLED, TicketStatus.CANCELLED},
    called={
        TicketStatus.SERVING,
        TicketStatus.NO_SHOW,
        TicketStatus.CANCELLED,
        TicketStatus.WAITING,
    },
    serving={TicketStatus.DONE, TicketStatus.WAITING},
    done=set(),
    no_show=set(),
    cancelled=set(),
)
"""waiting → called → serving → done; a called visitor who does not come is a no-show; a
ticket can be cancelled until service starts; a visitor transferred to another counter or
procedure goes back to waiting, keeping their place (called/serving → waiting)."""

APPOINTMENT_TICKET_TRANSITIONS = {
    **TICKET_TRANSITIONS,
    TicketStatus.CALLED: TICKET_TRANSITIONS[TicketStatus.CALLED] | {TicketStatus.DONE},
}
"""A booked visitor's ticket may also go called → done: their visit closed at the counter (the
hand-over, a finished renewal) without pressing 対応開始 first."""

VISIT_OUTCOMES = {
    TicketStatus.DONE: ReservationStatus.SERVED,
    TicketStatus.NO_SHOW: ReservationStatus.NO_SHOW,
    TicketStatus.CANCELLED: ReservationStatus.CANCELLED,
}
"""One visit: how a booked visitor's reservation ends when their ticket ends."""

SUBJECT_TYPE = "walkins.QueueTicket"


def _audit_state(ticket: QueueTicket) -> dict[str, object]:
    # Never the token: it is the bearer secret of the ticket's public status page.
    return {
        "site": ticket.site_id,
        "business_day": ticket.business_day.isoformat(),
        "number": ticket.label,
        "procedure": ticket.procedure_id,
        "status": ticket.status,
        "counter": ticket.counter_id,
        "priority": ticket.priority,
        "transfer_counter": ticket.transfer_counter_id,
        "recall_count": ticket.recall_count,
    }


def allocate_ticket_number(*, site: Site, business_day: dt.date, prefix: str = "") -> int:
    """The next number of `site`'s sequence for `prefix` on `business_day`: 1, 2, 3, … without
    gaps (each prefix — A, B, … or none — is its own sequence).

    One conditional UPDATE increments the day's counter row; on PostgreSQL the row lock it takes
    is held until the issuing transaction ends, so a concurrent issuer waits and then reads the
    incremented value (SQLite's IMMEDIATE transactions admit one writer anyway). The first
    ticket of the day creates the row; a concurrent creator loses on the unique constraint and
    falls back to the UPDATE. Must run inside a transaction.
    """
    day_rows = QueueDay.objects.filter(site=site, business_day=business_day, prefix=prefix)
    if not day_rows.update(last_number=F("last_number") + 1):
        try:
            with transaction.atomic():
                QueueDay.objects.create(
                    site=site, business_day=business_day, prefix=prefix, last_number=1
                )
            return 1
        except IntegrityError:
            day_rows.update(last_number=F("last_number") + 1)
    return day_rows.values_list("last_number", flat=True).get()


def _ensure_open_for(
    site: Site, procedure: Procedure, calendar: SiteCalendar | None = None
) -> SiteCalendar:
    """`site`'s calendar (`calendar` when the caller has read it, else read here), checked to
    take `procedure`'s tickets now (for the new ticket's wait: `_new_ticket`)."""
    if not site.is_active or not site_offers(site, procedure):
        raise DomainError(
            "procedure_not_offered",
            _("%(site)sでは「%(procedure)s」の受付をしていません。")
            % {"site": site.localized("name"), "procedure": procedure.localized("name")},
            status=422,
        )
    now = clock.now()
    if calendar is None:
        calendar = SiteCalendar.load(site)
    periods = procedure_periods(calendar, procedure, now.date())
    if not periods or now >= periods[-1].ends_at:
        raise DomainError(
            "site_closed",
            _("%(site)sの本日の受付は終了しているか、本日は受付をしていません。")
            % {"site": site.localized("name")},
            status=409,
        )
    return calendar


def prefix_for(site: Site, procedure: Procedure) -> str:
    """The letter `procedure`'s numbers carry at `site` ("" when none is configured)."""
    found = QueuePrefix.objects.filter(site=site, procedure=procedure).values_list(
        "prefix", flat=True
    )
    return next(iter(found), "")


def _new_ticket(
    *,
    site: Site,
    procedure: Procedure,
    actor: Actor,
    channel: str,
    reservation: Reservation | None = None,
    language: str = "",
    calendar: SiteCalendar | None = None,
) -> TicketView:
    """The next number of `site`'s queue today, waiting, with the wait estimate it was given
    (from `calendar`, `site`'s calendar when the caller has read it, else read here), and its
    place as that estimate saw it.

    A booked visitor's ticket is an appointment (called at their time) unless they checked in
    later than the site's late grace: then they join the walk-in order."""
    from madoguchi.walkins.selectors import ticket_view  # selectors read what services write

    now = clock.now()
    business_day = now.date()
    prefix = prefix_for(site, procedure)
    priority = TicketPriority.WALK_IN
    appointment_at = None
    queue_settings = None  # read once, for the late grace and the new ticket's wait
    if reservation is not None:
        appointment_at = reservation.slot.starts_at
        queue_settings = QueueSettings.defaults_for(site)
        grace = dt.timedelta(minutes=queue_settings.late_grace_minutes)
        if now <= appointment_at + grace:
            priority = TicketPriority.APPOINTMENT
    ticket = QueueTicket.objects.create(
        site=site,
        procedure=procedure,
        business_day=business_day,
        prefix=prefix,
        number=allocate_ticket_number(site=site, business_day=business_day, prefix=prefix),
        status=TicketStatus.WAITING,
        priority=priority,
        reservation=reservation,
        appointment_at=appointment_at,
        channel=channel,
        issued_at=now,
        language=language,
    )
    view = ticket_view(ticket, calendar=calendar, queue_settings=queue_settings)
    ticket.estimated_wait_minutes = view.estimated_wait_minutes
    ticket.save(update_fields=["estimated_wait_minutes"])
    after = _audit_state(ticket)
    after["channel"] = channel
    after["language"] = language
    after["estimated_wait_minutes"] = ticket.estimated_wait_minutes
    if reservation is not None:
        after["reservation"] = reservation.code
    record_audit_event(
        actor=actor,
        action="ticket.issued",
        subject_type=SUBJECT_TYPE,
        subject_id=ticket.pk,
        before=None,
        after=after,
    )
    return view


def issue_ticket(
    *,
    site: Site,
    procedure: Procedure,
    actor: Actor,
    channel: str = TicketChannel.PHONE,
    language: str = "",
    calendar: SiteCalendar | None = None,
) -> QueueTicket:
    """The new ticket of `issue_ticket_seen` (see there)."""
    return issue_ticket_seen(
        site=site,
        procedure=procedure,
        actor=actor,
        channel=channel,
        language=language,
        calendar=calendar,
    ).ticket


@transaction.atomic
def issue_ticket_seen(
    *,
    site: Site,
    procedure: Procedure,
    actor: Actor,
    channel: str = TicketChannel.PHONE,
    language: str = "",
    calendar: SiteCalendar | None = None,
) -> TicketView:
    """Give a walk-in visitor the next number of `site`'s queue today (of the procedure's
    prefix group), issued on a phone, at the kiosk or by staff (`channel`).

    `calendar`: `site`'s calendar when the caller has read it for the same request (a ticket
    page shows the day's hours and waits from it); read here otherwise.

    `language` is the language the ticket was taken in (a code of `settings.LANGUAGES`): its
    page and its status in the API answer in it. Empty — a ticket issued at the counter — leaves
    the page to the language of the phone that opens it.

    Tickets can be taken on a day the site offers `procedure`, from the morning until the end of
    the day's last opening period. Raises DomainError `invalid_language` (422) before anything
    else, `procedure_not_offered` (422) or `site_closed` (409). Returns the new waiting ticket
    as its holder sees it (`walkins.selectors.TicketView`): its place and the wait it was given,
    from the queue read in this transaction with the ticket in it — what an answer showing them
    at once (the API's) tells without reading the queue again.
    """
    offered = offered_language(language) if language else ""
    if offered is None:
        raise unknown_language()
    calendar = _ensure_open_for(site, procedure, calendar)
    return _new_ticket(
        site=site,
        procedure=procedure,
        actor=actor,
        channel=channel,
        language=offered,
        calendar=calendar,
    )


@transaction.atomic
def check_in_booked_visitor(*, code: str, actor: Actor) -> QueueTicket:
    """A booked visitor has arrived: check the reservation in and give them a queue ticket.

    The reservation moves booked → checked_in (`reservations.services.check_in_reservation`,
    on the slot's day only) and the visitor gets the next number of the slot's site today,
    marked as an appointment: `call_next_ticket` calls them at their time before the walk-ins
    (`walkins.calling`; after the late grace they join the walk-in order). Both happen or
    neither. Raises what `check_in_reservation` raises (404 `not_found`, 409
    `invalid_transition` — e.g. already checked in —, 409 `not_today`).
    """
    reservation = check_in_reservation(code=code, actor=actor)
    return _new_ticket(
        site=reservation.slot.site,
        procedure=reservation.procedure,
        actor=actor,
        channel=TicketChannel.CHECK_IN,
        reservation=reservation,
        language=reservation.language,
    ).ticket


def _locking() -> QuerySet[QueueTicket]:
    """Tickets read locked — only their own rows (`of`) — with their booking's row, whose code a
    visit's end closes it by (`_move_locked`): read with the ticket, not again by id."""
    return QueueTicket.objects.select_related("reservation").select_for_update(of=("self",))


def _locked(ticket: QueueTicket) -> QueueTicket:
    """`ticket` read again and locked (`_locking`)."""
    return _locking().get(pk=ticket.pk)


def lock_visit_ticket(reservation: Reservation) -> QueueTicket | None:
    """A booked visitor's ticket (None without one), read and locked as `_locked` locks one:
    for a visit's end that checks it and then moves it as read (`already_locked`)."""
    return _locking().filter(reservation=reservation).first()


def _move(
    ticket: QueueTicket, target: TicketStatus, *, actor: Actor, action: str, **changes: object
) -> QueueTicket:
    """Lock, check the transition, apply, audit (`_move_locked`)."""
    return _move_locked(_locked(ticket), target, actor=actor, action=action, **changes)


def _move_locked(
    locked: QueueTicket, target: TicketStatus, *, actor: Actor, action: str, **changes: object
) -> QueueTicket:
    """Check the transition, apply, audit — `locked` read by `_locked` in this transaction. The
    only place a ticket's status is assigned.

    A booked visitor's ticket ends their visit too (one visit): the reservation is closed in
    the same transaction through `close_checked_in_visit` (its own single audit event), so the
    ticket is never done while the booking stays 受付済み, nor the other way round.
    """
    transitions = (
        TICKET_TRANSITIONS if locked.reservation_id is None else APPOINTMENT_TICKET_TRANSITIONS
    )
    check_transition(
        transitions, locked.status, target, what=gettext_noop("整理券"), labels=TICKET_LABELS
    )
    before = _audit_state(locked)
    locked.status = target
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.save(update_fields=["status", *changes])
    record_audit_event(
        actor=actor,
        action=action,
        subject_type=SUBJECT_TYPE,
        subject_id=locked.pk,
        before=before,
        after=_audit_state(locked),
    )
    if target in VISIT_OUTCOMES and locked.reservation is not None:
        close_checked_in_visit(
            code=locked.reservation.code, target=VISIT_OUTCOMES[target], actor=actor
        )
    return locked


def _counter_procedures(site: Site, counter: Counter) -> list[int]:
    """Ids of the procedures `counter` takes (its skills, among those `site` offers)."""
    skills = {p.pk for p in counter.procedures.all()}
    return [p.pk for p in site.procedures.all() if counter.can_serve(p, skills)]


@transaction.atomic
def call_next_ticket(*, site: Site, counter: Counter, actor: Actor) -> QueueTicket | None:
    """Call the next visitor of `site`'s queue today to `counter`.

    The order is `walkins.calling`'s (a visitor transferred to this counter, booked visitors at
    their time, walk-ins by the time they took their ticket, early booked visitors), among the
    procedures this counter takes (`Counter.can_serve`: card work only where a terminal is).
    Two counters calling at once never get the same ticket: the ticket row is locked
    (`SKIP LOCKED` on PostgreSQL) and moved with the transition check; one counter calling
    twice at once calls one visitor (the counter's row is locked first, `_hold_counter`).
    Returns the called ticket, or None when nobody is waiting for this counter. Raises
    DomainError `counter_not_at_site` (422) or `counter_busy` (409, the counter still has a
    visitor today).
    """
    if counter.site_id != site.pk or not counter.is_active:
        raise DomainError(
            "counter_not_at_site", _("この窓口（受付台）はこの庁舎で使われていません。"), status=422
        )
    _hold_counter(counter)
    now = clock.now()
    # A visitor left at this counter on an earlier day is on no page of today: ended here as
    # the nightly `close_queue_days` would end them (it may not have run yet), so they do not
    # hold the counter up.
    close_past_queue_days(before=now.date(), actor=actor, counter=counter)
    if QueueTicket.objects.filter(counter=counter, status__in=AT_COUNTER_STATUSES).exists():
        raise DomainError(
            "counter_busy",
            _("%(counter)sには対応中の方がいます。終了してから次の方を呼んでください。")
            % {"counter": counter.name},
            status=409,
        )
    waiting = QueueTicket.objects.filter(
        Q(transfer_counter__isnull=True) | Q(transfer_counter=counter),
        site=site,
        business_day=now.date(),
        status=TicketStatus.WAITING,
        procedure_id__in=_counter_procedures(site, counter),
    )
    ordered = call_order(
        waiting,
        now=now,
        early_minutes=QueueSettings.defaults_for(site).early_minutes,
        counter=counter,
    )
    # the next ticket's row, locked (as `_locked` reads one): the transition is applied to it
    candidate = ordered.select_for_update(skip_locked=True, of=("self",)).first()
    if candidate is None:
        return None
    return _move_locked(
        candidate,
        TicketStatus.CALLED,
        actor=actor,
        action="ticket.called",
        counter=counter,
        transfer_counter=None,
        called_at=candidate.called_at or now,
        recalled_at=None,
        recall_count=0,
    )


def _hold_counter(counter: Counter) -> None:
    """Lock `counter`'s row until the call commits: two clerks at one counter (or one clerk's
    double click) calling at once are taken one after the other, so the second finds the
    counter busy instead of calling a second visitor to it. A module-level seam: the negative
    control in tests/walkins/test_one_counter_concurrency.py replaces it."""
    Counter.objects.select_for_update().filter(pk=counter.pk).first()


def _finished(ticket: QueueTicket, message: str) -> DomainError:
    return DomainError("ticket_finished", message % {"number": ticket.label}, status=409)


@transaction.atomic
def recall_ticket(*, ticket: QueueTicket, actor: Actor) -> QueueTicket:
    """Call a called visitor again (再呼出): the display shows the number as new once more.

    After the site's `recalls_before_no_show` recalls, the next recall marks the ticket a no-show
    instead (`mark_ticket_no_show`) and frees the counter. Raises DomainError `ticket_finished`
    (409) for a ticket that has ended and `not_called` (409) for one that is not being called;
    nothing changes then.
    """
    locked = _locked(ticket)
    if locked.status not in ACTIVE_STATUSES:
        raise _finished(locked, _("%(number)s番はすでに終了しているため、再呼出できません。"))
    if locked.status != TicketStatus.CALLED:
        raise DomainError(
            "not_called",
            _("%(number)s番はお呼び出し中ではないため、再呼出できません。")
            % {"number": locked.label},
            status=409,
        )
    limit = QueueSettings.defaults_for(locked.site).recalls_before_no_show
    if locked.recall_count >= limit:
        return mark_ticket_no_show(ticket=locked, actor=actor)
    before = _audit_state(locked)
    locked.recall_count += 1
    locked.recalled_at = clock.now()
    locked.save(update_fields=["recall_count", "recalled_at"])
    record_audit_event(
        actor=actor,
        action="ticket.recalled",
        subject_type=SUBJECT_TYPE,
        subject_id=locked.pk,
        before=before,
        after=_audit_state(locked),
    )
    return locked


@transaction.atomic
def transfer_ticket(
    *,
    ticket: QueueTicket,
    actor: Actor,
    counter: Counter | None = None,
    procedure: Procedure | None = None,
) -> QueueTicket:
    """Send a visitor to another counter and/or procedure, keeping their place in the queue.

    The ticket keeps its number and the time it was issued (its place in `walkins.calling`'s
    order); a visitor at a counter goes back to waiting (called/serving → waiting). With a
    `counter`, only that counter calls them, and before anyone else. Raises DomainError
    `ticket_finished` (409) for a ticket that has ended, `procedure_not_offered` (422),
    `counter_not_at_site` (422), `counter_cannot_serve` (422) or `nothing_to_transfer` (422);
    nothing changes then.
    """
    locked = _locked(ticket)
    if locked.status not in ACTIVE_STATUSES:
        raise _finished(locked, _("%(number)s番はすでに終了しているため、回付できません。"))
    site = locked.site
    target_procedure = procedure or locked.procedure
    if procedure is not None and not site_offers(site, procedure):
        raise DomainError(
            "procedure_not_offered",
            _("%(site)sでは「%(procedure)s」の受付をしていません。")
            % {"site": site.localized("name"), "procedure": procedure.localized("name")},
            status=422,
        )
    if counter is not None:
        if counter.site_id != site.pk or not counter.is_active:
            raise DomainError(
                "counter_not_at_site",
                _("この窓口（受付台）はこの庁舎で使われていません。"),
                status=422,
            )
        if not counter.can_serve(target_procedure):
            raise DomainError(
                "counter_cannot_serve",
                _("%(counter)sでは「%(procedure)s」を扱いません。")
                % {"counter": counter.name, "procedure": target_procedure.name},
                status=422,
            )
    same_counter = counter is None or counter.pk == locked.counter_id
    if procedure in (None, locked.procedure) and same_counter and locked.transfer_counter is None:
        raise DomainError(
            "nothing_to_transfer",
            _("回付先の窓口か手続きを、今と違うものにしてください。"),
            status=422,
        )
    before = _audit_state(locked)
    if locked.status != TicketStatus.WAITING:
        check_transition(
            TICKET_TRANSITIONS,
            locked.status,
            TicketStatus.WAITING,
            what=gettext_noop("整理券"),
            labels=TICKET_LABELS,
        )
        locked.status = TicketStatus.WAITING
    locked.counter = None
    locked.procedure = target_procedure
    locked.transfer_counter = counter
    locked.recall_count = 0
    locked.recalled_at = None
    locked.save(
        update_fields=[
            "status",
            "counter",
            "procedure",
            "transfer_counter",
            "recall_count",
            "recalled_at",
        ]
    )
    record_audit_event(
        actor=actor,
        action="ticket.transferred",
        subject_type=SUBJECT_TYPE,
        subject_id=locked.pk,
        before=before,
        after=_audit_state(locked),
    )
    return locked


@transaction.atomic
def start_serving(*, ticket: QueueTicket, actor: Actor) -> QueueTicket:
    """The called visitor has arrived at the counter: service starts now.

    Raises DomainError `invalid_transition` (409) unless the ticket is called.
    """
    locked = _locked(ticket)
    return _move_locked(
        locked,
        TicketStatus.SERVING,
        actor=actor,
        action="ticket.serving",
        # A transferred visitor's service started at the first counter.
        served_at=locked.served_at or clock.now(),
    )


@transaction.atomic
def finish_ticket(
    *, ticket: QueueTicket, actor: Actor, already_locked: bool = False
) -> QueueTicket:
    """Service is over; the counter is free for the next visitor.

    Its duration (served_at → finished_at) feeds the wait estimates. A booked visitor's
    ticket may be finished straight from the call (their visit closed at the counter); service
    then counts from the call. A booked visitor's reservation is served with it — a card
    pick-up only after the hand-over (`walkins.visits.hand_over_card_at_visit`). Raises
    DomainError `invalid_transition` (409) unless the ticket is being served (or is a booked
    visitor's, called), `card_not_handed_over` (409). `already_locked`: `ticket` was read by
    `lock_visit_ticket` in this transaction.
    """
    locked = ticket if already_locked else _locked(ticket)
    now = clock.now()
    return _move_locked(
        locked,
        TicketStatus.DONE,
        actor=actor,
        action="ticket.done",
        finished_at=now,
        served_at=locked.served_at or locked.called_at or now,
    )


@transaction.atomic
def mark_ticket_no_show(
    *, ticket: QueueTicket, actor: Actor, already_locked: bool = False
) -> QueueTicket:
    """The called visitor did not come to the counter; the counter is free again.

    Raises DomainError `invalid_transition` (409) unless the ticket is called.
    `already_locked`: `ticket` was read by `lock_visit_ticket` in this transaction.
    """
    return _move_locked(
        ticket if already_locked else _locked(ticket),
        TicketStatus.NO_SHOW,
        actor=actor,
        action="ticket.no_show",
        finished_at=clock.now(),
    )


@transaction.atomic
def cancel_ticket(*, ticket: QueueTicket, actor: Actor) -> QueueTicket:
    """The visitor gives up their place (or staff cancel it) before service starts.

    Raises DomainError `invalid_transition` (409) once service has started or the ticket ended,
    in the holder's words: 「すでに取り消されています」 for a second cancellation (a second tap,
    the back button), else the status that keeps it — not the status table's 「「取消」にはできま
    せん」.
    """
    try:
        return _move(
            ticket,
            TicketStatus.CANCELLED,
            actor=actor,
            action="ticket.cancelled",
            finished_at=clock.now(),
        )
    except DomainError as refused:
        if refused.code != "invalid_transition":
            raise
        ticket.refresh_from_db(fields=["status"])
        if ticket.status == TicketStatus.CANCELLED:
            message = _("この整理券はすでに取り消されています。")
        else:
            message = _("この整理券は「%(status)s」のため、取り消せません。") % {
                "status": ticket.get_status_display()
            }
        raise DomainError(refused.code, message, status=refused.status) from refused


def close_past_queue_days(
    *, before: dt.date, actor: Actor, counter: Counter | None = None
) -> dict[str, int]:
    """End every ticket left open on a business day before `before` (the nightly clean-up; with
    `counter`, only the tickets at that counter — before it calls the next visitor).

    Waiting tickets are cancelled, called ones become no-shows, one still being served is
    finished — each through its own service, so each change is checked and audited; a booked
    visitor's reservation ends with their ticket (one visit). A card pick-up still being served
    without a recorded hand-over is left open for staff (counted as `left_open`). Returns
    counts by the status set. Idempotent: a second run finds nothing open.
    """
    counts = {TicketStatus.CANCELLED: 0, TicketStatus.NO_SHOW: 0, TicketStatus.DONE: 0}
    left_open = 0
    open_tickets = QueueTicket.objects.filter(
        business_day__lt=before,
        status__in=(TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING),
    ).order_by("pk")
    if counter is not None:
        open_tickets = open_tickets.filter(counter=counter)
    for ticket in open_tickets:
        if ticket.status == TicketStatus.WAITING:
            cancel_ticket(ticket=ticket, actor=actor)
            counts[TicketStatus.CANCELLED] += 1
        elif ticket.status == TicketStatus.CALLED:
            mark_ticket_no_show(ticket=ticket, actor=actor)
            counts[TicketStatus.NO_SHOW] += 1
        else:
            try:
                finish_ticket(ticket=ticket, actor=actor)
            except DomainError:  # a card pick-up whose hand-over was never recorded
                left_open += 1
                continue
            counts[TicketStatus.DONE] += 1
    return {str(status): count for status, count in counts.items()} | (
        {"left_open": left_open} if left_open else {}
    )


@dataclass(frozen=True)
class AdoptedDuration:
    procedure: Procedure
    before: int
    after: int
    samples: int


@transaction.atomic
def adopt_observed_service_times(
    *, sites: Sequence[Site], first: dt.date, last: dt.date, actor: Actor
) -> list[AdoptedDuration]:
    """Make the service times observed at `sites` from `first` to `last` the planning
    assumption (`Procedure.duration_minutes`, used by slots, forecasts and wait estimates).

    Only procedures with at least `statistics.MIN_SAMPLES_TO_ADOPT` finished services count;
    the mean is rounded to whole minutes (1–240). One audit event per procedure changed.
    Raises DomainError `not_enough_observations` (422) when no procedure qualifies; nothing
    changes then. Returns what changed (a procedure already at its observed time is left).
    """
    from madoguchi.walkins.statistics import MIN_SAMPLES_TO_ADOPT, queue_report

    report = queue_report(sites, first, last)
    qualified = {
        pk: summary
        for pk, (_name, summary) in report.by_procedure.items()
        if len(summary.services) >= MIN_SAMPLES_TO_ADOPT and summary.service_mean is not None
    }
    if not qualified:
        raise DomainError(
            "not_enough_observations",
            _("対応時間の実績が足りません（手続きごとに%(n)s件以上の完了が必要です）。")
            % {"n": MIN_SAMPLES_TO_ADOPT},
            status=422,
        )
    changed = []
    for procedure in Procedure.objects.select_for_update().filter(pk__in=qualified).order_by("pk"):
        summary = qualified[procedure.pk]
        assert summary.service_mean is not None
        observed = min(240, max(1, round(summary.service_mean)))
        if observed == procedure.duration_minutes:
            continue
        before = procedure.duration_minutes
        procedure.duration_minutes = observed
        procedure.save(update_fields=["duration_minutes"])
        record_audit_event(
            actor=actor,
            action="procedure.duration_adopted",
            subject_type="offices.Procedure",
            subject_id=procedure.pk,
            before={"duration_minutes": before},
            after={
                "duration_minutes": observed,
                "observed_mean_minutes": round(summary.service_mean, 2),
                "samples": len(summary.services),
                "sites": sorted(s.pk for s in sites),
                "first": first.isoformat(),
                "last": last.isoformat(),
            },
        )
        changed.append(AdoptedDuration(procedure, before, observed, len(summary.services)))
    return changed
