"""A live demo day: today's visitors at every site open today, made through the real services.

At each site that takes visitors today: a handful of booked visitors in the slots still ahead
(card pick-ups with the demo's noticed cards, e-certificate renewals), the earliest of them
checked in; walk-in tickets taken on phones and at the kiosk; counters calling and serving. So
the day view, the calling page, the hand-over screen and the waiting-room display all show a
real day on first login. What the clock allows decides what exists: nothing is booked in the
past, no ticket is taken after the site's last period (the services refuse it, and the demo
says so), and a site that opens later today (the temporary counter's evening session) has its
bookings but no walk-ins and no calls yet (the demo says when it opens). Idempotent: a site
that already has today's demo visitors is left as it is.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.offices.calendar import SiteCalendar
from madoguchi.offices.models import Counter, Municipality, Procedure, ProcedureCode, Site
from madoguchi.reservations import services as reservations
from madoguchi.reservations.models import Channel, Reservation, Slot
from madoguchi.walkins.models import QueueTicket, TicketChannel
from madoguchi.walkins.services import (
    call_next_ticket,
    check_in_booked_visitor,
    issue_ticket,
    start_serving,
)

BOOKINGS_PER_SITE = 8
WALK_INS_PER_SITE = 7
CHECK_IN_AHEAD = dt.timedelta(minutes=60)
"""Booked visitors whose time is within the next hour have arrived and checked in."""

RENEWAL_NAMES = (
    ("スズキ", "イチロウ"),
    ("タカハシ", "ミナ"),
    ("イトウ", "ケンタ"),
    ("ワタナベ", "サクラ"),
    ("ナカムラ", "ユウト"),
)


@dataclass
class SiteDay:
    """What the demo left at one site today."""

    site: Site
    booked: int = 0
    checked_in: int = 0
    tickets: int = 0
    at_counters: int = 0
    notes: list[str] = field(default_factory=list)


def load_demo_day(*, municipality: Municipality, seed: int) -> list[SiteDay]:
    """Fill today at every active site of `municipality` that takes visitors today."""
    rng = random.Random(seed)
    actor = Actor.system("demo")
    today = clock.today()
    days = []
    for site in municipality.sites.filter(is_active=True).order_by("pk"):
        slots = list(
            Slot.objects.filter(
                site=site,
                is_offered=True,
                starts_at__gte=clock.at(today, dt.time(0)),
                starts_at__lt=clock.at(today + dt.timedelta(days=1), dt.time(0)),
            )
            .select_related("procedure")
            .order_by("starts_at", "procedure__sort_order")
        )
        if not slots:
            continue  # closed today
        day = SiteDay(site=site)
        if QueueTicket.objects.filter(site=site, business_day=today).exists() or (
            Reservation.objects.filter(slot__in=slots, channel=Channel.COUNTER).exists()
        ):
            day.notes.append("already")
            days.append(day)
            continue
        _book(day, slots, rng, actor)
        calendar = SiteCalendar.load(site)  # read once: for the opening and every ticket
        opens_at = _opens_at(calendar, today)
        if opens_at is not None and opens_at > clock.now():
            day.notes.append(
                f"{clock.to_jst(opens_at):%H:%M}に開きます（受付待ちの番号と呼出しはまだありません）"
            )
        else:
            _walk_ins(day, rng, actor, calendar)
            _call(day, actor)
        days.append(day)
    return days


def _opens_at(calendar: SiteCalendar, day: dt.date) -> dt.datetime | None:
    """When the site's first period of `day` starts (None when it has none)."""
    periods = calendar.day(day).periods
    return min((p.starts_at for p in periods), default=None)


def _book(day: SiteDay, slots: list[Slot], rng: random.Random, actor: Actor) -> None:
    now = clock.now()
    bookable = (ProcedureCode.CARD_PICKUP, ProcedureCode.CERT_RENEWAL)
    ahead = [
        s
        for s in slots
        if s.starts_at > now and s.booked < s.capacity and s.procedure.code in bookable
    ]
    step = max(1, len(ahead) // BOOKINGS_PER_SITE)
    cards = iter(
        CardRecord.objects.filter(
            municipality=day.site.municipality, status=CardStatus.NOTICE_ISSUED
        ).order_by("pk")
    )
    booked: list[Reservation] = []
    for slot in ahead[::step][:BOOKINGS_PER_SITE]:
        try:
            if slot.procedure.code == ProcedureCode.CARD_PICKUP:
                card = next(cards, None)
                if card is None:
                    continue
                applicant = reservations.Applicant(
                    birth_date=card.birth_date, notice_number=card.notice_number or ""
                )
            elif slot.procedure.code == ProcedureCode.CERT_RENEWAL:
                family, given = rng.choice(RENEWAL_NAMES)
                applicant = reservations.Applicant(
                    birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20_000)),
                    family_name_kana=family,
                    given_name_kana=given,
                    # a fictitious landline: the demo never texts a mobile number that may
                    # be someone's (a booking with a mobile is confirmed by SMS)
                    phone=f"03{rng.randint(10_000_000, 99_999_999)}",
                )
            else:
                continue
            booked.append(
                reservations.book_reservation(
                    slot_id=slot.pk,
                    procedure_code=slot.procedure.code,
                    applicant=applicant,
                    actor=actor,
                    channel=Channel.COUNTER,
                )
            )
        except DomainError:
            continue
    day.booked = len(booked)
    for reservation in booked:
        if reservation.slot.starts_at <= now + CHECK_IN_AHEAD:
            try:
                check_in_booked_visitor(code=reservation.code, actor=actor)
            except DomainError:
                continue
            day.checked_in += 1


def _walk_ins(day: SiteDay, rng: random.Random, actor: Actor, calendar: SiteCalendar) -> None:
    procedures = [
        p
        for p in Procedure.objects.filter(sites=day.site).order_by("sort_order")
        if p.code in ProcedureCode.values
    ]
    for index in range(WALK_INS_PER_SITE if procedures else 0):
        try:
            issue_ticket(
                site=day.site,
                procedure=rng.choice(procedures),
                actor=Actor.resident("demo"),
                channel=TicketChannel.KIOSK if index % 3 == 0 else TicketChannel.PHONE,
                calendar=calendar,
            )
        except DomainError as error:
            day.notes.append(error.message)
            return
        day.tickets += 1


def _call(day: SiteDay, actor: Actor) -> None:
    """Call visitors to about half the counters; the first one called is being served."""
    counters = list(Counter.objects.filter(site=day.site, is_active=True).order_by("pk"))
    for index, counter in enumerate(counters[: max(1, len(counters) // 2)]):
        try:
            ticket = call_next_ticket(site=day.site, counter=counter, actor=actor)
            if ticket is not None and index == 0:
                start_serving(ticket=ticket, actor=actor)
        except DomainError:
            continue
        if ticket is not None:
            day.at_counters += 1
