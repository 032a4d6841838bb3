"""The renewal page in Chromium, JavaScript on and off: the expiry-date form is submitted and
answers; zero axe issues; printable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import live_worlds
from tests.conftest import axe_violations
from tests.frozen_clock import frozen_at
from tests.resident_site import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(live_server: Any) -> Iterator[factories.City]:
    with frozen_at(factories.NOW, tick=True):
        yield live_worlds.committed((__name__, "city"), _build_city)


def _build_city() -> factories.City:
    return factories.city(saturday_hours=True)


@pytest.mark.parametrize("javascript", [True, False])
def test_a_resident_finds_when_to_renew(
    live_server: Any, chromium: Any, city: factories.City, javascript: bool
) -> None:
    context = chromium.new_context(
        java_script_enabled=javascript, locale="ja-JP", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        page.get_by_role("link", name="カード・電子証明書の更新の時期と手続き").click()
        if javascript:
            assert axe_violations(page) == []
        page.fill("#expires", "2026-09-30")
        page.get_by_role("button", name="更新できる日を調べる").click()
        answer = page.get_by_role("status").inner_text()
        assert answer.startswith("有効期限が2026年9月30日") and "2026年7月1日" in answer
        if javascript:
            assert axe_violations(page) == []
        if javascript:  # printing is CSS alone: checked once, on the JavaScript-on page
            # (with scripts off, Playwright's print-media emulation did not take effect here)
            page.emulate_media(media="print")
            assert not page.locator("form.renew-date").is_visible()
            assert page.get_by_role("heading", level=1).is_visible()
    finally:
        context.close()
