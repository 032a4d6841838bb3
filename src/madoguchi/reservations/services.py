"""Every write to reservations: booking, cancelling, rescheduling, check-in, served, no-show.

Each service is atomic, checks `RESERVATION_TRANSITIONS`, and records an audit event
(ARCHITECTURE.md invariant 3). Seats are claimed with one conditional UPDATE (`… WHERE booked + n
<= capacity`) inside the booking transaction, backed by CHECK constraints on the slot (invariant
1).

`Slot.booked` counts the slot's reservations that are not cancelled (booked, checked in, served,
no-show): only a cancellation or a reschedule gives a seat back.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from madoguchi.core import clock
from madoguchi.core.audit import Actor, PendingEvent, record_audit_event, record_audit_events
from madoguchi.core.errors import DomainError
from madoguchi.core.languages import offered_language
from madoguchi.core.transitions import check_transition, table
from madoguchi.issuance.booking_refusals import card_not_bookable, card_past_booking
from madoguchi.issuance.models import CardRecord
from madoguchi.issuance.selectors import (
    card_by_reservation,
    cards_past_booking,
    lock_card_by_reservation,
    lock_cards_for_booking,
)
from madoguchi.issuance.services import (
    READY_FOR_BOOKING,
    mark_card_booked,
    mark_card_unbooked,
)
from madoguchi.offices.models import Municipality, Procedure, ProcedureCode, Site
from madoguchi.reservations import fastpath, mail, normalize, notify
from madoguchi.reservations.models import (
    ACTIVE_STATUSES,
    Channel,
    Reservation,
    ReservationStatus,
    Slot,
)
from madoguchi.reservations.selectors import (
    nearest_free_slots,
    not_found,
    slot_for_booking,
    with_live_seats,
)

S = ReservationStatus
RESERVATION_TRANSITIONS = table(
    booked={S.CHECKED_IN, S.CANCELLED, S.NO_SHOW},
    checked_in={S.SERVED, S.NO_SHOW},
)
"""booked → checked_in → served | no_show; booked → cancelled | no_show (reschedule: booked)."""

MAX_GROUP_SIZE = 6
STAFF_CHANNELS = (Channel.PHONE, Channel.COUNTER)

WHAT = gettext_noop("予約")
RESERVATION_LABELS = dict(ReservationStatus.choices)
"""The states' Japanese names: what a transition refusal says (never `cancelled`)."""


class SlotFullError(DomainError):
    """409 `slot_full`, carrying the nearest free slots to offer instead."""

    def __init__(self, alternatives: list[Slot]) -> None:
        super().__init__(
            "slot_full",
            _(
                "申し訳ありません。この時間の予約枠はいっぱいです。"
                "近い時間の空いている枠からお選びください。"
            ),
            status=409,
        )
        self.alternatives = alternatives


@dataclass(frozen=True)
class Applicant:
    """One person in a booking, as typed (services normalise it)."""

    birth_date: dt.date
    notice_number: str = ""
    family_name_kana: str = ""
    given_name_kana: str = ""
    email: str = ""
    phone: str = ""
    is_proxy: bool = False


# --- helpers ----------------------------------------------------------------------------------


def new_reservation_code() -> str:
    """10 characters from a 26-symbol alphabet without look-alikes (~47 bits): unguessable,
    and never 12 digits (it holds at most 10 characters)."""
    alphabet = normalize.CODE_ALPHABET
    number = secrets.randbelow(len(alphabet) ** 10)  # one OS draw (seldom two), not ten
    symbols = []
    for _position in range(10):
        number, digit = divmod(number, len(alphabet))
        symbols.append(alphabet[digit])
    return "".join(symbols)


def _days_ahead(slot: Slot) -> int:
    return (clock.to_jst(slot.starts_at).date() - clock.today()).days


def _check_window(slot: Slot, *, channel: str) -> None:
    municipality = slot.site.municipality
    if slot.starts_at <= clock.now():
        raise DomainError(
            "slot_in_past", _("過ぎた時間の枠は予約できません。別の枠をお選びください。")
        )
    if not slot.is_offered:
        raise DomainError("invalid_slot", _("この枠は現在予約を受け付けていません。"))
    days = _days_ahead(slot)
    minimum = 0 if channel in STAFF_CHANNELS else municipality.booking_window_min_days
    if days < minimum or days > municipality.booking_window_max_days:
        raise DomainError(
            "outside_window",
            _("予約は%(min)s日後から%(max)s日後までの枠でお受けしています。")
            % {
                "min": municipality.booking_window_min_days,
                "max": municipality.booking_window_max_days,
            },
        )


def _check_cutoff(reservation: Reservation, *, actor: Actor) -> None:
    """Residents may cancel or change until `cancellation_cutoff_days` before the visit day."""
    if not actor.label.startswith("resident"):
        return
    cutoff = reservation.slot.site.municipality.cancellation_cutoff_days
    if _days_ahead(reservation.slot) < cutoff:
        raise past_cutoff(cutoff)


def past_cutoff(days: int) -> DomainError:
    """409 `past_cutoff`: too close to the visit for a resident to change or cancel online."""
    return DomainError(
        "past_cutoff",
        _(
            "ご予約日の%(days)s日前を過ぎたため、インターネットでは取消・変更できません。"
            "お手数ですが窓口までお電話ください。"
        )
        % {"days": days},
        status=409,
    )


def unknown_language() -> DomainError:
    """422 `invalid_language`: a language code the site does not offer (the offered codes
    named)."""
    return DomainError(
        "invalid_language",
        _("その言語には対応していません。使える言語コード: %(codes)s")
        % {"codes": ", ".join(c for c, _name in settings.LANGUAGES)},
    )


def proxy_not_at_site() -> DomainError:
    """422 `proxy_not_at_site`: a post office serves the holder in person only."""
    return DomainError(
        "proxy_not_at_site",
        _(
            "郵便局の窓口では、ご本人の手続きだけをお受けしています。代理人が来庁する場合は、"
            "市役所・支所などの窓口を選んでください。"
        ),
    )


@dataclass(frozen=True)
class _Person:
    applicant: Applicant
    person_key: str


def person_key(
    *, notice: str = "", family: str = "", given: str = "", birth_date: dt.date | None = None
) -> str:
    """Who a booking is for, as the bookings tell people apart (`Reservation.person_key`): the
    normalised notice number for a card pick-up, else the normalised kana name and birth date."""
    if notice:
        return f"notice:{notice}"
    assert birth_date is not None
    return f"kana:{family}:{given}:{birth_date.isoformat()}"


def _normalise(applicant: Applicant, procedure: Procedure) -> _Person:
    normalize.refuse_individual_number(
        applicant.notice_number,
        applicant.family_name_kana,
        applicant.given_name_kana,
        applicant.email,
        applicant.phone,
    )
    today = clock.today()
    if applicant.birth_date > today or applicant.birth_date < dt.date(1900, 1, 1):
        raise DomainError("invalid_birth_date", _("生年月日を正しく入力してください。"))
    if applicant.is_proxy and not procedure.proxy_allowed:
        raise DomainError(
            "proxy_not_allowed",
            _("「%(procedure)s」は代理人による手続きができません。")
            % {"procedure": procedure.localized("name")},
        )
    notice = family = given = email = phone = ""
    if applicant.family_name_kana:
        family = normalize.normalize_kana(
            applicant.family_name_kana, field=gettext_noop("姓（カナ）")
        )
    if applicant.given_name_kana:
        given = normalize.normalize_kana(
            applicant.given_name_kana, field=gettext_noop("名（カナ）")
        )
    if applicant.email:
        email = normalize.normalize_email(applicant.email)
    if applicant.phone:
        phone = normalize.normalize_phone(applicant.phone)
    if procedure.code == ProcedureCode.CARD_PICKUP:
        if not applicant.notice_number:
            raise DomainError(
                "notice_number_required", _("カードの受け取りには交付通知書番号が必要です。")
            )
        notice = normalize.normalize_notice_number(applicant.notice_number)
        key = person_key(notice=notice)
    else:
        if applicant.notice_number:
            notice = normalize.normalize_notice_number(applicant.notice_number)
        if not family or not given:
            raise DomainError(
                "kana_name_required", _("お名前（カナ）を姓と名に分けて入力してください。")
            )
        if not email and not phone:
            raise DomainError(
                "contact_required", _("ご連絡先としてメールアドレスか電話番号を入力してください。")
            )
        key = person_key(family=family, given=given, birth_date=applicant.birth_date)
    cleaned = replace(
        applicant,
        notice_number=notice,
        family_name_kana=family,
        given_name_kana=given,
        email=email,
        phone=phone,
    )
    return _Person(cleaned, key)


# --- seams of the concurrency tests' negative controls ------------------------------------------
# Module-level, so that no service's signature carries a parameter for tests: the concurrency
# tests (tests/reservations/test_concurrency.py, test_reschedule_concurrency.py) monkeypatch them;
# production never changes them.

READ_THEN_WRITE_FOR_THE_NEGATIVE_CONTROL = False
"""True: a booking claims its seats on a count read earlier, without the conditional UPDATE —
concurrent bookings overwrite each other's counts (lost updates, an oversell)."""

UNORDERED_FOR_THE_NEGATIVE_CONTROL = False
"""True: a reschedule leaves both slot rows unlocked until their updates — two residents swapping
slots at once each hold one row and wait for the other's (a deadlock)."""


def between_seats(reservation: Reservation) -> None:
    """Runs inside a reschedule of `reservation` between the new seat's claim and the old one's
    release. Nothing in production; a concurrency test replaces it to hold two moves there."""


def between_read_and_write(slot_id: int) -> None:
    """Runs in the read-then-write control (`READ_THEN_WRITE_FOR_THE_NEGATIVE_CONTROL`) between
    reading the slot's count and writing it back. Never in production; the control replaces it
    to hold every contender there until all have read, so all decide on the same count however
    the threads are scheduled (a fixed sleep left that to the machine's load)."""


def _claim_seats(slot_id: int, seats: int) -> bool:
    """Take `seats` seats of the slot, or none: ONE conditional UPDATE (invariant 1)."""
    if READ_THEN_WRITE_FOR_THE_NEGATIVE_CONTROL:
        # Negative control for the concurrency tests only: read, wait, write without a
        # condition. Concurrent bookings overwrite each other's counts (lost updates).
        current = Slot.objects.values_list("booked", "capacity").get(pk=slot_id)
        if current[0] + seats > current[1]:
            return False
        between_read_and_write(slot_id)
        Slot.objects.filter(pk=slot_id).update(booked=current[0] + seats)
        return True
    claimed = Slot.objects.filter(
        pk=slot_id, is_offered=True, booked__lte=F("capacity") - seats
    ).update(booked=F("booked") + seats)
    return bool(claimed == 1)


def _release_card(reservation: Reservation, *, actor: Actor) -> None:
    """A cancelled or missed pick-up lets the card be booked again with the same notice (the
    card read once, locked)."""
    card = lock_card_by_reservation(reservation.code)
    if card is not None:
        mark_card_unbooked(card=card, actor=actor, already_locked=True)


def _release_seat(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


SUBJECT = "reservations.Reservation"


def _audit(reservation: Reservation, *, actor: Actor, action: str, before: Any, after: Any) -> None:
    record_audit_event(
        actor=actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=reservation.code,
        before=before,
        after=after,
    )


def _snapshot(reservation: Reservation) -> dict[str, Any]:
    return {"status": reservation.status, "slot": reservation.slot_id}


def _unclaimed(slot: Slot, *, seats: int) -> DomainError:
    """Why the claim found no seats: the slot was withdrawn (the cached copy said offered), or
    it is full — then with the nearest free slots to offer instead."""
    fresh = with_live_seats(slot)
    if fresh is None or not fresh.is_offered:
        return DomainError("invalid_slot", _("この枠は現在予約を受け付けていません。"))
    return SlotFullError(nearest_free_slots(slot=slot, seats=seats))


def _load_slot(
    slot_id: int, procedure_code: str, municipality_id: int | None = None
) -> tuple[Slot, Procedure]:
    """The slot with its site, municipality and procedure, all from the per-process cache
    (`selectors.slot_for_booking`). A slot's time, site and procedure never change; its seats
    are never read from here (the claim counts them) and the claim re-checks `is_offered`, so
    a cached slot cannot let a booking through that the database would not. With
    `municipality_id`, another municipality's slot is as unknown as a wrong id."""
    slot = slot_for_booking(slot_id)
    if (
        slot is None
        or slot.procedure.code != procedure_code
        or (municipality_id is not None and slot.site.municipality_id != municipality_id)
    ):
        raise DomainError(
            "invalid_slot", _("選ばれた枠が見つかりません。もう一度枠をお選びください。")
        )
    return slot, slot.procedure


# --- booking -----------------------------------------------------------------------------------


def book_reservation(
    *,
    slot_id: int,
    procedure_code: str,
    applicant: Applicant,
    actor: Actor,
    channel: str = Channel.WEB,
    language: str = "ja",
    municipality: Municipality | None = None,
) -> Reservation:
    """Book one seat of slot `slot_id` for `applicant`; returns the reservation.

    Idempotent: if the same person already holds an active booking of this procedure in this
    slot, that reservation is returned and nothing is written (a double submit books once).
    Staff channels (`phone`, `counter`, with `Actor.staff(user)`) may book from today on;
    residents only inside the municipality's booking window.

    Raises DomainError: 422 (`individual_number`, `invalid_*`, `outside_window`, `slot_in_past`,
    `*_required`, `proxy_not_allowed`, `proxy_not_at_site` — a proxy at a post office),
    404 `not_found` (notice number and birth date do not match a card),
    409 `already_booked` (an active booking of this procedure in another slot),
    409 `slot_full` (a `SlotFullError` with `alternatives`). With `municipality` (the residents'
    site or API it is asked through), a slot of another municipality is 422 `invalid_slot`.
    """
    (reservation,) = book_group_reservation(
        slot_id=slot_id,
        procedure_code=procedure_code,
        applicants=[applicant],
        actor=actor,
        channel=channel,
        language=language,
        municipality=municipality,
    )
    return reservation


def book_group_reservation(
    *,
    slot_id: int,
    procedure_code: str,
    applicants: Sequence[Applicant],
    actor: Actor,
    channel: str = Channel.WEB,
    language: str = "ja",
    municipality: Municipality | None = None,
) -> list[Reservation]:
    """Book one seat each for several people (a family) in one slot: all of them or none.

    Each applicant brings their own notice number or kana name and birth date; they share a
    `group_code` (the first member's code). Seats are claimed with one conditional UPDATE for
    the whole group. Each member with an e-mail address or a mobile number is sent the
    confirmation after the commit (`reservations.notify`); callers add nothing and wrap
    nothing in a transaction of their own. Same rules and errors as `book_reservation`; a
    group larger than `MAX_GROUP_SIZE` or naming one person twice is refused (422 `invalid_group`).

    `language` is the language the resident booked in (a code in `settings.LANGUAGES`, any
    letter case); the confirmation, changes and the reminder are composed in it. A code the
    site does not offer is refused (422 `invalid_language`) before anything is read.
    """
    offered = offered_language(language)
    if offered is None:
        raise unknown_language()
    if not applicants or len(applicants) > MAX_GROUP_SIZE:
        raise DomainError(
            "invalid_group",
            _("一度に予約できるのは%(count)s人までです。") % {"count": MAX_GROUP_SIZE},
        )
    slot, procedure = _load_slot(
        slot_id, procedure_code, municipality.pk if municipality is not None else None
    )
    people = [_normalise(a, procedure) for a in applicants]
    if any(a.is_proxy for a in applicants) and not slot.site.takes_proxies:
        raise proxy_not_at_site()
    if len({p.person_key for p in people}) != len(people):
        raise DomainError("invalid_group", _("同じ方が2回入力されています。"))
    _check_window(slot, channel=channel)
    try:
        booked = _insert_booking(
            slot=slot,
            procedure=procedure,
            people=people,
            actor=actor,
            channel=channel,
            language=offered,
        )
    except _SlotFull:
        # A double submit that lost the race for the slot's last seat to itself is answered
        # with its own booking, as below; anyone else is offered the nearest free slots.
        replay = _replayed_booking(people, slot, procedure)
        if replay is not None:
            return replay
        raise _unclaimed(slot, seats=len(people)) from None
    except (IntegrityError, DomainError) as error:
        # The person already holds an active booking of this procedure (the partial unique
        # index, or `mark_card_booked` refusing a card that is booked): a double submit gets
        # its own booking back, a booking elsewhere is refused (409 `already_booked`, raised by
        # `_replayed_booking`). A card the notice number and birth date find handed over or
        # destroyed is named (`_past_booking`). Anything else is re-raised as it came.
        if isinstance(error, DomainError) and error.code == "not_found":
            raise _past_booking(slot, people) or error from None
        if isinstance(error, DomainError) and error.code != "card_not_bookable":
            raise
        replay = _replayed_booking(people, slot, procedure)
        if replay is not None:
            return replay
        raise
    # The confirmation (mail, SMS) leaves after the commit — the same for every interface; a
    # replayed double submit above wrote nothing and sends nothing.
    notify.after_booking(booked)
    return booked


def _past_booking(slot: Slot, people: list[_Person]) -> DomainError | None:
    """After a booking found too few cards (and wrote nothing): the 409 naming a card the
    holder's own number and birth date find handed over or destroyed, if one is; None leaves
    the uniform 404 (unknown number, wrong birth date, another municipality's card)."""
    holders = [
        (p.applicant.notice_number, p.applicant.birth_date)
        for p in people
        if p.applicant.notice_number
    ]
    if not holders:
        return None
    found = cards_past_booking(municipality_id=slot.site.municipality_id, holders=holders)
    return card_past_booking(found[0]) if found else None


class _SlotFull(Exception):
    """Inside the booking transaction: the conditional UPDATE found too few seats."""


def _already_booked(booked_already: Sequence[_Person] = ()) -> DomainError:
    """409 `already_booked`; for a family, naming the members who hold a booking already
    (the lead is not told "you" when it is their child)."""
    if not booked_already:
        message = _(
            "この手続きはすでにご予約があります。日時を変える場合は、予約の変更をご利用ください。"
        )
    else:
        message = _(
            "ご家族のうち %(who)s は、この手続きのご予約がすでにあります。"
            "この方を外して予約するか、すでにある予約の変更をご利用ください。"
        ) % {"who": "、".join(_who(person.applicant) for person in booked_already)}
    return DomainError("already_booked", message, status=409)


def _who(applicant: Applicant) -> str:
    """A family member as the person booking typed them in: kana name, else notice number."""
    if applicant.family_name_kana or applicant.given_name_kana:
        name = f"{applicant.family_name_kana} {applicant.given_name_kana}".strip()
        return _("%(name)s さん") % {"name": name}
    return _("交付通知書番号 %(number)s の方") % {"number": applicant.notice_number}


def _replayed_booking(
    people: list[_Person], slot: Slot, procedure: Procedure
) -> list[Reservation] | None:
    existing = {
        r.person_key: r
        for r in Reservation.objects.filter(
            person_key__in=[p.person_key for p in people],
            procedure=procedure,
            status__in=ACTIVE_STATUSES,
        )
    }
    if not existing:
        return None
    if len(existing) == len(people) and all(r.slot_id == slot.pk for r in existing.values()):
        return [existing[p.person_key] for p in people]
    raise _already_booked(
        [p for p in people if p.person_key in existing] if len(people) > 1 else ()
    )


def _insert_booking(
    *,
    slot: Slot,
    procedure: Procedure,
    people: list[_Person],
    actor: Actor,
    channel: str,
    language: str,
) -> list[Reservation]:
    """The booking transaction: the cards locked (card pick-ups), the seats claimed (invariant
    1), then the reservations, card moves and audit events — all or nothing.

    On PostgreSQL one statement in one round trip (`reservations.fastpath`, decision 0011);
    with `MADOGUCHI_BOOKING_PATH=orm`, and on SQLite, the ORM reference implementation
    (`_book_with_orm`). Both give the same reservations, seat counts and audit events (the
    differential tests) and raise the same errors: 404 for a notice number and birth date
    that find no card here, `card_not_bookable` for a card booked already, `_SlotFull`.
    """
    now = clock.now()
    group_code = new_reservation_code()
    reservations = [
        Reservation(
            code=group_code if index == 0 else new_reservation_code(),
            group_code=group_code,
            slot=slot,
            procedure=procedure,
            status=ReservationStatus.BOOKED,
            channel=channel,
            person_key=person.person_key,
            birth_date=person.applicant.birth_date,
            family_name_kana=person.applicant.family_name_kana,
            given_name_kana=person.applicant.given_name_kana,
            email=person.applicant.email,
            phone=person.applicant.phone,
            notice_number=person.applicant.notice_number,
            is_proxy=person.applicant.is_proxy,
            language=language,
            created_at=now,
            updated_at=now,
        )
        for index, person in enumerate(people)
    ]
    pickup = procedure.code == ProcedureCode.CARD_PICKUP
    if connection.vendor != "postgresql" or settings.MADOGUCHI_BOOKING_PATH == "orm":
        return _book_with_orm(reservations, pickup=pickup, actor=actor)
    if READ_THEN_WRITE_FOR_THE_NEGATIVE_CONTROL:
        outcome = fastpath.book_on_a_count_read_earlier(
            reservations,
            pickup=pickup,
            municipality_id=slot.site.municipality_id,
            actor=actor,
            seen=_read_booked_for_the_negative_control(slot.pk),
        )
    else:
        outcome = fastpath.book_in_one_statement(
            reservations, pickup=pickup, municipality_id=slot.site.municipality_id, actor=actor
        )
    if not outcome.claimed:
        if pickup:
            _refuse_cards(outcome.cards, len(reservations))
        raise _SlotFull
    for reservation in reservations:
        reservation.pk = outcome.ids[reservation.code]
        reservation._state.adding = False
    return reservations


def _book_with_orm(
    reservations: list[Reservation], *, pickup: bool, actor: Actor
) -> list[Reservation]:
    """The reference implementation of the booking transaction, on the ORM: what
    `reservations.fastpath`'s one statement must do, written the plain way."""
    first = reservations[0]
    seats = len(reservations)
    with transaction.atomic():
        cards: list[CardRecord] = []
        if pickup:
            found = lock_cards_for_booking(
                municipality_id=first.slot.site.municipality_id,
                holders=[(r.notice_number, r.birth_date) for r in reservations],
            )
            _refuse_cards([(c.pk, c.status in READY_FOR_BOOKING) for c in found], seats)
            cards = found
        if not _claim_seats(first.slot_id, seats):
            raise _SlotFull
        Reservation.objects.bulk_create(reservations)
        by_notice = {r.notice_number: r for r in reservations}
        for card in cards:
            mark_card_booked(
                card=card,
                reservation_code=by_notice[str(card.notice_number)].code,
                actor=actor,
                already_locked=True,
            )
        record_audit_events(
            actor=actor,
            events=[
                PendingEvent(
                    action="reservation.book",
                    subject_type=SUBJECT,
                    subject_id=r.code,
                    after={**_snapshot(r), "channel": r.channel, "group": r.group_code},
                )
                for r in reservations
            ],
        )
    return reservations


def _read_booked_for_the_negative_control(slot_id: int) -> int:
    """The negative control's read-then-write: the count read now, decided on later."""
    booked = Slot.objects.values_list("booked", flat=True).get(pk=slot_id)
    between_read_and_write(slot_id)
    return int(booked)


def _refuse_cards(found: list[tuple[int, bool]], wanted: int) -> None:
    """The uniform 404 when a notice number and birth date found no card here,
    `card_not_bookable` when a card is booked already (the caller turns a double submit into
    its own booking). Returns when the cards were not the reason."""
    if len(found) < wanted:
        raise not_found()
    if not all(ready for _, ready in found):
        raise card_not_bookable()


# --- changes by the resident (or staff on their behalf) ----------------------------------------


def _locked(code: str) -> Reservation:
    query = Reservation.objects.select_related("slot__site__municipality", "procedure")
    reservation = query.select_for_update(of=("self",)).filter(code=code).first()
    if reservation is None:
        raise not_found()
    return reservation


def _revise(reservation: Reservation) -> None:
    """A change the resident's calendar entry shows — a new time or place, a cancellation:
    the booking's revision (its .ics SEQUENCE, RFC 5545 3.8.7.4) goes one up. The row is
    locked (`_locked`); the caller saves `revision`."""
    reservation.revision += 1


def cancel_reservation(*, code: str, actor: Actor) -> Reservation:
    """Cancel a booked reservation and give its seat back; returns it (status `cancelled`).

    Residents (`Actor.resident`) may cancel until `cancellation_cutoff_days` before the visit
    day; staff at any time before check-in. A booking with a contact is told (mail, SMS) after
    the commit. Raises 404 `not_found`, 409 `past_cutoff`,
    409 `invalid_transition` (already checked in, served, cancelled…).
    """
    with transaction.atomic():
        reservation = _locked(code)
        check_transition(
            RESERVATION_TRANSITIONS,
            reservation.status,
            ReservationStatus.CANCELLED,
            what=WHAT,
            labels=RESERVATION_LABELS,
        )
        _check_cutoff(reservation, actor=actor)
        before = _snapshot(reservation)
        _release_seat(reservation.slot_id)
        now = clock.now()
        reservation.status = ReservationStatus.CANCELLED
        reservation.finished_at = now
        reservation.updated_at = now
        _revise(reservation)
        reservation.save(update_fields=["status", "finished_at", "updated_at", "revision"])
        _release_card(reservation, actor=actor)
        _audit(
            reservation,
            actor=actor,
            action="reservation.cancel",
            before=before,
            after=_snapshot(reservation),
        )
        notify.after_change(reservation, mail.CANCELLED)  # after the commit
    return reservation


def reschedule_refusal(reservation: Reservation, *, by_resident: bool) -> DomainError | None:
    """Why `reservation`'s date cannot be changed any more, in the resident's words (409
    `not_reschedulable`), or None: a cancelled booking and one checked in or ended cannot
    move; nor, for the resident, one whose time has passed (staff may still move a booking
    its visitor missed). The pages ask before they show a calendar."""
    if reservation.status == ReservationStatus.CANCELLED:
        message = _(
            "この予約は取り消されているため、日時を変更できません。新しく予約してください。"
        )
    elif reservation.status != ReservationStatus.BOOKED:
        message = _("この予約は「%(status)s」のため、日時を変更できません。") % {
            "status": RESERVATION_LABELS[reservation.status]
        }
    elif by_resident and reservation.slot.starts_at <= clock.now():
        message = _("この予約の日時は過ぎているため、変更できません。新しく予約してください。")
    else:
        return None
    return DomainError("not_reschedulable", message, status=409)


def refuse_reschedule(reservation: Reservation, *, actor: Actor) -> None:
    """Raise `reschedule_refusal` for `actor` if there is one."""
    refusal = reschedule_refusal(reservation, by_resident=actor.label.startswith("resident"))
    if refusal is not None:
        raise refusal


def reschedule_reservation(
    *,
    code: str,
    slot_id: int,
    actor: Actor,
    channel: str = Channel.WEB,
) -> Reservation:
    """Move a booked reservation to slot `slot_id` (same procedure) in one transaction.

    The new seat is claimed with the conditional UPDATE before the old one is given back, so
    the resident never ends up with neither. Same window rules as booking; residents also need
    the old booking to be before its cut-off. Moving to the same slot changes nothing; a move is
    told to a booking with a contact (mail, SMS: the new date) after the commit.
    Raises 404 `not_found`, 409 `slot_full` (with alternatives), 409 `past_cutoff`,
    409 `not_reschedulable` (cancelled, checked in or ended, or its time passed),
    422 `invalid_slot` / `outside_window` / `slot_in_past`.

    The two slot rows are locked in id order before either count moves: two residents moving
    at the same moment each into the other's slot would otherwise each hold one row and wait
    for the other's (a deadlock PostgreSQL ends by failing one of them). The concurrency test's
    seams: `between_seats` runs between the claim and the release, and
    `UNORDERED_FOR_THE_NEGATIVE_CONTROL` leaves the rows unlocked until their updates.
    """
    with transaction.atomic():
        reservation = _locked(code)
        refuse_reschedule(reservation, actor=actor)
        if reservation.slot_id == slot_id:
            return reservation
        _check_cutoff(reservation, actor=actor)
        # a booking moves within its own municipality only
        slot, _procedure = _load_slot(
            slot_id, reservation.procedure.code, reservation.slot.site.municipality_id
        )
        _check_window(slot, channel=channel)
        if not UNORDERED_FOR_THE_NEGATIVE_CONTROL:
            both = Slot.objects.select_for_update().filter(pk__in=(slot.pk, reservation.slot_id))
            list(both.order_by("pk").values_list("pk", flat=True))
        if not _claim_seats(slot.pk, 1):
            raise _unclaimed(slot, seats=1)
        between_seats(reservation)
        before = _snapshot(reservation)
        _release_seat(reservation.slot_id)
        reservation.slot = slot
        reservation.updated_at = clock.now()
        _revise(reservation)
        reservation.save(update_fields=["slot", "updated_at", "revision"])
        _audit(
            reservation,
            actor=actor,
            action="reservation.reschedule",
            before=before,
            after=_snapshot(reservation),
        )
        notify.after_change(reservation, mail.RESCHEDULED)  # the new date, after the commit
    return reservation


def revise_for_new_place(
    *, site: Site, languages: Collection[str], actor: Actor
) -> tuple[int, int]:
    """`site`'s place — its name, postal code or address — now reads otherwise in `languages`
    (`offices.services.save_site`, in its transaction): every booking still to come there
    (booked, its time not passed) goes one revision up in ONE UPDATE, since its .ics's LOCATION
    changed in some language the file may be downloaded in, and each is audited
    (`reservation.new_place`); after the commit those booked in one of `languages` with a
    contact are told the new place, their updated .ics attached to the mail (`notify`). The rows
    are locked first (`_revise`'s lock), so the bookings revised, audited and told are the same
    ones. Returns `(revised, told)` (decision 0044)."""
    now = clock.now()
    bookings = list(
        Reservation.objects.select_related("slot__site__municipality", "procedure")
        .select_for_update(of=("self",))
        .filter(
            slot__site_id=site.pk,
            status=ReservationStatus.BOOKED,
            slot__starts_at__gte=now,
        )
        .order_by("pk")
    )
    if not bookings:
        return 0, 0
    Reservation.objects.filter(pk__in=[r.pk for r in bookings]).update(
        revision=F("revision") + 1, updated_at=now
    )
    events = []
    for reservation in bookings:
        events.append(
            PendingEvent(
                action="reservation.new_place",
                subject_type=SUBJECT,
                subject_id=reservation.code,
                before={"revision": reservation.revision},
                after={"revision": reservation.revision + 1, "site": site.pk},
            )
        )
        _revise(reservation)
        reservation.updated_at = now
    record_audit_events(actor=actor, events=events)
    told = [r for r in bookings if r.language in languages]
    notify.after_place_change(told)  # after the commit, those with a contact
    return len(bookings), sum(1 for r in told if notify.channels_of(r))


# --- counter console ----------------------------------------------------------------------------


def _move(code: str, target: str, *, actor: Actor, action: str) -> Reservation:
    with transaction.atomic():
        reservation = _locked(code)
        check_transition(
            RESERVATION_TRANSITIONS,
            reservation.status,
            target,
            what=WHAT,
            labels=RESERVATION_LABELS,
        )
        before = _snapshot(reservation)
        now = clock.now()
        if target == ReservationStatus.CHECKED_IN:
            if clock.to_jst(reservation.slot.starts_at).date() != clock.today():
                raise DomainError("not_today", _("受付できるのは予約日当日だけです。"), status=409)
            reservation.checked_in_at = now
        elif target == ReservationStatus.NO_SHOW and reservation.slot.starts_at > now:
            raise DomainError(
                "too_early", _("予約時刻の前に「来庁なし」にはできません。"), status=409
            )
        else:
            reservation.finished_at = now
        if target == ReservationStatus.NO_SHOW:
            _release_card(reservation, actor=actor)
        reservation.status = target
        reservation.updated_at = now
        reservation.save(update_fields=["status", "checked_in_at", "finished_at", "updated_at"])
        _audit(reservation, actor=actor, action=action, before=before, after=_snapshot(reservation))
    return reservation


def close_missed_bookings(*, before: dt.date, actor: Actor) -> int:
    """End as no-shows the bookings still `booked` for a day before `before` (the nightly
    clean-up, `madoguchi close-queue-days`): the resident never came, so the booking no longer
    holds their one booking per procedure, and a card pick-up's card waits for a booking again
    (the same notice can be booked anew). Each through the checked, audited move; one that
    changed meanwhile is left as it is. Returns how many were closed; idempotent."""
    missed = Reservation.objects.filter(
        status=ReservationStatus.BOOKED, slot__starts_at__lt=clock.at(before, dt.time(0))
    )
    closed = 0
    for code in missed.order_by("pk").values_list("code", flat=True):
        try:
            _move(code, ReservationStatus.NO_SHOW, actor=actor, action="reservation.no_show")
        except DomainError:
            continue
        closed += 1
    return closed


def check_in_reservation(*, code: str, actor: Actor) -> Reservation:
    """The booked visitor has arrived (on the day of the slot): booked → checked_in.

    Raises 404 `not_found`, 409 `invalid_transition`, 409 `not_today`.
    """
    return _move(code, ReservationStatus.CHECKED_IN, actor=actor, action="reservation.check_in")


def mark_served(*, code: str, actor: Actor) -> Reservation:
    """The visit is done: checked_in → served — for a visit without a queue ticket.

    Only `walkins.visits` calls this, after finding the visitor holds no ticket (a visit with a
    ticket ends with it: `walkins.services`, one visit; tests/walkins/test_visits.py checks no
    other module calls it). A card pick-up whose card is still waiting (booked) is not done
    until the card is handed over (`issuance.services.hand_over_card` first). Raises 404
    `not_found`, 409 `invalid_transition`, 409 `card_not_handed_over`.
    """
    if card_by_reservation(code) is not None:
        raise _card_not_handed_over()
    return _move(code, ReservationStatus.SERVED, actor=actor, action="reservation.serve")


VISIT_CLOSINGS = table(checked_in={S.SERVED, S.NO_SHOW, S.CANCELLED})
"""How a checked-in visit ends with its queue ticket (`walkins.services`, one visit): served when
the ticket is done, no-show when the called visitor did not come, cancelled when the ticket is
given up before service (the seat and the card are given back)."""

CLOSING_ACTIONS = {
    S.SERVED: "reservation.serve",
    S.NO_SHOW: "reservation.no_show",
    S.CANCELLED: "reservation.cancel",
}


def close_checked_in_visit(*, code: str, target: str, actor: Actor) -> Reservation:
    """End a checked-in visit together with its queue ticket: checked_in → `target`.

    Only `walkins.services` calls this, in the transaction that closes the visitor's ticket,
    so the two records never disagree (one audit event for the reservation). A card pick-up is
    served only once its card is handed over. Raises 404 `not_found`, 409
    `invalid_transition`, 409 `card_not_handed_over`.
    """
    with transaction.atomic():
        reservation = _locked(code)
        check_transition(
            VISIT_CLOSINGS, reservation.status, target, what=WHAT, labels=RESERVATION_LABELS
        )
        if target == S.SERVED and card_by_reservation(code) is not None:
            raise _card_not_handed_over()
        before = _snapshot(reservation)
        now = clock.now()
        if target == S.CANCELLED:
            _release_seat(reservation.slot_id)
        if target in (S.CANCELLED, S.NO_SHOW):
            _release_card(reservation, actor=actor)
        reservation.status = target
        reservation.finished_at = now
        reservation.updated_at = now
        if target == S.CANCELLED:
            _revise(reservation)
        reservation.save(update_fields=["status", "finished_at", "updated_at", "revision"])
        _audit(
            reservation,
            actor=actor,
            action=CLOSING_ACTIONS[S(target)],
            before=before,
            after=_snapshot(reservation),
        )
    return reservation


def _card_not_handed_over() -> DomainError:
    return DomainError(
        "card_not_handed_over",
        _("カードの交付がまだ記録されていません。交付の画面から手続きしてください。"),
        status=409,
    )


def mark_no_show(*, code: str, actor: Actor) -> Reservation:
    """Nobody came: booked (or checked_in without a queue ticket) → no_show, only once the slot
    has started.

    Only `walkins.visits` calls this, after finding the visitor holds no open ticket (see
    `mark_served`). The seat is not given back (the slot's time is spent). Raises 404
    `not_found`, 409 `invalid_transition`, 409 `too_early`.
    """
    return _move(code, ReservationStatus.NO_SHOW, actor=actor, action="reservation.no_show")


def claim_reminder(*, code: str, visit_on: dt.date) -> bool:
    """Claim the day-before reminder for the visit on `visit_on`; True for exactly one caller.

    One conditional UPDATE: two reminder runs at the same moment never both send. A reservation
    moved to another day can be reminded again for its new date.
    """
    claimed = (
        Reservation.objects.filter(code=code, status=ReservationStatus.BOOKED)
        .exclude(reminder_sent_for=visit_on)
        .update(reminder_sent_for=visit_on)
    )
    return claimed == 1


def release_reminder(*, code: str, visit_on: dt.date) -> None:
    """Give a claimed reminder back after the mail failed, so the next run tries again."""
    Reservation.objects.filter(code=code, reminder_sent_for=visit_on).update(reminder_sent_for=None)
