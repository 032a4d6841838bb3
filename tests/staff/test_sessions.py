"""Staff sessions end after an idle time (default 30 minutes) and at an absolute maximum (default
12 hours), both configurable; the sign-in and sign-out are audit events."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from madoguchi.core.models import AuditEvent
from madoguchi.staff.models import StaffUser
from tests.conftest import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(member: StaffUser, frozen: Any) -> Client:
    signed_in = Client()
    login_staff(signed_in, member)
    return signed_in


def logouts() -> list[Any]:
    return list(AuditEvent.objects.filter(action="staff.logout").values_list("after", flat=True))


def test_the_session_ends_after_30_idle_minutes(client: Client, frozen: Any) -> None:
    frozen.shift(dt.timedelta(minutes=29))
    assert client.get("/staff/").status_code == 200
    frozen.shift(dt.timedelta(minutes=29))  # 58 minutes signed in, 29 idle
    assert client.get("/staff/").status_code == 200
    frozen.shift(dt.timedelta(minutes=30))
    expired = client.get("/staff/sites/1/?day=2026-06-10")
    assert expired["Location"] == "/staff/login/?next=%2Fstaff%2Fsites%2F1%2F%3Fday%3D2026-06-10"
    page = client.get(expired["Location"]).content.decode()
    assert "操作のない時間が続いたため、ログアウトしました。" in page
    assert client.get("/staff/")["Location"].startswith("/staff/login/")
    assert logouts() == [{"reason": "idle"}]


def test_the_session_ends_12_hours_after_the_sign_in_however_busy(
    client: Client, frozen: Any
) -> None:
    for _ in range(12 * 3 - 1):
        frozen.shift(dt.timedelta(minutes=20))
        assert client.get("/staff/").status_code == 200
    frozen.shift(dt.timedelta(minutes=20))
    expired = client.get("/staff/")
    assert expired["Location"].startswith("/staff/login/")
    assert "ログインの有効時間が過ぎたため" in client.get(expired["Location"]).content.decode()
    assert logouts() == [{"reason": "max_age"}]


def test_both_times_are_settings(member: StaffUser, frozen: Any, settings: Any) -> None:
    settings.MADOGUCHI_STAFF_IDLE_MINUTES = 5
    settings.MADOGUCHI_STAFF_SESSION_MAX_HOURS = 1
    client = Client()
    login_staff(client, member)
    assert client.session.get_expiry_age() == 3600  # the cookie ends with the session
    frozen.shift(dt.timedelta(minutes=4))
    assert client.get("/staff/").status_code == 200
    frozen.shift(dt.timedelta(minutes=6))
    assert client.get("/staff/")["Location"].startswith("/staff/login/")
    login_staff(client, member)
    for _ in range(14):
        frozen.shift(dt.timedelta(minutes=4))
        assert client.get("/staff/").status_code == 200
    frozen.shift(dt.timedelta(minutes=4))  # 64 minutes after the sign-in
    assert client.get("/staff/")["Location"].startswith("/staff/login/")


def test_login_and_logout_are_audited(member: StaffUser, frozen: Any) -> None:
    client = Client()
    login_staff(client, member)
    client.post("/staff/logout/")
    assert client.get("/staff/")["Location"].startswith("/staff/login/")
    events = AuditEvent.objects.filter(subject_id=str(member.pk)).order_by("id")
    assert [(e.action, e.actor) for e in events] == [
        ("staff.login", f"staff:{member.pk}:hanako"),
        ("staff.logout", f"staff:{member.pk}:hanako"),
    ]
    assert events[1].after == {"reason": "user"}


@pytest.mark.parametrize(
    ("referer", "back_to"),
    [
        (
            "http://testserver/staff/issuance/cards/7/?tab=history",
            "/staff/issuance/cards/7/?tab=history",
        ),
        ("", "/staff/"),  # no referer: the staff home
        ("https://evil.example/staff/x/", "/staff/"),  # another site's page is never a target
        ("http://testserver/queue/", "/staff/"),  # nor a page outside the staff zone
    ],
)
def test_a_form_sent_after_the_session_ended_signs_in_again_back_to_the_page_it_came_from(
    client: Client, frozen: Any, member: StaffUser, referer: str, back_to: str
) -> None:
    """The form's own address answers only a POST: after the sign-in, a GET of it would be a
    bare 405. The way back is the page the form was sent from."""
    frozen.shift(dt.timedelta(minutes=31))
    headers = {"HTTP_REFERER": referer} if referer else {}
    expired = client.post("/staff/issuance/cards/7/act/", {"action": "inspect"}, **headers)
    assert expired.status_code == 302
    assert expired["Location"] == "/staff/login/?" + urlencode({"next": back_to})
    page = client.get(expired["Location"]).content.decode()
    assert "操作のない時間が続いたため、ログアウトしました。" in page
    login_staff(client, member)
    assert client.get(back_to).status_code != 405
