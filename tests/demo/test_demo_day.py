"""`madoguchi demo` leaves a live day: booked visitors (some checked in), walk-in tickets
waiting and being served at the sites open today — through the real services — and says
where to look."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from madoguchi.core import clock
from madoguchi.demo import city as demo_city
from madoguchi.demo.city import build_demo_city
from madoguchi.offices.calendar import SiteCalendar
from madoguchi.offices.models import Site, SiteKind
from madoguchi.reservations.models import Reservation, ReservationStatus
from madoguchi.staff.models import StaffUser
from madoguchi.walkins.models import QueueTicket, TicketPriority, TicketStatus
from tests import personas
from tests.conftest import login_staff
from tests.frozen_clock import DEMO_MORNING, frozen_at

pytestmark = pytest.mark.django_db

THURSDAY = dt.date(2026, 11, 26)


DEMO_COMMAND = personas.DemoCommand(residents=50, seed=3)
"""`madoguchi demo --residents 50 --seed 3` at 10:00 on the demo Thursday: its build is
`build_demo_city(residents=50, seed=3, today=THURSDAY)`, run once for the two tests that ask
for it (tests/personas.py keeps its rows)."""


@pytest.mark.frozen_at(DEMO_MORNING)
def test_the_main_office_has_a_real_day_shown_on_every_screen_and_loaded_once(
    demo_printed: str,
) -> None:
    # loaded once already, by the demo command
    main = Site.objects.get(kind=SiteKind.MAIN_OFFICE)

    visits = Reservation.objects.filter(slot__site=main, slot__starts_at__date=THURSDAY)
    assert visits.count() >= 5
    assert {r.procedure.code for r in visits} == {"card_pickup", "cert_renewal"}
    assert visits.filter(status=ReservationStatus.CHECKED_IN).exists()
    assert visits.filter(status=ReservationStatus.BOOKED).exists()
    assert all(r.slot.starts_at > clock.now() for r in visits)  # nothing booked in the past

    tickets = QueueTicket.objects.filter(site=main, business_day=THURSDAY)
    statuses = set(tickets.values_list("status", flat=True))
    assert {TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING} <= statuses
    assert tickets.filter(priority=TicketPriority.WALK_IN).count() >= 5
    assert tickets.filter(priority=TicketPriority.APPOINTMENT).exists()

    client = Client()
    login_staff(client, StaffUser.objects.get(username="demo-official"))
    pickup = Reservation.objects.filter(
        slot__site=main, procedure__code="card_pickup", slot__starts_at__date=THURSDAY
    ).first()
    assert pickup is not None

    day = client.get(f"/staff/sites/{main.pk}/").content.decode()
    assert pickup.code in day and "受付済み" in day
    calling = client.get(f"/staff/queue/sites/{main.pk}/").content.decode()
    assert "対応中" in calling and "お呼び出し中" in calling
    board = Client().get(f"/queue/sites/{main.pk}/").content.decode()
    serving = QueueTicket.objects.get(site=main, status=TicketStatus.SERVING)
    assert serving.label in board

    counts = (Reservation.objects.count(), QueueTicket.objects.count())
    build_demo_city(residents=50, seed=3, today=THURSDAY)
    assert (Reservation.objects.count(), QueueTicket.objects.count()) == counts


@pytest.mark.frozen_at(DEMO_MORNING)
def test_the_demo_command_prints_where_to_look(demo_printed: str) -> None:
    main = Site.objects.get(kind=SiteKind.MAIN_OFFICE)
    printed = demo_printed
    assert "今日の窓口" in printed
    assert f"予約一覧（交付・検索）: /staff/sites/{main.pk}/" in printed
    assert f"待合室の表示: /queue/sites/{main.pk}/" in printed
    assert f"/staff/queue/sites/{main.pk}/kiosks/" in printed  # the kiosk needs registering
    assert "当日の整理券 7 枚" in printed
    # a 50-resident register: the backlog stays within the target, and the demo says so
    assert "計画の画面（/staff/planning/、demo-manager）" in printed
    assert "目標（14日）以内の見込みです" in printed
    # The sample numbers to try booking with carry the notice's own name (one name everywhere).
    assert "  交付通知書番号 " in printed and "予約番号" not in printed


def test_after_hours_nothing_is_invented_and_the_demo_says_so() -> None:
    with frozen_at(clock.at(THURSDAY, dt.time(21, 0))):
        summary = build_demo_city(residents=50, seed=3, today=THURSDAY)
        assert QueueTicket.objects.count() == 0
        assert Reservation.objects.filter(slot__starts_at__date=THURSDAY).count() == 0
        assert all(day.tickets == 0 for day in summary.today)


def test_a_site_that_opens_later_today_has_its_bookings_but_no_queue_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The temporary counter opens at 16:00 on weekdays: at 10:00 nobody is called there (its
    counters are not staffed yet) and no walk-in ticket is invented for it."""
    day = dt.date(2027, 5, 13)  # a Thursday
    # the counter's months come from the forecast (tests/demo/test_demo_capacity.py); here
    # they only need to hold the day
    monkeypatch.setattr(
        demo_city,
        "temporary_counter_window",
        lambda municipality, *, today: (
            today - dt.timedelta(days=30),
            today + dt.timedelta(days=30),
        ),
    )
    with frozen_at(clock.at(day, dt.time(10, 0))):
        summary = build_demo_city(residents=50, seed=3, today=day)
        temporary = Site.objects.get(kind=SiteKind.TEMPORARY)
        periods = SiteCalendar.load(temporary).day(day).periods
        assert periods and min(p.starts_at for p in periods) == clock.at(day, dt.time(16, 0))
        assert not QueueTicket.objects.filter(site=temporary).exists()
        (entry,) = [d for d in summary.today if d.site == temporary]
        assert entry.tickets == 0 and entry.at_counters == 0
        assert any("16:00に開きます" in note for note in entry.notes)
        main = Site.objects.get(kind=SiteKind.MAIN_OFFICE)
        assert QueueTicket.objects.filter(site=main, business_day=day).exists()
