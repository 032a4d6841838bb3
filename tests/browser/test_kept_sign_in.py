"""tests/live_worlds.py `signed_in_world`: a staff sign-in made once, as part of a kept world, and
given to a later test's browser — which then opens the staff pages without signing in, while a
browser without those cookies is sent to the sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.staff.models import Role, StaffUser
from tests import live_worlds
from tests.frozen_clock import frozen_at
from tests.offices import factories as offices
from tests.personas import HOME_NAME

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOMENT = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
PASSWORD = "kept-sign-in-pw"


class Office:
    def __init__(self) -> None:
        self.builds = 0

    def __call__(self) -> str:
        self.builds += 1
        municipality = offices.municipality()
        user = StaffUser.objects.create_user(
            "kept_manager", password=PASSWORD, role=Role.MANAGER, municipality=municipality
        )
        TOTPDevice.objects.create(user=user, name="認証アプリ", confirmed=True)
        return municipality.name


def _phone(chromium: Any) -> Any:
    return chromium.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}).new_page()


def test_a_later_test_opens_the_staff_pages_with_the_kept_sign_in(
    live_server: Any, chromium: Any, request: pytest.FixtureRequest
) -> None:
    office = Office()
    key = ("test", request.node.name)
    staff = f"{live_server.url}/staff/"
    with frozen_at(MOMENT, tick=True):
        first = _phone(chromium)
        try:
            live_worlds.signed_in_world(
                first, live_server.url, key, office, username="kept_manager", password=PASSWORD
            )
            assert first.url == staff  # signed in through the pages
        finally:
            first.context.close()
        call_command("flush", verbosity=0, interactive=False)  # the first test's end

        later = _phone(chromium)
        try:
            name = live_worlds.signed_in_world(
                later, live_server.url, key, office, username="kept_manager", password=PASSWORD
            )
            later.goto(staff)
            assert later.url == staff, later.url  # not sent to the sign-in
            assert later.get_by_role("heading", level=1).count() == 1
        finally:
            later.context.close()

        stranger = _phone(chromium)  # the control: the same rows, no cookies of the sign-in
        try:
            stranger.goto(staff)
            assert stranger.url.startswith(f"{live_server.url}/staff/login/"), stranger.url
        finally:
            stranger.context.close()
    assert name == HOME_NAME
    assert office.builds == (1 if connection.vendor == "sqlite" else 2)  # kept on SQLite only
