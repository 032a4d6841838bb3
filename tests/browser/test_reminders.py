"""Reminder letters in Chromium: an official sends the due reminders from the card dashboard,
downloads the letters, and reads the destruction list; zero axe issues."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from madoguchi.core import clock
from madoguchi.issuance.models import BatchKind, CardStatus, NoticeBatch
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import axe_violations, sign_in_browser
from tests.frozen_clock import CARDS_NOW, frozen_at
from tests.issuance import factories
from tests.issuance.test_notices import slots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_official_sends_due_reminders_from_the_dashboard(page: Any, live_server: Any) -> None:
    with frozen_at(CARDS_NOW, tick=True):
        owner = factories.municipality()
        slots(owner, seats=5)
        long_ago = clock.now() - dt.timedelta(days=70)
        for _ in range(2):
            factories.card(owner, status=CardStatus.NOTICE_ISSUED, notice_issued_at=long_ago)
        official = StaffUser.objects.create_user(
            "official", password="x", role=Role.OFFICIAL, municipality=owner
        )
        sign_in_browser(page, live_server.url, official)
        page.goto(f"{live_server.url}/staff/issuance/")
        assert axe_violations(page) == []
        page.get_by_role("button", name="再通知 2通を発行する").click()
        assert page.get_by_text("再通知 2通を発行しました。").is_visible()
        batch = NoticeBatch.objects.get(kind=BatchKind.REMINDER)
        assert owner.cards.filter(status=CardStatus.REMINDED, reminder_batch=batch).count() == 2
        with page.expect_download() as download:
            page.locator(f"a[href$='/notices/{batch.pk}/notices.pdf']").click()
        assert download.value.suggested_filename == f"notices-{batch.pk}.pdf"
        page.get_by_role("link", name="廃棄予定のカードと廃棄の記録").click()
        assert page.get_by_role("heading", level=1).inner_text().startswith("廃棄予定のカード")
        assert axe_violations(page) == []
