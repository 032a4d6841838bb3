"""The waiting-room display, taking a ticket, and the ticket's phone page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from madoguchi.core.audit import Actor
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.services import call_next_ticket, issue_ticket, start_serving
from tests.offices.factories import translations_for
from tests.walkins.conftest import Hall, jst

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

CLERK = Actor("staff:1:clerk")


def issue(hall: Hall, n: int) -> list[QueueTicket]:
    return [
        issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
        for _ in range(n)
    ]


def text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


def test_the_display_shows_called_numbers_with_counters_and_the_next_numbers(
    client: Client, hall: Hall
) -> None:
    issue(hall, 14)
    call_next_ticket(site=hall.site, counter=hall.counter_2, actor=CLERK)
    response = client.get(f"/queue/sites/{hall.site.pk}/")
    assert response.status_code == 200
    page = text(response.content)
    assert "1 2番窓口 へお越しください please come" in page
    assert "Next 2 3 4 5 6 7 8 9 10 11 " in page  # the next ten
    assert "お待ちの人数 Waiting 13 人" in page
    assert "10:00 現在" in page


def test_the_display_updates_through_a_static_script_not_a_meta_refresh(
    client: Client, hall: Hall
) -> None:
    content = client.get(f"/queue/sites/{hall.site.pk}/").content.decode()
    assert 'http-equiv="refresh"' not in content
    assert '<script src="/static/queue_board/display.js" defer></script>' in content
    assert "<script>" not in content  # no inline script
    assert f'data-json-url="/queue/sites/{hall.site.pk}/board.json"' in content
    assert f'<a href="/queue/sites/{hall.site.pk}/">最新の状態に更新' in content  # without JS


def test_the_display_json_has_numbers_and_counters_and_no_personal_data(
    client: Client, hall: Hall
) -> None:
    issue(hall, 3)
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    response = client.get(f"/queue/sites/{hall.site.pk}/board.json")
    data = response.json()
    assert response["Cache-Control"] == "no-store"
    assert [(c["number"], c["counter"], c["status"]) for c in data["calling"]] == [
        ("1", "1番窓口", "called")
    ]
    assert (data["next"], data["waiting"], data["estimated_wait_minutes"]) == (["2", "3"], 2, 10)
    tokens = set(QueueTicket.objects.values_list("token", flat=True))
    assert not any(token in response.content.decode() for token in tokens)
    assert set(data) == {
        "site",
        "updated_at",
        "updated_hm",
        "calling",
        "next",
        "waiting",
        "estimated_wait_minutes",
        "opens_hm",
        "wait_after_opening_minutes",
        "appointments_first",
    }


def test_an_empty_display_says_so(client: Client, hall: Hall) -> None:
    page = client.get(f"/queue/sites/{hall.site.pk}/").content.decode()
    assert '<p class="empty" data-calling-empty>ただいまお呼び出し中の番号はありません。' in page


def test_an_unknown_site_has_no_board(client: Client, hall: Hall) -> None:
    assert client.get("/queue/sites/999999/").status_code == 404


def test_taking_a_ticket_on_the_phone_leads_to_its_own_page(client: Client, hall: Hall) -> None:
    issue(hall, 2)
    response = client.post(f"/queue/sites/{hall.site.pk}/take/", {"procedure": hall.card_pickup.pk})
    ticket = QueueTicket.objects.get(number=3)
    assert response.status_code == 302
    assert response["Location"] == f"/queue/tickets/{ticket.token}/"
    assert ticket.procedure == hall.card_pickup


def queue_reads(sql: list[str]) -> dict[str, int]:
    """How often `sql` read each part of a site's queue (`walkins.selectors`): its settings,
    the finished services its estimates learn from, its active counters."""
    return {
        "settings": sum('FROM "walkins_queuesettings"' in s for s in sql),
        "observed": sum('"walkins_queueticket"."finished_at" AS' in s for s in sql),
        "counters": sum('FROM "offices_counter"' in s for s in sql),
    }


def test_a_ticket_taken_on_the_phone_reads_the_queue_once(client: Client, hall: Hall) -> None:
    """The new ticket's wait reads the queue with the ticket in it; the waits the form shows
    beside each procedure are read only for a page drawn (the queue was read for them first,
    then again for the ticket). The wait stored is still the one the queue gives the ticket."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from madoguchi.walkins.selectors import ticket_view

    issue(hall, 2)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            f"/queue/sites/{hall.site.pk}/take/", {"procedure": hall.cert_renewal.pk}
        )
    assert response.status_code == 302
    sql = [q["sql"] for q in captured.captured_queries]
    assert queue_reads(sql) == {"settings": 1, "observed": 1, "counters": 1}, sql
    ticket = QueueTicket.objects.get(number=3)
    assert ticket.estimated_wait_minutes == ticket_view(ticket).estimated_wait_minutes == 10
    # a page drawn reads the queue for the form's waits
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/queue/sites/{hall.site.pk}/take/")
    assert "電子証明書の更新（待ち時間の目安：約10分）" in text(page.content)
    sql = [q["sql"] for q in captured.captured_queries]
    assert queue_reads(sql) == {"settings": 1, "observed": 1, "counters": 1}, sql


def test_the_display_reads_its_site_once(client: Client, hall: Hall) -> None:
    """The display page reads the site for itself and hands it to the data it shows (built
    at most once a second: read again there before)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    issue(hall, 1)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/queue/sites/{hall.site.pk}/")
    assert response.status_code == 200 and "お待ちの人数 Waiting 1 人" in text(response.content)
    sql = [q["sql"] for q in captured.captured_queries]
    assert sum('FROM "offices_site"' in s for s in sql) == 1, sql


def test_taking_a_ticket_after_hours_explains_why(
    client: Client, hall: Hall, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(jst(17, 30))
    response = client.post(
        f"/queue/sites/{hall.site.pk}/take/", {"procedure": hall.cert_renewal.pk}
    )
    assert response.status_code == 422
    assert "本日の受付は終了" in response.content.decode()
    assert not QueueTicket.objects.exists()


def test_the_ticket_page_shows_the_position_and_estimated_wait(client: Client, hall: Hall) -> None:
    *_, mine = issue(hall, 5)
    response = client.get(f"/queue/tickets/{mine.token}/")
    page = text(response.content)
    assert "受付番号 5" in page
    assert "あなたの前に 4 人お待ちです" in page
    assert "待ち時間の目安：約 20 分" in page
    assert response["Referrer-Policy"] == "same-origin"
    assert b'http-equiv="refresh"' not in response.content


def test_the_ticket_page_reads_its_sites_municipality_with_the_ticket(
    client: Client, hall: Hall
) -> None:
    """The wait's calendar reads the site's municipality (its year-end and Sunday closures):
    it comes with the ticket instead of read after it by id. The page still shows the wait."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    *_, mine = issue(hall, 3)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/queue/tickets/{mine.token}/")
    assert "待ち時間の目安：約 10 分" in text(response.content)
    sql = [q["sql"] for q in captured.captured_queries]
    by_id = [s for s in sql if 'FROM "offices_municipality" WHERE "offices_municipality"."id"' in s]
    assert by_id == [], sql


def test_the_ticket_page_reloads_itself_only_when_asked(client: Client, hall: Hall) -> None:
    (mine,) = issue(hall, 1)
    page = client.get(f"/queue/tickets/{mine.token}/?auto=1").content
    assert b'<meta http-equiv="refresh" content="30">' in page
    assert "自動更新を止める" in page.decode()


def test_a_called_ticket_page_says_which_counter_to_go_to(client: Client, hall: Hall) -> None:
    (mine,) = issue(hall, 1)
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    page = text(client.get(f"/queue/tickets/{mine.token}/").content)
    assert "お呼び出し中です。1番窓口へお越しください。" in page
    assert "取り消す" not in page


def test_a_called_ticket_page_names_the_counter_and_site_in_the_pages_language(
    hall: Hall,
) -> None:
    """Counter and site names entered in the admin per language (`offices.Translatable`)."""
    translations_for(hall.counter_1, name={"en": "Counter 1"})
    translations_for(hall.site, name={"en": "City Hall"})
    (mine,) = issue(hall, 1)
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(english.get(f"/queue/tickets/{mine.token}/").content)
    assert "Counter 1" in page and "City Hall" in page
    assert "1番窓口" not in page
    korean = Client()  # nothing entered in Korean: the Japanese name
    korean.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    assert "1番窓口" in text(korean.get(f"/queue/tickets/{mine.token}/").content)


def test_the_holder_can_cancel_a_waiting_ticket(client: Client, hall: Hall) -> None:
    (mine,) = issue(hall, 1)
    response = client.post(f"/queue/tickets/{mine.token}/cancel/", follow=True)
    mine.refresh_from_db()
    assert mine.status == TicketStatus.CANCELLED
    assert "整理券を取り消しました" in response.content.decode()


def test_a_ticket_cancelled_or_served_already_is_not_cancelled_and_says_why(
    client: Client, hall: Hall
) -> None:
    """A second tap (or the back button after the first) said 「整理券は「取消」のため、
    「取消」にはできません。」 — the status table's words, not the holder's."""
    mine, served = issue(hall, 2)
    client.post(f"/queue/tickets/{mine.token}/cancel/")
    again = text(client.post(f"/queue/tickets/{mine.token}/cancel/", follow=True).content)
    assert "この整理券はすでに取り消されています。" in again
    assert "にはできません" not in again
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    again = text(english.post(f"/queue/tickets/{mine.token}/cancel/", follow=True).content)
    assert "This ticket has already been cancelled." in again
    call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    start_serving(ticket=served, actor=CLERK)
    late = text(client.post(f"/queue/tickets/{served.token}/cancel/", follow=True).content)
    assert "この整理券は「対応中」のため、取り消せません。" in late
    served.refresh_from_db()
    assert served.status == TicketStatus.SERVING


def test_an_unknown_ticket_page_is_404(client: Client, hall: Hall) -> None:
    assert client.get("/queue/tickets/not-a-real-token-at-all/").status_code == 404


def test_the_index_links_every_sites_board(client: Client, hall: Hall) -> None:
    page = client.get("/queue/").content.decode()
    assert f'href="/queue/sites/{hall.site.pk}/"' in page


def test_taking_tickets_on_the_web_is_rate_limited(
    client: Client, hall: Hall, settings: object
) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {"ip_write": (1, 60)}  # type: ignore[attr-defined]  # pytest-django settings fixture
    url = f"/queue/sites/{hall.site.pk}/take/"
    assert client.post(url, {"procedure": hall.cert_renewal.pk}).status_code == 302
    client.cookies.clear()  # another phone behind the same address
    refused = client.post(url, {"procedure": hall.cert_renewal.pk})
    assert refused.status_code == 422
    assert "ほど待ってから" in refused.content.decode()
    assert QueueTicket.objects.count() == 1


def test_the_ticket_form_gives_each_procedure_its_own_wait(client: Client, hall: Hall) -> None:
    hall.counter_2.has_terminal = False
    hall.counter_2.save()
    hall.cert_renewal.needs_terminal = False
    hall.cert_renewal.save()
    for _ in range(2):
        issue_ticket(site=hall.site, procedure=hall.card_pickup, actor=Actor.resident())
    page = text(client.get(f"/queue/sites/{hall.site.pk}/take/").content)
    # Card work waits for the one counter with a terminal; a renewal goes to the idle one.
    assert "カードの受け取り（待ち時間の目安：約40分）" in page
    assert "電子証明書の更新（待ち時間の目安：約0分）" in page


@pytest.mark.parametrize("shared", [False, True], ids=["own-page", "shared-page"])
@pytest.mark.parametrize("then", ["waiting", "called", "serving"])
def test_a_ticket_left_open_overnight_no_longer_sends_anyone_to_a_counter(
    client: Client,
    hall: Hall,
    frozen: time_machine.Traveller,
    then: str,
    shared: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After midnight, before the nightly close-queue-days ends yesterday's tickets, a ticket
    called yesterday and never answered said お呼び出し中です。1番窓口へお越しください — the
    holder could come to the counter today on yesterday's number. Both the page rendered for
    the holder and the one shared by every ticket in the same state (production)."""
    from madoguchi.queue_board import views

    monkeypatch.setattr(views, "DISPLAY_CACHE_SECONDS", 1 if shared else 0)
    (mine,) = issue(hall, 1)
    if then != "waiting":
        call_next_ticket(site=hall.site, counter=hall.counter_1, actor=CLERK)
    if then == "serving":
        mine.refresh_from_db()
        start_serving(ticket=mine, actor=CLERK)
    mine.refresh_from_db()
    assert mine.status == then
    frozen.move_to(jst(0, 1, day=mine.business_day + dt.timedelta(days=1)))
    page = text(client.get(f"/queue/tickets/{mine.token}/").content)
    assert "を過ぎたため使えません" in page
    assert "へお越しください" not in page and "で対応中です" not in page
    assert "取り消す" not in page
