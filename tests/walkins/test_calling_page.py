"""The staff calling page: log-in, site scope, and each button doing one service call."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.services import issue_ticket
from tests.conftest import login_staff
from tests.frozen_clock import HALL_NOW
from tests.walkins.conftest import Hall, make_hall

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(HALL_NOW),
    pytest.mark.usefixtures("frozen"),
]


@pytest.fixture
def clerk(hall: Hall) -> StaffUser:
    user = StaffUser.objects.create_user(
        "tanaka", role=Role.OFFICIAL, municipality=hall.site.municipality
    )
    user.sites.add(hall.site)
    return user


@pytest.fixture
def staff_client(client: Client, clerk: StaffUser) -> Client:
    login_staff(client, clerk)
    return client


def issue(hall: Hall, n: int) -> list[QueueTicket]:
    return [
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
        for _ in range(n)
    ]


def test_the_calling_page_needs_a_login(client: Client, hall: Hall) -> None:
    response = client.get(f"/staff/queue/sites/{hall.site.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")


def test_staff_only_see_the_queues_of_their_own_sites(staff_client: Client, hall: Hall) -> None:
    other = make_hall("北支所")
    assert staff_client.get(f"/staff/queue/sites/{other.site.pk}/").status_code == 403
    page = staff_client.get("/staff/queue/").content.decode()
    assert "本庁舎" in page and "北支所" not in page
    issue(other, 1)
    response = staff_client.post(
        f"/staff/queue/sites/{other.site.pk}/counters/{other.counter_1.pk}/call/"
    )
    assert response.status_code == 403
    assert not QueueTicket.objects.filter(status=TicketStatus.CALLED).exists()


def test_staff_cannot_move_tickets_of_another_site(staff_client: Client, hall: Hall) -> None:
    other = make_hall("北支所")
    (ticket,) = issue(other, 1)
    assert staff_client.post(f"/staff/queue/tickets/{ticket.pk}/cancel/").status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING


def test_call_serve_finish_from_the_page(
    staff_client: Client, hall: Hall, clerk: StaffUser
) -> None:
    issue(hall, 2)
    base = f"/staff/queue/sites/{hall.site.pk}/"
    response = staff_client.post(f"{base}counters/{hall.counter_1.pk}/call/", follow=True)
    assert "1番を1番窓口にお呼びしました。" in response.content.decode()
    ticket = QueueTicket.objects.get(number=1)
    assert (ticket.status, ticket.counter) == ("called", hall.counter_1)
    staff_client.post(f"/staff/queue/tickets/{ticket.pk}/serve/")
    staff_client.post(f"/staff/queue/tickets/{ticket.pk}/finish/")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE
    actors = set(
        AuditEvent.objects.filter(subject_id=str(ticket.pk))
        .exclude(action="ticket.issued")
        .values_list("actor", flat=True)
    )
    assert actors == {f"staff:{clerk.pk}:tanaka"}


def test_a_no_show_from_the_page(staff_client: Client, hall: Hall) -> None:
    issue(hall, 1)
    staff_client.post(f"/staff/queue/sites/{hall.site.pk}/counters/{hall.counter_2.pk}/call/")
    ticket = QueueTicket.objects.get(number=1)
    staff_client.post(f"/staff/queue/tickets/{ticket.pk}/no-show/")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NO_SHOW


def test_a_refused_move_is_shown_as_a_message_not_an_error_page(
    staff_client: Client, hall: Hall
) -> None:
    (ticket,) = issue(hall, 1)
    response = staff_client.post(f"/staff/queue/tickets/{ticket.pk}/finish/", follow=True)
    assert response.status_code == 200
    assert "整理券は「お待ちください」のため、「完了」にはできません。" in response.content.decode()


def test_calling_with_nobody_waiting_says_so(staff_client: Client, hall: Hall) -> None:
    response = staff_client.post(
        f"/staff/queue/sites/{hall.site.pk}/counters/{hall.counter_1.pk}/call/", follow=True
    )
    assert "お待ちの方はいません。" in response.content.decode()


def test_changes_need_post(staff_client: Client, hall: Hall) -> None:
    (ticket,) = issue(hall, 1)
    assert staff_client.get(f"/staff/queue/tickets/{ticket.pk}/cancel/").status_code == 405


def test_the_page_lists_counters_and_waiting_tickets(staff_client: Client, hall: Hall) -> None:
    issue(hall, 3)
    staff_client.post(f"/staff/queue/sites/{hall.site.pk}/counters/{hall.counter_1.pk}/call/")
    page = staff_client.get(f"/staff/queue/sites/{hall.site.pk}/").content.decode()
    assert "1番の対応を開始" in page
    assert "2番窓口に次の方を呼ぶ" in page
    assert "3番を取り消す" in page


def test_a_visitor_left_at_a_counter_on_an_earlier_day_is_shown_there_with_its_buttons(
    staff_client: Client, hall: Hall
) -> None:
    """A ticket the nightly clean-up leaves open (a card pick-up served without a recorded
    hand-over) holds its counter: the page shows it at that counter, with its day, so the clerk
    can end it — it showed the counter as free while every call was refused as busy."""
    (ticket,) = issue(hall, 1)
    yesterday = ticket.business_day - dt.timedelta(days=1)
    QueueTicket.objects.filter(pk=ticket.pk).update(
        business_day=yesterday, status=TicketStatus.SERVING, counter=hall.counter_1
    )
    page = staff_client.get(f"/staff/queue/sites/{hall.site.pk}/").content.decode()
    assert f"/staff/queue/tickets/{ticket.pk}/finish/" in page
    assert yesterday.isoformat() in page
    staff_client.post(f"/staff/queue/tickets/{ticket.pk}/finish/")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE


def test_the_calling_page_reads_the_sites_offer_settings_and_counters_once(
    staff_client: Client, hall: Hall
) -> None:
    """The page's queue estimates, its two forms and its figures share one read each of what
    the site offers, its queue settings and its active counters (each was read twice), and the
    forms' lists are drawn from those reads (each list was read again by id as it was drawn,
    the issue form's procedures twice); the forms still offer the site's procedures and
    counters."""
    issue(hall, 2)
    with CaptureQueriesContext(connection) as statements:
        response = staff_client.get(f"/staff/queue/sites/{hall.site.pk}/")
    assert response.status_code == 200
    reads = [q["sql"] for q in statements.captured_queries]

    assert sum('FROM "walkins_queuesettings"' in sql for sql in reads) == 1, reads
    active_counters = 'FROM "offices_counter" WHERE ("offices_counter"."is_active"'
    assert sum(active_counters in sql for sql in reads) == 1, reads
    assert sum('INNER JOIN "offices_site_procedures"' in sql for sql in reads) == 1, reads
    for table in ("offices_counter", "offices_procedure"):  # whole rows, read again by id
        rows_by_id = [
            sql
            for sql in reads
            if sql.startswith(f'SELECT "{table}"."id", ') and f'WHERE "{table}"."id" IN' in sql
        ]
        assert not rows_by_id, (table, rows_by_id)
    page = response.content.decode()
    for name in ("1番窓口", "2番窓口", "電子証明書の更新", "カードの受け取り"):
        assert name in page, name
