"""The queue pages' second of caching: a call reaches the display, the display page and the
phones within `DISPLAY_CACHE_SECONDS`, and a page is served from the cache until then."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.core.audit import Actor
from madoguchi.queue_board import views
from madoguchi.walkins.models import QueueTicket
from madoguchi.walkins.services import call_next_ticket, issue_ticket
from tests.walkins.conftest import Hall

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def cached(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setattr(views, "DISPLAY_CACHE_SECONDS", 1)
    # as deployed: the request's municipality (offices.tenancy) from the reference cache
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60


def issue(hall: Hall) -> QueueTicket:
    return issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())


def calling(client: Client, hall: Hall) -> list[str]:
    data = json.loads(client.get(f"/queue/sites/{hall.site.pk}/board.json").content)
    return [c["number"] for c in data["calling"]]


def test_a_call_shows_on_the_display_within_the_cache_time(
    client: Client, hall: Hall, frozen: time_machine.Traveller, cached: None
) -> None:
    ticket = issue(hall)
    assert calling(client, hall) == []
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=Actor.resident())
    with CaptureQueriesContext(connection) as queries:
        assert calling(client, hall) == []  # the second before: from the cache
    assert len(queries) == 0
    frozen.shift(dt.timedelta(seconds=1))
    assert calling(client, hall) == [ticket.label]
    display = client.get(f"/queue/sites/{hall.site.pk}/").content.decode()
    assert ticket.label in display and hall.counter_1.name in display


def test_a_phone_sees_its_call_within_the_cache_time_and_its_own_cancellation_at_once(
    client: Client, hall: Hall, frozen: time_machine.Traveller, cached: None
) -> None:
    first, second = issue(hall), issue(hall)
    page = f"/queue/tickets/{first.token}/"
    assert "次にお呼びします" in client.get(page).content.decode()
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=Actor.resident())
    with CaptureQueriesContext(connection) as queries:
        assert "次にお呼びします" in client.get(page).content.decode()  # the snapshot
    assert len(queries) == 0
    frozen.shift(dt.timedelta(seconds=1))
    assert "お呼び出し中です" in client.get(page).content.decode()
    other = f"/queue/tickets/{second.token}/"
    assert "次にお呼びします" in client.get(other).content.decode()
    cancelled = client.post(f"/queue/tickets/{second.token}/cancel/", follow=True)
    assert "この整理券は取り消されました。" in cancelled.content.decode()  # read, not cached


def test_switched_off_a_call_shows_at_once(client: Client, hall: Hall) -> None:
    """The suite's default (no cache) is the negative control."""
    ticket = issue(hall)
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=Actor.resident())
    assert calling(client, hall) == [ticket.label]


def test_phones_in_the_same_state_share_a_rendered_page_but_each_sees_only_its_own_ticket(
    client: Client, hall: Hall, cached: None
) -> None:
    issue(hall)  # first in line
    second, third = issue(hall), issue(hall)  # same shape: waiting, not first
    pages = {}
    for ticket in (second, third):
        with CaptureQueriesContext(connection) as queries:
            pages[ticket.token] = client.get(f"/queue/tickets/{ticket.token}/").content.decode()
        if ticket is third:
            assert len(queries) == 0  # the snapshot and the shared page: nothing read
    own, other = pages[third.token], pages[second.token]
    assert third.token in own and second.token not in own
    assert f'value="/queue/tickets/{third.token}/"' in own  # the language switch's way back
    assert third.label in own and 'あなたの前に <strong class="big">2</strong> 人' in own
    assert 'あなたの前に <strong class="big">1</strong> 人' in other
    assert "tktMark" not in own + other and "pagecache" not in own + other
    tokens = {
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        for page in pages.values()
    }
    assert len(tokens) == 2  # a CSRF token of its own per answer


def test_the_cancel_form_of_a_shared_page_passes_the_csrf_check(hall: Hall, cached: None) -> None:
    issue(hall)
    ticket = issue(hall)
    phone = Client(enforce_csrf_checks=True)
    page = phone.get(f"/queue/tickets/{ticket.token}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    cancelled = phone.post(
        f"/queue/tickets/{ticket.token}/cancel/", {"csrfmiddlewaretoken": token.group(1)}
    )
    assert cancelled.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "cancelled"
