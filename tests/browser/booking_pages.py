"""The walk through the residents' booking pages that many browser tests share: from a
procedure's list of sites, the site's 「…で予約する」 link, the first bookable day of its month,
the day's first free time — the booking form; then, filled in, the confirmation and the booking.
And the town those tests book in (`june_city`), built once per process for all of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from tests import live_worlds
from tests.resident_site import factories

Step = Callable[[Any], None]
"""Something done on a page (a check such as `tests.conftest.accessible`, or filling a form)."""


def june_city(birth: dt.date = factories.BIRTH) -> factories.City:
    """`factories.city_with_june_slots(birth)`, committed for a live-server test: one build per
    process for every test that asks (`live_worlds.committed`), so the same rows and keys — a
    page that one test checked is the same page, in the same state, in another."""
    return live_worlds.committed(
        ("city_with_june_slots", birth), lambda: factories.city_with_june_slots(birth)
    )


def _nothing(page: Any) -> None:
    return None


def book_through_pages(
    page: Any, site: str, *, fill: Step | None = None, each: Step = _nothing
) -> None:
    """From the list of sites open on `page` to `site`'s booking form, with `each(page)` on the
    month, the day and the form. With `fill`: the form filled by `fill(page)` and sent, then
    booked (`send_booking`)."""
    page.get_by_role("link", name=f"{site}で予約する").click()
    each(page)
    page.locator("table.month a").first.click()
    each(page)
    page.locator("a.time-choice").first.click()
    each(page)
    if fill is not None:
        fill(page)
        send_booking(page, each=each)


def send_booking(page: Any, *, each: Step = _nothing) -> None:
    """The filled-in booking form sent to its confirmation, and the booking made there, with
    `each(page)` on the confirmation and on the reservation."""
    page.get_by_role("button", name="確認画面へ進む").click()
    each(page)
    page.get_by_role("button", name="この内容で予約する").click()
    each(page)
