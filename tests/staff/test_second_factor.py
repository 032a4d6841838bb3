"""The second factor (django-otp): enrolment, sign-in with the authenticator app, backup codes
that work once, the administrator's reset — each step audited."""

from __future__ import annotations

import datetime as dt
import re
from base64 import b32decode
from binascii import hexlify
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.core.models import AuditEvent
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import current_totp_code, login_staff
from tests.staff.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db


def actions(user: StaffUser) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject_type="staff.StaffUser", subject_id=str(user.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def code_for_secret(secret: str) -> str:
    """What an authenticator app shows for the secret printed on the enrolment page."""
    raw = secret.replace(" ", "")
    key = b32decode(raw + "=" * (-len(raw) % 8))
    return f"{TOTP(key).token():06d}"


def test_first_sign_in_enrols_an_authenticator_app(member: StaffUser, frozen: Any) -> None:
    client = Client()
    response = sign_in(client, "hanako", PASSWORD)
    assert response["Location"] == "/staff/otp/enrol/?next=%2Fstaff%2F"
    assert client.get("/staff/").status_code == 302  # not yet a full sign-in

    page = client.get(response["Location"])
    body = page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") and "no-store" in page["Cache-Control"]
    secret = re.search(r'<code id="otp-secret">([A-Z2-7 ]+)</code>', body)
    assert secret is not None
    uri = re.search(r'<code id="otp-uri">([^<]+)</code>', body)
    assert uri is not None and uri.group(1).startswith("otpauth://totp/madoguchi%3Ahanako?")
    assert "<svg" in body and 'class="qr"' in body

    wrong = client.post("/staff/otp/enrol/", {"code": "000000", "next": "/staff/"})
    assert "コードが違います" in wrong.content.decode()
    assert not TOTPDevice.objects.get(user=member).confirmed

    frozen.shift(dt.timedelta(seconds=2))  # django-otp's throttle: 1 s after one failure
    done = client.post("/staff/otp/enrol/", {"code": code_for_secret(secret.group(1))})
    assert done.status_code == 302
    assert done["Location"].startswith("/staff/otp/backup-codes/")
    device = TOTPDevice.objects.get(user=member)
    assert device.confirmed
    assert hexlify(device.bin_key).decode() == device.key
    assert client.get("/staff/").status_code == 200
    assert actions(member) == ["staff.login", "staff.otp.enrolled"]


def test_sign_in_with_the_app_code(member: StaffUser, enrolled: TOTPDevice, frozen: Any) -> None:
    client = Client()
    response = sign_in(client, "hanako", PASSWORD)
    assert response["Location"] == "/staff/otp/?next=%2Fstaff%2F"
    before_key = client.session.session_key

    wrong = client.post("/staff/otp/", {"code": "123456", "next": "/staff/"})
    assert wrong.status_code == 200
    assert "コードが違います" in wrong.content.decode()
    assert client.get("/staff/").status_code == 302

    frozen.shift(dt.timedelta(seconds=2))  # django-otp's throttle: 1 s after one failure
    right = client.post("/staff/otp/", {"code": current_totp_code(enrolled), "next": "/staff/"})
    assert right["Location"] == "/staff/"
    assert client.session.session_key != before_key  # a new session id after the sign-in
    assert client.get("/staff/").status_code == 200
    assert actions(member) == ["staff.login", "staff.otp.failed", "staff.otp.verified"]


def test_an_app_code_signs_in_once(member: StaffUser, enrolled: TOTPDevice, frozen: Any) -> None:
    first, second = Client(), Client()
    sign_in(first, "hanako", PASSWORD)
    sign_in(second, "hanako", PASSWORD)
    code = current_totp_code(enrolled)
    assert first.post("/staff/otp/", {"code": code})["Location"] == "/staff/"
    replay = second.post("/staff/otp/", {"code": code})
    assert replay.status_code == 200 and "コードが違います" in replay.content.decode()


def test_wrong_codes_in_a_row_make_the_member_wait(
    member: StaffUser, enrolled: TOTPDevice, frozen: Any
) -> None:
    client = Client()
    sign_in(client, "hanako", PASSWORD)
    for _ in range(3):
        client.post("/staff/otp/", {"code": "999999"})
        frozen.shift(dt.timedelta(seconds=0.5))
    waiting = client.post("/staff/otp/", {"code": current_totp_code(enrolled)})
    assert "秒待ってから入力してください" in waiting.content.decode()
    assert client.get("/staff/").status_code == 302


def test_backup_codes_are_shown_once_and_each_works_once(
    member: StaffUser, enrolled: TOTPDevice, frozen: Any
) -> None:
    client = Client()
    login_staff(client, member)
    page = client.get("/staff/otp/backup-codes/")
    assert "残り 0 個" in page.content.decode()
    made = client.post("/staff/otp/backup-codes/", {"next": "/staff/"})
    codes = re.findall(r"<li><code>([a-z2-7]{4} [a-z2-7]{4})</code></li>", made.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "no-store" in made["Cache-Control"]
    assert "残り 10 個" in client.get("/staff/otp/backup-codes/").content.decode()
    assert codes[0] not in client.get("/staff/otp/backup-codes/").content.decode()

    def sign_in_with(code: str) -> Any:
        other = Client()
        sign_in(other, "hanako", PASSWORD)
        return other, other.post("/staff/otp/", {"code": code, "next": "/staff/"})

    other, used = sign_in_with(codes[0].upper())  # as typed from paper: case and space
    assert used["Location"] == "/staff/"
    home = other.get("/staff/")
    assert home.status_code == 200
    assert "予備コードでログインしました（残り 9 個）" in home.content.decode()
    frozen.shift(dt.timedelta(seconds=5))
    _, again = sign_in_with(codes[0])
    assert again.status_code == 200 and "コードが違います" in again.content.decode()
    frozen.shift(dt.timedelta(seconds=5))
    _, next_one = sign_in_with(codes[1])
    assert next_one["Location"] == "/staff/"
    assert StaticToken.objects.filter(device__user=member).count() == 8

    events = AuditEvent.objects.filter(action="staff.otp.backup_code_used").order_by("id")
    assert [e.after["remaining"] for e in events] == [9, 8]
    assert all(c.replace(" ", "") not in str(e.after) for e in events for c in codes)

    # New codes replace the old ones.
    fresh = client.post("/staff/otp/backup-codes/")
    assert "以前の予備コードは使えなくなりました" in fresh.content.decode()
    assert not StaticToken.objects.filter(token=codes[2].replace(" ", "")).exists()


def test_an_administrator_resets_a_lost_second_factor_audited(
    member: StaffUser, enrolled: TOTPDevice, frozen: Any
) -> None:
    StaticToken.objects.create(
        device=StaticDevice.objects.create(user=member, name="予備コード"), token="abcdefgh"
    )
    lost = Client()
    login_staff(lost, member)
    admin = StaffUser.objects.create_superuser("admin", password=PASSWORD, role=Role.ADMINISTRATOR)
    admin_client = Client()
    login_staff(admin_client, admin)

    response = admin_client.post(
        "/admin/staff/staffuser/",
        {"action": "reset_second_factor", "_selected_action": [member.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not StaticDevice.objects.filter(user=member).exists()
    event = AuditEvent.objects.get(action="staff.otp.reset")
    assert event.actor == f"staff:{admin.pk}:admin"
    assert event.subject_id == str(member.pk)
    assert event.before == {"totp_devices": 1, "backup_code_sets": 1}

    # The member's session lost its verification; the next sign-in enrols anew.
    assert lost.get("/staff/")["Location"].startswith("/staff/otp/enrol/")
    assert sign_in(Client(), "hanako", PASSWORD)["Location"].startswith("/staff/otp/enrol/")


def test_the_admin_has_no_login_form_and_no_device_pages_of_its_own(
    member: StaffUser, frozen: Any
) -> None:
    assert Client().get("/admin/login/")["Location"].startswith("/staff/login/")
    admin = StaffUser.objects.create_superuser("admin", password=PASSWORD, role=Role.ADMINISTRATOR)
    client = Client()
    login_staff(client, admin)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404
