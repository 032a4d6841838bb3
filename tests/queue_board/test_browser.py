"""In Chromium, with JavaScript on and off: a resident takes a walk-in ticket, switches the
page's language and cancels the ticket — each form really submitted to a live server — and every
page passes axe-core (WCAG 2.1 A/AA).

These are the forms that answered 403 in every browser while the queue pages sent
`Referrer-Policy: no-referrer` (the browser then sends `Origin: null` with a POST; decision 0013).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.core.audit import Actor
from madoguchi.walkins.models import QueueTicket, TicketStatus
from madoguchi.walkins.services import call_next_ticket, issue_ticket
from tests import live_worlds
from tests.conftest import accessible, axe_violations
from tests.frozen_clock import frozen_at
from tests.walkins.conftest import Hall, jst, make_hall

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_hall(live_server: Any) -> Iterator[Hall]:
    with frozen_at(jst(10), tick=True):
        yield live_worlds.committed((__name__, "open_hall"), make_hall)


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def phone(request: pytest.FixtureRequest, chromium: Any) -> Iterator[Any]:
    """A phone-sized page, with JavaScript on or off."""
    context = chromium.new_context(
        java_script_enabled=request.param, locale="ja-JP", viewport={"width": 390, "height": 844}
    )
    yield context.new_page()
    context.close()


def test_a_resident_takes_a_ticket_switches_language_and_cancels(
    live_server: Any, phone: Any, open_hall: Hall
) -> None:
    page = phone
    page.goto(f"{live_server.url}/queue/sites/{open_hall.site.pk}/take/")
    accessible(page)
    page.get_by_label("電子証明書の更新").check()
    page.get_by_role("button", name="整理券を受け取る").click()

    ticket = QueueTicket.objects.get()
    assert page.url == f"{live_server.url}/queue/tickets/{ticket.token}/"
    assert page.locator(".ticket-number").inner_text() == str(ticket.number)
    assert ticket.procedure == open_hall.cert_renewal
    assert ticket.status == TicketStatus.WAITING
    accessible(page)

    # The language switch on the ticket page, then back: the holder stays on their ticket.
    page.select_option("#language-select", "en")
    page.get_by_role("button", name="切り替え").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.startswith(f"{live_server.url}/queue/tickets/{ticket.token}/")
    accessible(page)
    page.select_option("#language-select", "ja")
    page.get_by_role("button", name="Change").click()
    assert page.locator("html").get_attribute("lang") == "ja"

    page.get_by_role("button", name="この整理券を取り消す").click()
    assert page.get_by_text("整理券を取り消しました。").is_visible()
    accessible(page)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CANCELLED


def test_the_ticket_page_and_the_board_have_no_axe_violations(page: Any, live_server: Any) -> None:
    with frozen_at(jst(10), tick=True):
        hall = make_hall()
        tickets = [
            issue_ticket(site=hall.site, procedure=hall.cert_renewal, actor=Actor.resident())
            for _ in range(4)
        ]
        call_next_ticket(site=hall.site, counter=hall.counter_1, actor=Actor("staff:1:x"))

        page.goto(f"{live_server.url}/queue/tickets/{tickets[3].token}/")
        assert page.get_by_role("heading", level=1).inner_text().startswith("受付番号")
        assert "あなたの前に" in page.content()
        assert axe_violations(page) == []

        # The wall display keeps itself current through display.js, without a meta refresh.
        page.goto(f"{live_server.url}/queue/sites/{hall.site.pk}/")
        assert page.locator("td.number").first.inner_text() == "1"
        assert axe_violations(page) == []
