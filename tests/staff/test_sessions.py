"""Staff sessions end after an idle time (default 30 minutes) and at an absolute maximum (default
12 hours), both configurable; the sign-in and sign-out are audit events."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django import forms
from django.http import QueryDict
from django.test import Client

from madoguchi.core.forms import KeptInput, RefusesIndividualNumbers, restoring
from madoguchi.core.models import AuditEvent
from madoguchi.reservations.models import Reservation
from madoguchi.staff.kept_input import MAX_KEPT_CHARACTERS, SESSION_KEY
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins.models import KioskDevice
from tests.conftest import login_staff
from tests.offices import factories as offices
from tests.resident_site import factories
from tests.resident_site.factories import VISIT_DAY, birth_fields

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


# --- what a form sent after the session ended held is given back (decision 0032) --------------

KEPT_MESSAGE = "ログアウトの前に入力された内容をフォームに戻しました。"


@pytest.fixture
def kiosks_page(db: None, frozen: Any) -> tuple[StaffUser, str]:
    """A manager and the page registering a site's entrance kiosks (its form posts to itself)."""
    owner = offices.municipality()
    manager = StaffUser.objects.create_user(
        "kanri", password="pw-for-tests", role=Role.MANAGER, municipality=owner
    )
    return manager, f"/staff/queue/sites/{offices.site(owner).pk}/kiosks/"


def _post_after_the_timeout(
    client: Client, frozen: Any, url: str, data: dict[str, Any], **extra: Any
) -> Any:
    frozen.shift(dt.timedelta(minutes=31))
    expired = client.post(url, data, HTTP_REFERER=f"http://testserver{url}", **extra)
    assert expired["Location"] == "/staff/login/?" + urlencode({"next": url})
    return expired


def _name_field(page: str) -> str:
    match = re.search(r'<input[^>]*name="name"[^>]*>', page)
    assert match is not None
    return match.group(0)


def test_what_the_form_held_is_given_back_on_the_page_after_signing_in_again(
    frozen: Any, kiosks_page: tuple[StaffUser, str]
) -> None:
    manager, url = kiosks_page
    client = Client()
    login_staff(client, manager)
    _post_after_the_timeout(client, frozen, url, {"name": "北口の受付台"})
    assert not KioskDevice.objects.exists()  # nothing was done on the clerk's behalf
    login_staff(client, manager)
    page = client.get(url).content.decode()
    assert 'value="北口の受付台"' in _name_field(page)
    assert KEPT_MESSAGE in page
    again = client.get(url).content.decode()  # given back once
    assert 'value="北口の受付台"' not in _name_field(again) and KEPT_MESSAGE not in again


def test_a_form_sent_before_the_timeout_gives_nothing_back(
    frozen: Any, kiosks_page: tuple[StaffUser, str]
) -> None:
    """The negative control: with the session alive the form is handled and nothing is kept."""
    manager, url = kiosks_page
    client = Client()
    login_staff(client, manager)
    frozen.shift(dt.timedelta(minutes=29))
    client.post(url, {"name": ""})
    assert KEPT_MESSAGE not in client.get(url).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"name": "北口 123456789018"}, id="individual-number"),
        pytest.param({"name": "x" * (MAX_KEPT_CHARACTERS + 1)}, id="too-long"),
        pytest.param({"password": "secret-pw", "next": "/staff/"}, id="nothing-to-keep"),
    ],
)
def test_what_may_not_be_kept_is_not_kept(
    frozen: Any, kiosks_page: tuple[StaffUser, str], data: dict[str, str]
) -> None:
    manager, url = kiosks_page
    client = Client()
    login_staff(client, manager)
    _post_after_the_timeout(client, frozen, url, data)
    assert SESSION_KEY not in client.session.get(SESSION_KEY, {}).get("fields", {})
    kept = client.session.get(SESSION_KEY)
    assert kept is None or "name" not in kept["fields"]
    login_staff(client, manager)
    page = client.get(url).content.decode()
    assert "123456789018" not in page and "secret-pw" not in page
    assert 'value="' not in _name_field(page)


def test_the_kept_fields_leave_out_passwords_codes_tokens_and_buttons(
    frozen: Any, kiosks_page: tuple[StaffUser, str]
) -> None:
    manager, url = kiosks_page
    client = Client()
    login_staff(client, manager)
    _post_after_the_timeout(
        client,
        frozen,
        url,
        {"name": "北口", "password1": "p", "otp_token": "123456", "_save": "1", "next": "/x/"},
    )
    assert client.session[SESSION_KEY]["fields"] == {"name": ["北口"]}


def test_another_members_sign_in_or_another_page_drops_the_kept_input(
    frozen: Any, kiosks_page: tuple[StaffUser, str]
) -> None:
    manager, url = kiosks_page
    other = StaffUser.objects.create_user(
        "kanri2", password="pw-for-tests", role=Role.MANAGER, municipality=manager.municipality
    )
    client = Client()
    login_staff(client, manager)
    _post_after_the_timeout(client, frozen, url, {"name": "北口の受付台"})
    login_staff(client, other)  # another clerk at the same browser
    assert "北口の受付台" not in client.get(url).content.decode()

    login_staff(client, manager)
    _post_after_the_timeout(client, frozen, url, {"name": "北口の受付台"})
    login_staff(client, manager)
    client.get("/staff/")  # somewhere else first
    assert "北口の受付台" not in client.get(url).content.decode()


def test_a_form_from_another_site_plants_nothing(
    frozen: Any, kiosks_page: tuple[StaffUser, str]
) -> None:
    """A cross-site POST carries the clerk's cookie but not a CSRF token that checks."""
    manager, url = kiosks_page
    client = Client(enforce_csrf_checks=True)
    login_staff(client, manager)
    _post_after_the_timeout(client, frozen, url, {"name": "偽の受付台"})
    assert SESSION_KEY not in client.session
    login_staff(client, manager)
    token = client.get(url).context["csrf_token"]
    _post_after_the_timeout(client, frozen, url, {"name": "北口", "csrfmiddlewaretoken": token})
    assert client.session[SESSION_KEY]["fields"] == {"name": ["北口"]}  # the control


def test_a_phone_booking_typed_before_the_timeout_is_found_again(
    frozen: Any, city: factories.City
) -> None:
    """The clerk's typing on the phone-booking page — names, birth date (three selects), phone,
    e-mail — comes back; the form's hidden procedure and day do not stop it."""
    clerk = StaffUser.objects.create_user(
        "madoguchi", password="x", role=Role.OFFICIAL, municipality=city.municipality
    )
    clerk.sites.set([city.site])
    page = f"/staff/sites/{city.site.pk}/phone-booking/?procedure=cert_renewal&day={VISIT_DAY}"
    client = Client()
    login_staff(client, clerk)
    frozen.shift(dt.timedelta(minutes=31))
    typed = {
        "procedure": "cert_renewal",
        "day": VISIT_DAY.isoformat(),
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        **birth_fields(dt.date(1984, 7, 9)),
        "phone": "090-1234-5678",
        "email": "hanako@example.jp",
    }
    client.post(
        f"/staff/sites/{city.site.pk}/phone-booking/",
        typed,
        HTTP_REFERER=f"http://testserver{page}",
    )
    login_staff(client, clerk)
    form = client.get(page).content.decode()
    assert KEPT_MESSAGE in form
    for value in ("ヤマダ", "ハナコ", "090-1234-5678", "hanako@example.jp"):
        assert f'value="{value}"' in form, value
    for select, chosen in (("year", "1984"), ("month", "7"), ("day", "9")):
        assert re.search(
            rf'id="id_birth_date_{select}".*?<option value="{chosen}" selected', form, re.S
        ), select
    assert not Reservation.objects.exists()


def test_a_family_phone_booking_typed_before_the_timeout_comes_back_with_every_member(
    frozen: Any, city: factories.City
) -> None:
    """A family on the phone, sent after the timeout: the first person's entries and each
    member's (a form of its own, under its prefix) come back, as many members as were added."""
    clerk = StaffUser.objects.create_user(
        "madoguchi", password="x", role=Role.OFFICIAL, municipality=city.municipality
    )
    clerk.sites.set([city.site])
    page = f"/staff/sites/{city.site.pk}/phone-booking/?procedure=cert_renewal&day={VISIT_DAY}"
    client = Client()
    login_staff(client, clerk)
    frozen.shift(dt.timedelta(minutes=31))
    typed = {
        "procedure": "cert_renewal",
        "day": VISIT_DAY.isoformat(),
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        **birth_fields(dt.date(1984, 7, 9)),
        "email": "hanako@example.jp",
        "members": "2",
        "member1-family_name_kana": "ヤマダ",
        "member1-given_name_kana": "タロウ",
        **birth_fields(dt.date(2015, 3, 3), prefix="member1-birth_date"),
        "member2-family_name_kana": "ヤマダ",
        "member2-given_name_kana": "ジロウ",
        **birth_fields(dt.date(2018, 4, 5), prefix="member2-birth_date"),
    }
    client.post(
        f"/staff/sites/{city.site.pk}/phone-booking/",
        typed,
        HTTP_REFERER=f"http://testserver{page}",
    )
    login_staff(client, clerk)
    form = client.get(page).content.decode()
    assert KEPT_MESSAGE in form
    for value in ("ハナコ", "hanako@example.jp", "タロウ", "ジロウ"):
        assert f'value="{value}"' in form, value
    assert 'name="members" value="2"' in form
    for prefix, chosen in (("id_member1-birth_date", "2015"), ("id_member2-birth_date", "2018")):
        assert re.search(rf'id="{prefix}_year".*?<option value="{chosen}" selected', form, re.S)
    assert not Reservation.objects.exists()
    # the control: the same page afterwards (nothing given back) has no member
    assert 'name="member1-family_name_kana"' not in client.get(page).content.decode()


class _Transfer(RefusesIndividualNumbers, forms.Form):
    counter = forms.CharField()
    procedure = forms.CharField()


class _Issue(RefusesIndividualNumbers, forms.Form):
    procedure = forms.CharField()
    language = forms.CharField()


def test_only_the_form_most_of_the_kept_inputs_belong_to_starts_from_them() -> None:
    """The calling page has an issue form and transfer forms sharing `procedure`: a transfer
    sent after the timeout refills the transfer form, not the issue form beside it."""
    restored: list[bool] = []
    kept = KeptInput(
        data=QueryDict("counter=2&procedure=card_pickup"), on_restored=lambda: restored.append(True)
    )
    with restoring(kept):
        issue, transfer = _Issue(), _Transfer()
    assert issue["procedure"].value() is None and issue.initial == {}
    assert (transfer["counter"].value(), transfer["procedure"].value()) == ("2", "card_pickup")
    assert restored == [True]  # one message for the page
    assert _Transfer()["counter"].value() is None  # outside the page's request: nothing
