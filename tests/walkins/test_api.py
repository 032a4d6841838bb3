"""The walk-in endpoints answer exactly the shapes docs/contract.md promises."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client

from madoguchi.core.audit import Actor
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.services import call_next_ticket, issue_ticket
from tests.frozen_clock import HALL_NOW
from tests.walkins.conftest import Hall, jst

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(HALL_NOW),
    pytest.mark.usefixtures("frozen"),
]


@pytest.fixture(autouse=True)
def no_rate_limits(settings: Any) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {}


def take(client: Client, hall: Hall, procedure: str = "cert_renewal") -> Any:
    return client.post(
        f"/api/v1/sites/{hall.site.pk}/tickets",
        {"procedure": procedure},
        content_type="application/json",
    )


def test_taking_a_ticket_answers_201_with_number_position_wait_and_status_url(
    client: Client, hall: Hall
) -> None:
    take(client, hall)
    response = take(client, hall)
    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"number", "position", "estimated_wait_minutes", "status_url"}
    assert (body["number"], body["position"], body["estimated_wait_minutes"]) == (2, 2, 0)
    token = QueueTicket.objects.get(number=2).token
    assert body["status_url"] == f"http://testserver/api/v1/tickets/{token}"
    assert body["status_page_url"] == f"http://testserver/queue/tickets/{token}/"


def test_taking_a_ticket_reads_the_sites_calendar_once(client: Client, hall: Hall) -> None:
    """The ticket's check, its wait and the answer's position and wait come from one read of
    the site's sessions, closures and special openings (the answer read them again)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    take(client, hall)
    with CaptureQueriesContext(connection) as queries:
        response = take(client, hall)
    assert response.status_code == 201 and response.json()["position"] == 2
    sqls = [q["sql"] for q in queries.captured_queries]
    for table in ("offices_openingsession", "offices_closure", "offices_specialopening"):
        assert sum(f'FROM "{table}"' in sql for sql in sqls) == 1, (table, sqls)


def test_taking_a_ticket_reads_the_queue_once(client: Client, hall: Hall) -> None:
    """The answer's position and wait are the ones the ticket was issued with (the queue read
    with the new ticket in it); the answer read the queue again before. They are still what
    the ticket's own view gives, and the wait is the one stored on the ticket."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from madoguchi.walkins.selectors import ticket_view

    for procedure in ("card_pickup", "cert_renewal", "card_pickup"):
        take(client, hall, procedure)
    with CaptureQueriesContext(connection) as queries:
        response = take(client, hall)
    body = response.json()
    sqls = [q["sql"] for q in queries.captured_queries]
    for read in ('FROM "walkins_queuesettings"', '"walkins_queueticket"."finished_at" AS'):
        assert sum(read in sql for sql in sqls) == 1, (read, sqls)
    ticket = QueueTicket.objects.get(number=4)
    view = ticket_view(ticket)
    assert (body["position"], body["estimated_wait_minutes"]) == (4, 20)
    assert (view.position, view.estimated_wait_minutes, ticket.estimated_wait_minutes) == (
        4,
        20,
        20,
    )


def test_the_status_url_answers_the_tickets_position_and_wait(client: Client, hall: Hall) -> None:
    for _ in range(4):
        take(client, hall)
    status_url = take(client, hall).json()["status_url"]
    body = client.get(status_url).json()
    assert body["number"] == 5
    assert body["status"] == "waiting"
    assert body["position"] == 5
    assert body["estimated_wait_minutes"] == 20  # 4 × 10 min over 2 counters
    assert body["counter"] is None


def test_a_called_ticket_tells_where_to_go(client: Client, hall: Hall) -> None:
    status_url = take(client, hall).json()["status_url"]
    call_next_ticket(site=hall.site, counter=hall.counter_2, actor=Actor("staff:1:x"))
    body = client.get(status_url).json()
    assert (body["status"], body["counter"], body["position"]) == ("called", "2番窓口", None)
    assert body["serving"] == [1]


def test_an_unknown_token_is_a_uniform_404(client: Client, hall: Hall) -> None:
    response = client.get("/api/v1/tickets/" + "A" * 24)
    assert response.status_code == 404
    assert response.json()["error"] == "ticket_not_found"


def test_the_queue_answers_waiting_serving_and_the_wait(client: Client, hall: Hall) -> None:
    for _ in range(3):
        issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=Actor.resident())
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=Actor("staff:1:x"))
    response = client.get(f"/api/v1/sites/{hall.site.pk}/queue")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("waiting", "serving", "estimated_wait_minutes")} == {
        "waiting": 2,
        "serving": [1],
        # counter 1 busy 20, counter 2 free: no. 2 → c2 (0→20); the newcomer after no. 3 at 20.
        "estimated_wait_minutes": 20,
    }


def test_tickets_outside_todays_hours_are_refused_with_409(
    client: Client, hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(18))
    response = take(client, hall)
    assert response.status_code == 409
    assert response.json()["error"] == "site_closed"
    assert "受付" in response.json()["message"]


@pytest.mark.parametrize("procedure", ["passport", "card_application"])
def test_a_procedure_the_site_does_not_offer_is_422(
    client: Client, hall: Hall, procedure: str
) -> None:
    response = take(client, hall, procedure)
    assert response.status_code == 422
    assert response.json()["error"] == "procedure_not_offered"


def test_an_unknown_site_is_404_in_the_error_shape(client: Client, hall: Hall) -> None:
    for response in (
        client.get("/api/v1/sites/999999/queue"),
        client.post(
            "/api/v1/sites/999999/tickets", {"procedure": "x"}, content_type="application/json"
        ),
    ):
        assert response.status_code == 404
        assert set(response.json()) >= {"error", "message"}


def test_taking_tickets_is_rate_limited_per_client(
    client: Client, hall: Hall, settings: Any
) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"ip_write": (2, 60)}
    assert [take(client, hall).status_code for _ in range(3)] == [201, 201, 429]
    assert QueueTicket.objects.count() == 2


def test_the_endpoints_are_in_the_openapi_document(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/sites/{site_id}/tickets", "/api/v1/sites/{site_id}/queue"} <= set(paths)
    assert "/api/v1/tickets/{token}" in paths


def test_numbers_carry_their_prefixes_as_on_the_pages(client: Client, hall: Hall) -> None:
    from madoguchi.walkins.models import QueuePrefix

    QueuePrefix.objects.create(site=hall.site, procedure=hall.card_pickup, prefix="A")
    QueuePrefix.objects.create(site=hall.site, procedure=hall.cert_renewal, prefix="B")
    created = take(client, hall, "card_pickup").json()
    assert (created["number"], created["label"]) == (1, "A1")
    renewal = take(client, hall, "cert_renewal").json()
    assert (renewal["number"], renewal["label"]) == (1, "B1")
    call_next_ticket(site=hall.site, counter=hall.counter_2, actor=Actor("staff:1:x"))

    called = client.get(created["status_url"]).json()
    assert (called["label"], called["status"], called["serving_labels"]) == ("A1", "called", ["A1"])
    waiting = client.get(renewal["status_url"]).json()
    assert (waiting["label"], waiting["serving"], waiting["serving_labels"]) == ("B1", [1], ["A1"])
    queue = client.get(f"/api/v1/sites/{hall.site.pk}/queue").json()
    assert (queue["serving"], queue["serving_labels"]) == ([1], ["A1"])
    page = client.get(f"/queue/tickets/{QueueTicket.objects.get(prefix='B').token}/")
    assert "A1" in page.content.decode()  # the same label the page shows


def test_the_queue_gives_the_wait_per_procedure_by_the_counters_that_take_it(
    client: Client, hall: Hall
) -> None:
    hall.counter_2.has_terminal = False
    hall.counter_2.save()
    hall.cert_renewal.needs_terminal = False
    hall.cert_renewal.save()
    for _ in range(2):
        issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=Actor.resident())
    body = client.get(f"/api/v1/sites/{hall.site.pk}/queue").json()
    # Two card pick-ups (20 min) for the one counter with a terminal; the other counter is idle.
    assert body["estimated_wait_by_procedure"] == {"card_pickup": 40, "cert_renewal": 0}
    assert body["estimated_wait_minutes"] == 40
