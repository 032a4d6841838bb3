"""The queue's measured day: the numbers, the page, the formula-safe CSV and adopting the
observed service times as the planning assumption."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.test import Client

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.offices.models import Procedure
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.services import (
    call_next_ticket,
    finish_ticket,
    issue_ticket,
    mark_ticket_no_show,
    start_serving,
)
from madoguchi.walkins.statistics import TicketFacts, percentile, summarise
from tests.conftest import login_staff
from tests.frozen_clock import HALL_NOW
from tests.walkins.conftest import TUESDAY, Hall, jst

pytestmark = [pytest.mark.django_db, pytest.mark.frozen_at(HALL_NOW)]

CLERK = Actor("staff:1:clerk")


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.9) == 9.0
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([], 0.9) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0


def facts(**fields: object) -> TicketFacts:
    base: dict[str, object] = {
        "site_id": 1,
        "site_name": "本庁舎",
        "day": TUESDAY,
        "procedure_id": 1,
        "procedure_name": "更新",
        "status": TicketStatus.DONE,
        "appointment": False,
        "issued_hour": 10,
        "wait": 10.0,
        "service": 5.0,
        "estimate": 12,
    }
    base.update(fields)
    return TicketFacts(**base)


def test_summarise_counts_and_measures_each_group() -> None:
    report = summarise(
        [
            facts(wait=10.0, estimate=12),
            facts(wait=20.0, estimate=15, appointment=True),
            facts(status=TicketStatus.NO_SHOW, wait=30.0, service=None, estimate=30),
            facts(status=TicketStatus.CANCELLED, wait=None, service=None, estimate=5),
            facts(procedure_id=2, procedure_name="受取", issued_hour=11, wait=4.0, estimate=0),
        ]
    )
    rows = {row.procedure_name: row for row in report.rows}
    s, second = rows["更新"].summary, rows["受取"]
    assert (s.tickets, s.served, s.no_shows, s.cancelled, s.appointments, s.walk_ins) == (
        4,
        2,
        1,
        1,
        1,
        3,
    )
    assert s.wait_mean == 20.0 and s.wait_p90 == 30.0
    assert s.service_mean == 5.0
    assert s.estimate_mae == pytest.approx((2 + 5 + 0) / 3)  # cancelled: never called
    assert second.procedure_name == "受取" and second.summary.estimate_mae == 4.0
    assert report.total.tickets == 5
    assert {h: round(v.wait_mean or 0, 1) for h, v in report.waits_by_hour.items()} == {
        10: 20.0,
        11: 4.0,
    }


def a_day(hall: Hall, frozen: time_machine.Traveller) -> list[QueueTicket]:
    """Three walk-ins: served 10:00–10:14 after a 6-minute wait, a no-show, one waiting."""
    frozen.move_to(jst(9, 54))
    tickets = [
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
        for _ in range(3)
    ]
    frozen.move_to(jst(10))
    first = call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    second = call_next_ticket(site=hall.site, counter=hall.counter_2, actor=CLERK)
    assert first is not None and second is not None
    start_serving(ticket=first, actor=CLERK)
    mark_ticket_no_show(ticket=second, actor=CLERK)
    frozen.move_to(jst(10, 14))
    finish_ticket(ticket=first, actor=CLERK)
    return tickets


@pytest.fixture
def manager(hall: Hall) -> Client:
    user = StaffUser.objects.create_user(
        "kanri", role=Role.MANAGER, municipality=hall.site.municipality
    )
    client = Client()
    login_staff(client, user)
    return client


def test_the_statistics_page_shows_the_day(
    hall: Hall, frozen: time_machine.Traveller, manager: Client
) -> None:
    a_day(hall, frozen)
    response = manager.get(
        "/staff/queue/stats/",
        {"site": hall.site.pk, "first": TUESDAY.isoformat(), "last": TUESDAY.isoformat()},
    )
    assert response.status_code == 200
    content = response.content.decode()
    # 3 tickets, 1 served, 1 no-show, 0 booked, 3 walk-ins; waits 6 and 6 → 6.0; p90 6.0;
    # service 14.0; estimates 0, 0, 10 against waits 6, 6 → MAE 6.0.
    assert (
        "<td>2025-06-10</td><td>本庁舎</td><td>電子証明書の更新</td>\n"
        "      <td>3</td><td>1</td><td>1</td><td>0</td><td>3</td>\n"
        "      <td>6.0</td><td>6.0</td>\n"
        "      <td>14.0</td><td>6.0</td>"
    ) in content
    assert '<svg class="chart"' in content
    assert '<th scope="row">9:00</th><td>3</td><td>6.0</td><td>6.0</td>' in content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"first": "2025-13-01", "last": "2025-06-10"}, "開始日を 2025-06-10 の形で"),
        ({"first": "2025-06-10", "last": "2025-06-01"}, "終了日は開始日と同じか後の日"),
        ({"first": "2025-01-01", "last": "2025-06-10"}, "期間は93日以内"),
        ({"first": "2025-06-10", "last": "2025-06-10", "site": "999999"}, "担当の窓口から"),
    ],
)
def test_bad_statistics_filters_say_why(
    hall: Hall, manager: Client, params: dict[str, str], message: str, frozen: object
) -> None:
    page = manager.get("/staff/queue/stats/", params).content.decode()
    assert message in page
    csv_response = manager.get("/staff/queue/stats.csv", params)
    assert csv_response.status_code == 422
    assert message in csv_response.content.decode()


def test_the_csv_has_the_same_numbers_and_neutralises_formulas(
    hall: Hall, frozen: time_machine.Traveller, manager: Client
) -> None:
    hall.cert_renewal.name = '=HYPERLINK("http://evil.example","x")'
    hall.cert_renewal.save()
    a_day(hall, frozen)
    response = manager.get(
        "/staff/queue/stats.csv",
        {"first": TUESDAY.isoformat(), "last": TUESDAY.isoformat()},
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["営業日", "窓口（庁舎）", "手続き", "整理券"]
    assert rows[1] == [
        "2025-06-10",
        "本庁舎",
        '\'=HYPERLINK("http://evil.example","x")',
        "3",
        "1",
        "1",
        "0",
        "0",
        "3",
        "6.0",
        "6.0",
        "14.0",
        "6.0",
    ]


def finished_services(hall: Hall, frozen: time_machine.Traveller, n: int, minutes: int) -> None:
    for i in range(n):
        frozen.move_to(jst(9) + dt.timedelta(minutes=30 * i))
        ticket = issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
        call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
        start_serving(ticket=ticket, actor=CLERK)
        frozen.shift(dt.timedelta(minutes=minutes))
        finish_ticket(ticket=ticket, actor=CLERK)


def test_observed_service_times_become_the_planning_assumption_with_one_action(
    hall: Hall, frozen: time_machine.Traveller, manager: Client
) -> None:
    finished_services(hall, frozen, 10, 14)
    # a morning of services: the manager's session ended idle meanwhile; they sign in again
    login_staff(manager, StaffUser.objects.get(username="kanri"))
    query = f"?first={TUESDAY.isoformat()}&last={TUESDAY.isoformat()}&site={hall.site.pk}"
    page = manager.get(f"/staff/queue/stats/{query}").content.decode()
    assert f'action="/staff/queue/stats/sites/{hall.site.pk}/adopt/?' in page
    response = manager.post(f"/staff/queue/stats/sites/{hall.site.pk}/adopt/{query}", follow=True)
    assert "「電子証明書の更新」の所要時間を10分から14分にしました（実績10件）。" in [
        str(m) for m in response.context["messages"]
    ]
    assert Procedure.objects.get(pk=hall.cert_renewal.pk).duration_minutes == 14
    event = AuditEvent.objects.get(action="procedure.duration_adopted")
    assert (event.before, event.after["duration_minutes"], event.after["samples"]) == (
        {"duration_minutes": 10},
        14,
        10,
    )
    assert event.actor.startswith("staff:")


def test_too_few_observations_change_nothing(
    hall: Hall, frozen: time_machine.Traveller, manager: Client
) -> None:
    finished_services(hall, frozen, 9, 14)
    # a morning of services: the manager's session ended idle meanwhile; they sign in again
    login_staff(manager, StaffUser.objects.get(username="kanri"))
    query = f"?first={TUESDAY.isoformat()}&last={TUESDAY.isoformat()}"
    response = manager.post(f"/staff/queue/stats/sites/{hall.site.pk}/adopt/{query}", follow=True)
    assert any("実績が足りません" in str(m) for m in response.context["messages"])
    assert Procedure.objects.get(pk=hall.cert_renewal.pk).duration_minutes == 10
    assert not AuditEvent.objects.filter(action="procedure.duration_adopted").exists()


def test_an_official_sees_the_statistics_but_cannot_adopt(
    hall: Hall, frozen: time_machine.Traveller
) -> None:
    finished_services(hall, frozen, 10, 14)
    user = StaffUser.objects.create_user(
        "tanaka", role=Role.OFFICIAL, municipality=hall.site.municipality
    )
    user.sites.add(hall.site)
    client = Client()
    login_staff(client, user)
    page = client.get("/staff/queue/stats/", {"site": hall.site.pk}).content.decode()
    assert "電子証明書の更新" in page and "所要時間として採用" not in page
    assert client.post(f"/staff/queue/stats/sites/{hall.site.pk}/adopt/").status_code == 403
    assert Procedure.objects.get(pk=hall.cert_renewal.pk).duration_minutes == 10
