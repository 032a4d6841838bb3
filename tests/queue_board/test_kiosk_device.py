"""The kiosk needs a device key: only a tablet a manager registered (and activated with the
one-time link) issues tickets from the kiosk page; a phone that finds the address is refused
in Japanese with nothing created, and cannot get around the one-ticket-a-minute rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.test import Client

from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.core.models import AuditEvent
from madoguchi.staff.models import Role, StaffUser
from madoguchi.walkins import kiosks
from madoguchi.walkins.kiosks import COOKIE_NAME, activate_kiosk, register_kiosk, revoke_kiosk
from madoguchi.walkins.models import KioskDevice, QueueTicket
from tests.conftest import login_staff
from tests.walkins.conftest import Hall, make_hall
from tests.walkins.factories import kiosk_cookie

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

MANAGER = Actor("staff:1:manager")
REFUSAL = "この画面は、庁舎の入口に置かれた登録済みの整理券発行機でだけ使えます。"


@pytest.fixture(autouse=True)
def no_rate_limits(settings: Any) -> None:
    settings.MADOGUCHI_RATE_LIMITS = {}


def kiosk_url(hall: Hall) -> str:
    return f"/queue/sites/{hall.site.pk}/kiosk/"


def tap(client: Client, hall: Hall) -> Any:
    return client.post(kiosk_url(hall), {"procedure": hall.cert_renewal.pk})


def assert_refused(response: Any, hall: Hall) -> None:
    assert response.status_code == 403
    content = response.content.decode()
    assert REFUSAL in content
    assert f'href="/queue/sites/{hall.site.pk}/take/"' in content  # where a phone goes instead
    assert not QueueTicket.objects.exists()


def test_a_device_without_a_key_is_refused_and_nothing_is_issued(
    client: Client, hall: Hall
) -> None:
    assert_refused(client.get(kiosk_url(hall)), hall)
    for _ in range(3):  # a phone tapping again and again gets nothing
        assert_refused(tap(client, hall), hall)


@pytest.mark.parametrize(
    "cookie",
    [
        "made-up",
        signing.dumps({"id": 1, "key": "guessed"}, salt=kiosks.COOKIE_SALT),
        signing.dumps({"id": 1, "key": "x"}, salt="another-salt"),
        signing.dumps(["not", "a", "dict"], salt=kiosks.COOKIE_SALT),
    ],
    ids=["garbage", "guessed-key", "other-salt", "wrong-shape"],
)
def test_a_forged_key_is_refused(client: Client, hall: Hall, cookie: str) -> None:
    kiosk_cookie(hall.site)  # a real kiosk exists (device 1)
    client.cookies[COOKIE_NAME] = cookie
    assert_refused(tap(client, hall), hall)


def test_a_registered_tablet_issues_a_ticket_per_tap(client: Client, hall: Hall) -> None:
    client.cookies[COOKIE_NAME] = kiosk_cookie(hall.site)
    assert client.get(kiosk_url(hall)).status_code == 200
    for _ in range(3):
        assert tap(client, hall).status_code == 302
    assert QueueTicket.objects.count() == 3
    issued = AuditEvent.objects.filter(action="ticket.issued").values_list("actor", flat=True)
    device = KioskDevice.objects.get()
    assert set(issued) == {f"resident:kiosk:{device.pk}"}  # which kiosk issued it


def test_another_sites_kiosk_is_refused(client: Client, hall: Hall) -> None:
    branch = make_hall("北支所")
    client.cookies[COOKIE_NAME] = kiosk_cookie(branch.site)
    assert_refused(tap(client, hall), hall)


def test_a_revoked_kiosk_is_refused_at_once(client: Client, hall: Hall) -> None:
    client.cookies[COOKIE_NAME] = kiosk_cookie(hall.site)
    assert tap(client, hall).status_code == 302
    revoke_kiosk(device=KioskDevice.objects.get(), actor=MANAGER)
    response = tap(client, hall)
    assert response.status_code == 403
    assert QueueTicket.objects.count() == 1


def test_an_activation_link_works_once(client: Client, hall: Hall) -> None:
    _device, token = register_kiosk(site=hall.site, name="正面入口", actor=MANAGER)
    link = f"/queue/kiosk/activate/{token}/"
    page = client.get(link)
    assert page.status_code == 200
    assert "この端末を発行機にする" in page.content.decode()
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == kiosk_url(hall)
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert tap(client, hall).status_code == 302  # the cookie it set works

    other = Client()
    used = other.post(link)
    assert used.status_code == 410
    assert "この登録用リンクは使えません" in used.content.decode()
    assert COOKIE_NAME not in used.cookies
    with pytest.raises(DomainError) as refused:
        activate_kiosk(token=token, actor=Actor.resident("kiosk-activation"))
    assert refused.value.code == "kiosk_activation_invalid"


def test_an_expired_or_revoked_activation_link_is_refused(
    client: Client, hall: Hall, frozen: time_machine.Traveller
) -> None:
    _device, late = register_kiosk(site=hall.site, name="正面入口", actor=MANAGER)
    device, revoked = register_kiosk(site=hall.site, name="裏口", actor=MANAGER)
    revoke_kiosk(device=device, actor=MANAGER)
    frozen.shift(dt.timedelta(minutes=kiosks.ACTIVATION_MINUTES + 1))
    for token in (late, revoked):
        response = client.post(f"/queue/kiosk/activate/{token}/")
        assert response.status_code == 410
        assert COOKIE_NAME not in response.cookies
    assert not KioskDevice.objects.exclude(key_hash="").exists()


def test_registration_activation_and_revocation_are_audited_without_secrets(hall: Hall) -> None:
    device, token = register_kiosk(site=hall.site, name="正面入口", actor=MANAGER)
    _device, cookie = activate_kiosk(token=token, actor=Actor.resident("kiosk-activation"))
    revoke_kiosk(device=device, actor=MANAGER)
    events = AuditEvent.objects.filter(subject_type="walkins.KioskDevice").order_by("pk")
    assert [e.action for e in events] == ["kiosk.registered", "kiosk.activated", "kiosk.revoked"]
    key = signing.loads(cookie, salt=kiosks.COOKIE_SALT)["key"]
    for event in events:
        text = repr(event.before) + repr(event.after)
        assert token not in text and key not in text
    stored = KioskDevice.objects.get()
    assert key not in stored.key_hash and token not in stored.activation_hash


def test_a_name_in_use_is_refused_with_a_message(hall: Hall) -> None:
    register_kiosk(site=hall.site, name="正面入口", actor=MANAGER)
    with pytest.raises(DomainError) as refused:
        register_kiosk(site=hall.site, name="正面入口", actor=MANAGER)
    assert "すでに登録されています" in refused.value.message
    assert KioskDevice.objects.count() == 1


def test_a_manager_registers_a_kiosk_and_gets_a_one_time_link(client: Client, hall: Hall) -> None:
    manager = StaffUser.objects.create_user(
        "kanri", password="pw-for-tests", role=Role.MANAGER, municipality=hall.site.municipality
    )
    login_staff(client, manager)
    url = f"/staff/queue/sites/{hall.site.pk}/kiosks/"
    response = client.post(url, {"name": "正面入口"})
    assert response.status_code == 200
    content = response.content.decode()
    device = KioskDevice.objects.get()
    assert "/queue/kiosk/activate/" in content and 'class="qr"' in content
    assert device.activated_at is None
    refused = client.post(url, {"name": ""})
    assert refused.status_code == 422
    assert "発行機の名前を入力してください" in refused.content.decode()


def test_the_kiosk_reloads_itself_by_get_even_after_a_refused_tap(
    client: Client, hall: Hall
) -> None:
    """A tablet left on the start screen must follow the day (the intake, the wait, the next
    morning's buttons) by itself; after a refused tap the reload must not send the tap again."""
    from madoguchi.queue_board.views import KIOSK_REFRESH_SECONDS

    client.cookies[COOKIE_NAME] = kiosk_cookie(hall.site)
    refresh = f'data-refresh-url="{kiosk_url(hall)}" data-refresh-seconds="{KIOSK_REFRESH_SECONDS}"'
    assert refresh in client.get(kiosk_url(hall)).content.decode()
    refused = client.post(kiosk_url(hall), {"procedure": "999999"})
    assert refused.status_code == 422
    assert refresh in refused.content.decode()
    assert not QueueTicket.objects.exists()
