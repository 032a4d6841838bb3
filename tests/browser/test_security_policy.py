"""In Chromium, under the strict Content-Security-Policy: the main resident pages load with no
policy violation, and the booking form refuses an Individual Number in any spelling with the
Japanese message — with JavaScript on and off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.reservations.models import Reservation
from tests.browser.booking_pages import june_city
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def city(live_server: Any) -> Iterator[factories.City]:
    with frozen_at(factories.NOW, tick=True):
        yield june_city()


@pytest.fixture
def watched(chromium: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page that records every policy violation, from the console and from the DOM event."""
    context = chromium.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    context.add_init_script(LISTEN)  # runs before the page's own scripts, outside the policy
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page, console
    context.close()


def _violations(page: Any, console: list[str]) -> list[str]:
    return [*page.evaluate("() => window.__cspViolations"), *console]


def test_the_main_resident_pages_load_without_a_policy_violation(
    live_server: Any, city: factories.City, watched: tuple[Any, list[str]]
) -> None:
    page, console = watched
    visited = []
    for path in ("/", "/book/", f"/book/card_pickup/?notice={NOTICE}", "/lookup/", "/queue/"):
        response = page.goto(live_server.url + path)
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        visited.append(path)
        assert _violations(page, console) == [], path
    page.goto(f"{live_server.url}/book/card_pickup/?notice={NOTICE}")
    page.get_by_role("link", name="みどり本庁舎で予約する").click()
    assert _violations(page, console) == [], page.url  # month view
    page.locator("table.month a").first.click()
    assert _violations(page, console) == [], page.url  # the day's times
    page.locator("a.time-choice").first.click()
    page.wait_for_load_state("load")  # the stylesheet is in before its effect is read
    assert _violations(page, console) == [], page.url  # who is coming
    assert page.locator("link[rel=stylesheet]").count() >= 1
    # the stylesheet applied: the policy let the site's own CSS in
    assert page.evaluate(
        "() => getComputedStyle(document.querySelector('.skip-link')).position"
    ) in ("absolute", "fixed")


def test_negative_control_an_inline_script_is_reported(
    live_server: Any, city: factories.City, watched: tuple[Any, list[str]]
) -> None:
    page, console = watched
    page.goto(live_server.url + "/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }"
    )
    # The report reaches the page as a queued event: wait for it, not for a fixed time.
    page.wait_for_function("() => window.__cspViolations.some(v => v.startsWith('script-src'))")
    assert page.evaluate("() => window.__ran") is None
    assert any("script-src" in v for v in _violations(page, console))


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_the_booking_form_refuses_an_individual_number_in_chromium(
    live_server: Any, chromium: Any, city: factories.City, javascript: bool
) -> None:
    context = chromium.new_context(
        java_script_enabled=javascript, locale="ja-JP", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        slot = city.site.slots.filter(procedure=city.renewal).order_by("starts_at").first()
        assert slot is not None
        page.goto(f"{live_server.url}/book/cert_renewal/slot/{slot.pk}/")
        page.fill("#id_family_name_kana", "ヤマダ")
        page.fill("#id_given_name_kana", "ハナコ")
        page.fill("#id_email", "1234.5678.9018@example.jp")
        page.select_option("#id_birth_date_year", str(BIRTH.year))
        page.select_option("#id_birth_date_month", str(BIRTH.month))
        page.select_option("#id_birth_date_day", str(BIRTH.day))
        page.get_by_role("button", name="確認画面へ進む").click()
        assert "個人番号（マイナンバー）と思われる12桁の番号" in page.content()
        assert page.input_value("#id_family_name_kana") == "ヤマダ"  # nothing typed is lost
        assert not Reservation.objects.exists()
    finally:
        context.close()
