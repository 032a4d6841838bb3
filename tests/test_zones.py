"""`MADOGUCHI_ZONE` decides which URL sets a deployment serves (internet zone vs internal one)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import clear_url_caches

import madoguchi.urls
from madoguchi.reservations import mail
from tests.resident_site import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone(settings: Any) -> Iterator[Any]:
    def serve(name: str) -> None:
        settings.ZONE = name
        importlib.reload(madoguchi.urls)
        clear_url_caches()

    yield serve
    settings.ZONE = "all"
    importlib.reload(madoguchi.urls)
    clear_url_caches()


def _status(path: str) -> int:
    return Client().get(path).status_code


def test_the_public_zone_serves_no_staff_pages(zone: Any) -> None:
    zone("public")
    assert _status("/") == 200
    assert _status("/api/v1/procedures") == 200
    assert _status("/queue/") == 200
    assert _status("/staff/login/") == 404
    assert _status("/admin/login/") == 404


def test_the_staff_zone_serves_no_public_pages(zone: Any) -> None:
    zone("staff")
    assert _status("/staff/login/") == 200
    admin_login = Client().get("/admin/login/")  # the admin signs in through the staff login
    assert admin_login.status_code == 302
    assert admin_login["Location"].startswith("/staff/login/")
    assert _status("/book/") == 404
    assert _status("/api/v1/procedures") == 404


def test_one_deployment_serves_both_by_default(zone: Any) -> None:
    zone("all")
    assert _status("/") == 200
    assert _status("/staff/login/") == 200


def test_mail_sent_by_the_staff_zone_links_to_the_public_site(zone: Any, settings: Any) -> None:
    """Phone bookings and the reminder job run on the staff deployment, whose URLconf has no
    resident pages: their mails must still link to the public site."""
    settings.PUBLIC_BASE_URL = "https://yoyaku.example.lg.jp/"
    zone("staff")
    body = mail.confirmation_message(factories.visit(), "hanako@example.jp").body
    assert "https://yoyaku.example.lg.jp/lookup/?code=ACDEFGHJKL" in body
    assert "https://yoyaku.example.lg.jp/lookup/?code=ACDEFGHJKL" in (
        mail.reminder_message(factories.visit(), "hanako@example.jp").body
    )
