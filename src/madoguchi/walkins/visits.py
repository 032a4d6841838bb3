"""One visit: a booked visitor's reservation and queue ticket end together.

A booked visitor who checks in gets a queue ticket (`services.check_in_booked_visitor`); from
then on the visit ends through the ticket, whichever screen starts it:

| the counter does              | reservation          | ticket                | card            |
|-------------------------------|----------------------|-----------------------|-----------------|
| hands the card over           | checked_in → served  | called/serving → done | → handed_over   |
| finishes a renewal            | checked_in → served  | called/serving → done | —               |
| marks the called visitor 不在 | checked_in → no_show | called → no_show      | back to bookable|
| cancels the ticket            | checked_in → cancelled | → cancelled         | back to bookable|

`services._move` closes the reservation whenever a booked visitor's ticket ends, in the same
transaction (the calling page, the resident's own cancel and the nightly clean-up go through it
too); the functions here are the entry points for screens that start from the reservation
(the day view) and the hand-over, which also moves the card. Each record changes once and
writes one audit event. A visit is closed at a counter, so the visitor's ticket must have been
called: a waiting ticket is refused with a message, nothing changes.

The ticket and the card are read once each, locked, and moved as read (`already_locked`): the
ticket first, then the card, then the booking (closed through the ticket) — every visit's end
starts at the ticket's row (the calling page's no-show takes ticket, booking, card), so two
ends of one visit queue there instead of holding one row each and waiting for the other's.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.issuance.selectors import lock_card_by_reservation
from madoguchi.issuance.services import HandOverChecks, hand_over_card
from madoguchi.offices.models import ProcedureCode
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.reservations.selectors import not_found
from madoguchi.reservations.services import mark_no_show, mark_served
from madoguchi.staff import access
from madoguchi.staff.models import StaffUser
from madoguchi.walkins.models import AT_COUNTER_STATUSES, QueueTicket, TicketStatus
from madoguchi.walkins.services import finish_ticket, lock_visit_ticket, mark_ticket_no_show


def _reservation(code: str) -> Reservation:
    reservation = (
        Reservation.objects.select_related("procedure", "slot__site__municipality")
        .filter(code=code)
        .first()
    )
    if reservation is None:
        raise not_found()
    return reservation


def _ticket_at_counter(reservation: Reservation) -> QueueTicket | None:
    """The visitor's ticket, which must be at a counter (called or being served); None for a
    visit checked in without a ticket (before tickets existed). Read once, locked
    (`lock_visit_ticket`): the visit's end moves it as read (`already_locked`)."""
    ticket = lock_visit_ticket(reservation)
    if ticket is None or ticket.status in AT_COUNTER_STATUSES:
        return ticket
    if ticket.status == TicketStatus.WAITING:
        raise DomainError(
            "not_called",
            _(
                "受付番号 %(number)s の方はまだお呼びしていません。呼び出しの画面で窓口に"
                "お呼びしてから手続きしてください。"
            )
            % {"number": ticket.label},
            status=409,
        )
    raise DomainError(
        "ticket_finished",
        _("受付番号 %(number)s の整理券はすでに終了しています。") % {"number": ticket.label},
        status=409,
    )


def _checked_in(reservation: Reservation) -> None:
    if reservation.status != ReservationStatus.CHECKED_IN:
        raise DomainError(
            "not_checked_in",
            _("この手続きができるのは、受付済みの予約だけです。先に「受付」をしてください。"),
            status=409,
        )


@transaction.atomic
def hand_over_card_at_visit(
    *, code: str, actor: Actor, staff_user: StaffUser, checks: HandOverChecks
) -> None:
    """The booked card is handed over at the counter: the card → handed_over (with its
    `CardHandOver` record), the ticket → done and the reservation → served, all or nothing.
    The whole hand-over: the counter's screen only parses the form and calls this.

    Raises DomainError 404 `not_found`; first of all 403 `official_required` where the
    municipality keeps the judgements this hand-over involves (with a proxy, also the proxy's
    eligibility) with its officials and `staff_user` is not one (`access.official_step_refusal`);
    then 409 `not_card_pickup`, `not_checked_in`, `not_called` (the ticket still waits),
    `ticket_finished`, `no_card`; and whatever `issuance.services.hand_over_card` refuses
    (422 `hand_over_checks` …).
    """
    reservation = _reservation(code)
    kept = access.official_step_refusal(
        staff_user,
        reservation.slot.site.municipality,
        access.hand_over_steps(is_proxy=checks.is_proxy),
    )
    if kept:
        raise DomainError("official_required", kept, status=403)
    if reservation.procedure.code != ProcedureCode.CARD_PICKUP:
        raise DomainError(
            "not_card_pickup", _("この予約はカードの受け取りではありません。"), status=409
        )
    _checked_in(reservation)
    ticket = _ticket_at_counter(reservation)
    card = lock_card_by_reservation(reservation.code)
    if card is None:
        raise DomainError(
            "no_card",
            _("この予約に結びついた交付待ちのカードが見つかりません。"),
            status=409,
        )
    hand_over_card(
        card=card,
        actor=actor,
        staff_user=staff_user,
        is_proxy=checks.is_proxy,
        id_document_class=checks.id_document_class,
        proxy_reason=checks.proxy_reason,
        checks=checks,
        reservation_code=reservation.code,
        already_locked=True,
    )
    _finish(reservation, ticket, actor=actor)


@transaction.atomic
def serve_visit(*, code: str, actor: Actor) -> None:
    """The visit is done (e.g. the e-certificates renewed): ticket → done, reservation → served.

    A card pick-up ends only with `hand_over_card_at_visit` (409 `card_not_handed_over`).
    Raises 404 `not_found`, 409 `not_checked_in`, `not_called`, `ticket_finished`.
    """
    reservation = _reservation(code)
    _checked_in(reservation)
    _finish(reservation, _ticket_at_counter(reservation), actor=actor)


def _finish(reservation: Reservation, ticket: QueueTicket | None, *, actor: Actor) -> None:
    """Served: through the ticket (which closes the booking, `services._move_locked`), or the
    booking alone when the visit has no ticket. Nothing is read back: the screens only say it
    is done."""
    if ticket is None:
        mark_served(code=reservation.code, actor=actor)
    else:
        finish_ticket(ticket=ticket, actor=actor, already_locked=True)


@transaction.atomic
def no_show_visit(*, code: str, actor: Actor) -> None:
    """The visitor did not come: a booked reservation → no_show (once its time has begun); a
    checked-in visitor who did not come when called → no_show with their ticket.

    Raises 404 `not_found`, 409 `too_early`, `invalid_transition`, `not_called` (a checked-in
    visitor still waiting has not been called yet), `ticket_finished`.
    """
    reservation = _reservation(code)
    if reservation.status != ReservationStatus.CHECKED_IN:
        mark_no_show(code=code, actor=actor)
        return
    ticket = _ticket_at_counter(reservation)
    if ticket is None:
        mark_no_show(code=code, actor=actor)
        return
    if ticket.status != TicketStatus.CALLED:
        raise DomainError(
            "being_served",
            _("受付番号 %(number)s の方は対応中です。") % {"number": ticket.label},
            status=409,
        )
    mark_ticket_no_show(ticket=ticket, actor=actor, already_locked=True)
