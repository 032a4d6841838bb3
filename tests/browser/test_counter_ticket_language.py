"""A ticket issued at the counter in the resident's language, in Chromium against a live
server: the clerk chooses the language on the calling page's issue form (none chosen by
default), the printed part of the slip is in it while the clerk's page around it stays Japanese,
and the phone that scans the slip opens the ticket's page in it. Every page axe-clean."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import QueueTicket, TicketChannel
from tests.conftest import accessible, sign_in_browser
from tests.frozen_clock import frozen_at
from tests.walkins.conftest import Hall, jst, make_hall

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLED_TO_IN_VIETNAMESE = "Khi số của bạn được gọi"


@pytest.fixture
def open_hall(live_server: Any) -> Iterator[Hall]:
    with frozen_at(jst(10), tick=True):
        hall = make_hall()
        user = StaffUser.objects.create_user(
            "official",
            password="pw-for-tests",
            role=Role.OFFICIAL,
            municipality=hall.site.municipality,
        )
        user.sites.set([hall.site])
        yield hall


def test_a_ticket_issued_at_the_counter_in_vietnamese_prints_and_opens_in_vietnamese(
    live_server: Any, page: Any, chromium: Any, open_hall: Hall
) -> None:
    sign_in_browser(page, live_server.url, StaffUser.objects.get(username="official"))
    page.goto(f"{live_server.url}/staff/queue/sites/{open_hall.site.pk}/")
    language = page.get_by_label("ご本人の言語")
    assert language.input_value() == ""  # none chosen unless the clerk chooses
    accessible(page)

    page.select_option("#id_procedure", str(open_hall.card_pickup.pk))
    language.select_option("vi")
    page.get_by_role("button", name="発行して受付票を開く").click()

    ticket = QueueTicket.objects.get()
    assert (ticket.language, ticket.channel) == ("vi", TicketChannel.STAFF)
    slip = page.locator("section.slip")
    assert slip.get_attribute("lang") == "vi"
    assert CALLED_TO_IN_VIETNAMESE in slip.inner_text()
    assert page.get_by_text("ブラウザの印刷機能で印刷してお渡しください。").is_visible()
    accessible(page)
    status_page = page.locator("section.slip .url").inner_text()

    # The resident's phone (set to Japanese) scans the slip: the ticket's page is Vietnamese.
    phone = chromium.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    try:
        mobile = phone.new_page()
        mobile.goto(live_server.url + urlsplit(status_page).path)
        assert mobile.locator("html").get_attribute("lang") == "vi"
        assert ticket.label in mobile.content()
        accessible(mobile)
    finally:
        phone.close()
