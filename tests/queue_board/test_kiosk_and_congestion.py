"""Taking a ticket: what a closed or not-yet-open site says before the form, one ticket a
minute per phone, the entrance kiosk, and the cached congestion page (混雑状況)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.core.audit import Actor
from madoguchi.offices.models import Procedure
from madoguchi.queue_board import views
from madoguchi.walkins.kiosks import COOKIE_NAME as KIOSK_COOKIE
from madoguchi.walkins.models import QueueTicket, TicketChannel
from madoguchi.walkins.services import call_next_ticket, issue_ticket
from tests.offices.factories import translated, translations_for
from tests.walkins.conftest import Hall, jst, make_hall
from tests.walkins.factories import kiosk_cookie

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

SATURDAY = dt.date(2025, 6, 14)


def text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


def take(hall: Hall) -> str:
    return f"/queue/sites/{hall.site.pk}/take/"


# --- before the form ----------------------------------------------------------------------------


def test_before_opening_the_page_says_when_the_site_opens_and_when_the_estimate_starts(
    client: Client, hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(7))
    content = client.get(take(hall)).content.decode()
    page = text(content.encode())
    assert "受付開始は 08:30 です。整理券は今お取りいただけます。" in page
    assert "待ち時間の目安は、受付開始（08:30）から約0分です。" in page
    assert "約90分" not in page and "約 90 分" not in page  # not the time until opening
    assert 'name="procedure"' in content  # tickets can be taken before opening


def test_a_site_closed_today_says_so_and_shows_no_form(
    client: Client, hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(10, day=SATURDAY))
    content = client.get(take(hall)).content.decode()
    assert "本庁舎は本日、受付をしていません。" in content
    assert 'name="procedure"' not in content


def test_after_hours_the_page_says_the_day_is_over_and_shows_no_form(
    client: Client, hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(17, 30))
    content = client.get(take(hall)).content.decode()
    assert "本庁舎の本日の受付は終了しました（17:15まで）。" in content
    assert 'name="procedure"' not in content


# --- bad input ----------------------------------------------------------------------------------


def test_a_second_ticket_from_one_phone_within_a_minute_is_refused(
    client: Client, hall: Hall, frozen: time_machine.Traveller
) -> None:
    first = client.post(take(hall), {"procedure": hall.cert_renewal.pk})
    assert first.status_code == 302
    again = client.post(take(hall), {"procedure": hall.card_pickup.pk})
    assert again.status_code == 422
    content = again.content.decode()
    assert "1分以内に続けて整理券を受け取ることはできません。" in content
    (ticket,) = QueueTicket.objects.all()
    assert f'href="/queue/tickets/{ticket.token}/"' in content  # the one they have
    frozen.shift(dt.timedelta(seconds=61))
    assert client.post(take(hall), {"procedure": hall.card_pickup.pk}).status_code == 302
    assert QueueTicket.objects.count() == 2


def test_a_forged_cooldown_cookie_is_ignored(client: Client, hall: Hall) -> None:
    client.cookies[views.PHONE_COOLDOWN_COOKIE] = "made-up"
    assert client.post(take(hall), {"procedure": hall.cert_renewal.pk}).status_code == 302


@pytest.mark.parametrize("where", ["take", "kiosk"])
def test_a_procedure_the_site_does_not_offer_is_refused_and_nothing_is_created(
    client: Client, hall: Hall, where: str
) -> None:
    other = Procedure.objects.create(
        code="card_application", name="カードの申請", duration_minutes=15
    )
    url = take(hall) if where == "take" else f"/queue/sites/{hall.site.pk}/kiosk/"
    client.cookies[KIOSK_COOKIE] = kiosk_cookie(hall.site)
    response = client.post(url, {"procedure": other.pk})
    assert response.status_code == 422
    assert "この窓口では扱っていないご用件です。" in response.content.decode()
    assert not QueueTicket.objects.exists()


def test_a_ticket_at_a_closed_site_is_refused_and_nothing_is_created(
    client: Client, hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(10, day=SATURDAY))
    cookie = kiosk_cookie(hall.site)
    for url in (take(hall), f"/queue/sites/{hall.site.pk}/kiosk/"):
        client.cookies.clear()
        client.cookies[KIOSK_COOKIE] = cookie
        response = client.post(url, {"procedure": hall.cert_renewal.pk})
        assert response.status_code == 422
        assert "本日は受付をしていません" in response.content.decode()
    assert not QueueTicket.objects.exists()


# --- the kiosk ----------------------------------------------------------------------------------


def test_the_kiosk_issues_one_ticket_per_tap_and_shows_it_with_a_qr_code(
    client: Client, hall: Hall
) -> None:
    client.cookies[KIOSK_COOKIE] = kiosk_cookie(hall.site)
    start = client.get(f"/queue/sites/{hall.site.pk}/kiosk/").content.decode()
    assert f'<button type="submit" name="procedure" value="{hall.card_pickup.pk}"' in start
    tickets = []
    for _ in range(3):  # one tablet, many visitors: no per-device limit
        response = client.post(
            f"/queue/sites/{hall.site.pk}/kiosk/", {"procedure": hall.card_pickup.pk}
        )
        assert response.status_code == 302
        tickets.append(QueueTicket.objects.latest("pk"))
    assert [t.number for t in tickets] == [1, 2, 3]
    assert {t.channel for t in tickets} == {TicketChannel.KIOSK}
    shown = client.get(response["Location"])
    content = shown.content.decode()
    assert response["Location"] == f"/queue/kiosk/tickets/{tickets[-1].token}/"
    assert '<span class="ticket-number" id="kiosk-number">3</span>' in content
    assert '<svg width="' in content and 'class="qr"><title>待ち状況のページ（QRコード）' in content
    assert f'data-return-url="/queue/sites/{hall.site.pk}/kiosk/"' in content
    assert f'href="/queue/sites/{hall.site.pk}/kiosk/"' in content  # back without JS
    assert '<script src="/static/queue_board/kiosk.js" defer></script>' in content
    assert (shown["Referrer-Policy"], shown["Cache-Control"]) == ("same-origin", "no-store")


# --- congestion ---------------------------------------------------------------------------------


def test_the_congestion_page_lists_open_sites_with_waits_hours_and_tickets(
    client: Client, hall: Hall
) -> None:
    branch = make_hall("北支所")
    for _ in range(3):
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=Actor("staff:1:x"))
    page = text(client.get("/queue/").content)
    start = page.index("本庁舎 受付時間")
    main = page[start : start + 160]
    assert "受付時間（本日） 08:30〜17:15" in main
    assert "お待ちの人数 2 人" in main
    assert "待ち時間の目安 約 10 分" in main
    assert "当日の整理券 発行中" in main
    assert f"/queue/sites/{branch.site.pk}/take/" in client.get("/queue/").content.decode()


def test_the_congestion_page_lists_closed_sites_apart(
    client: Client, hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(18))
    page = text(client.get("/queue/").content)
    assert "現在、整理券を発行している窓口はありません。" in page
    assert "本庁舎：本日の受付は終了しました" in page


def test_the_home_page_links_the_congestion_page(client: Client, hall: Hall) -> None:
    assert 'href="/queue/"' in client.get("/").content.decode()


def test_the_congestion_page_is_served_from_the_cache_without_database_queries(
    client: Client, hall: Hall, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setattr(views, "CONGESTION_CACHE_SECONDS", 5)
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60  # as deployed (offices.tenancy)
    make_hall("北支所")
    client.get("/queue/")  # fills the cache
    issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
    with CaptureQueriesContext(connection) as queries:
        cached = text(client.get("/queue/").content)
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert "お待ちの人数 0 人" in cached  # still the cached numbers


def test_the_congestion_cache_expires_after_a_few_seconds(
    client: Client, hall: Hall, monkeypatch: pytest.MonkeyPatch, frozen: time_machine.Traveller
) -> None:
    monkeypatch.setattr(views, "CONGESTION_CACHE_SECONDS", 5)
    client.get("/queue/")
    issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
    frozen.shift(dt.timedelta(seconds=6))
    assert "お待ちの人数 1 人" in text(client.get("/queue/").content)


@pytest.mark.parametrize("first", ["ja", "ko"])
def test_the_cached_congestion_page_names_sites_in_each_visitors_language(
    hall: Hall, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    """The cached rows hold names read in the language of the request that filled them: one
    set per language (a Japanese visitor filled the cache and an English one read 本庁舎)."""
    monkeypatch.setattr(views, "CONGESTION_CACHE_SECONDS", 5)
    translations_for(hall.site, name="Main office")
    pages = {}
    for language in (first, "en"):
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        pages[language] = client.get("/queue/").content.decode()
    assert f"<h2>{hall.site.name}</h2>" not in pages["en"]
    assert f"<h2>{translated('Main office', 'en')}</h2>" in pages["en"]
    assert f"<h2>{hall.site.localized('name', first)}</h2>" in pages[first]


def test_the_display_json_is_built_once_a_second_however_many_screens_poll(
    client: Client, hall: Hall, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setattr(views, "DISPLAY_CACHE_SECONDS", 1)
    settings.MADOGUCHI_REFERENCE_CACHE_SECONDS = 60  # as deployed (offices.tenancy)
    url = f"/queue/sites/{hall.site.pk}/board.json"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            client.get(url)
    # Neither the site nor the queue is read again; an unknown site is still a 404.
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert client.get("/queue/sites/999999/board.json").status_code == 404


# --- the site's calendar, read once a request ---------------------------------------------------

CALENDAR_TABLES = ("offices_openingsession", "offices_closure", "offices_specialopening")


def calendar_reads(queries: CaptureQueriesContext) -> dict[str, int]:
    """How many times each of the site calendar's three tables was read."""
    sqls = [q["sql"] for q in queries.captured_queries]
    return {table: sum(f'FROM "{table}"' in sql for sql in sqls) for table in CALENDAR_TABLES}


ONCE = dict.fromkeys(CALENDAR_TABLES, 1)


@pytest.mark.parametrize("where", ["take", "kiosk"])
def test_a_ticket_request_reads_the_sites_calendar_once(
    client: Client, hall: Hall, frozen: time_machine.Traveller, where: str
) -> None:
    """The page's hours (intake), its waits (the queue's planned counters) and the ticket's own
    check and wait are made from one read of the site's sessions, closures and special openings
    — the page shown, a ticket taken, and a ticket refused after hours (the check read it, then
    the page with the refusal)."""
    url = take(hall) if where == "take" else f"/queue/sites/{hall.site.pk}/kiosk/"
    cookie = kiosk_cookie(hall.site)

    def request(method: str) -> tuple[int, dict[str, int]]:
        client.cookies.clear()  # no phone cooldown: each POST reaches the ticket's own check
        client.cookies[KIOSK_COOKIE] = cookie
        with CaptureQueriesContext(connection) as queries:
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, {"procedure": hall.cert_renewal.pk})
        return response.status_code, calendar_reads(queries)

    assert request("GET") == (200, ONCE)
    assert request("POST") == (302, ONCE)
    assert QueueTicket.objects.count() == 1
    frozen.move_to(jst(17, 30))  # after the last opening period: refused by issue_ticket
    assert request("POST") == (422, ONCE)
    assert QueueTicket.objects.count() == 1


def test_the_congestion_page_reads_each_sites_calendar_once(client: Client, hall: Hall) -> None:
    """A site's hours and its wait on the congestion page come from one read of its calendar."""
    make_hall("北支所")
    with CaptureQueriesContext(connection) as queries:
        page = text(client.get("/queue/").content)
    assert "北支所 受付時間" in page and "本庁舎 受付時間" in page
    assert calendar_reads(queries) == dict.fromkeys(CALENDAR_TABLES, 2)  # two sites
