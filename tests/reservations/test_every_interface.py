"""One booking service for every interface: a card pick-up booked through the residents' pages,
by phone at the counter and through the API sends the same confirmation (mail and SMS), writes
the same audit events and runs the same booking statements — on PostgreSQL the one-statement
fast path for all three, with no SAVEPOINT (no caller wraps the service in a transaction).

Transactional tests: the confirmation leaves on the real commit, as in production."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

import madoguchi
from madoguchi.core.models import AuditEvent
from madoguchi.reservations.models import Channel, Reservation, Slot
from madoguchi.staff.models import Role, StaffUser
from tests.conftest import SmsOutbox, login_staff
from tests.frozen_clock import frozen_at
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY, birth_fields

pytestmark = pytest.mark.django_db(transaction=True)

BOOKING_TABLES = re.compile(
    r"reservations_slot|reservations_reservation|issuance_cardrecord|core_auditevent"
)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|BEGIN|WITH|SAVEPOINT|RELEASE)", re.I)


@dataclass
class World:
    city: factories.City
    slot: Slot
    official: StaffUser


@pytest.fixture
def world() -> Iterator[World]:
    with frozen_at(factories.NOW):
        city = factories.city()
        slot = factories.slot(city.site, city.pickup, capacity=3)
        for n in range(3):
            factories.notice_card(city.municipality, notice=f"ABC{123456 + n}")
        official = StaffUser.objects.create_user(
            "official", password="x", role=Role.OFFICIAL, municipality=city.municipality
        )
        official.sites.set([city.site])
        yield World(city, slot, official)


def _notice(n: int) -> str:
    return f"ABC{123456 + n}"


CONTACT = {"email": "taro@example.jp", "phone": "090-1234-5678"}


def by_page(world: World, n: int) -> Any:
    client = Client()
    url = f"/book/card_pickup/slot/{world.slot.pk}/"
    data = {"notice_number": _notice(n), **birth_fields(), **CONTACT}
    page = client.post(url, data)
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode())
    assert token, page.content.decode()
    return lambda: client.post(url, {**data, "step": "confirm", "token": token.group(1)})


def by_phone(world: World, n: int) -> Any:
    client = Client()
    login_staff(client, world.official)
    data = {
        "procedure": "card_pickup",
        "day": VISIT_DAY.isoformat(),
        "slot": str(world.slot.pk),
        "notice_number": _notice(n),
        **birth_fields(),
        **CONTACT,
    }
    return lambda: client.post(f"/staff/sites/{world.city.site.pk}/phone-booking/", data)


def by_api(world: World, n: int) -> Any:
    client = Client()
    body = {
        "slot_id": world.slot.pk,
        "procedure": "card_pickup",
        "notice_number": _notice(n),
        "birth_date": BIRTH.isoformat(),
        **CONTACT,
    }
    return lambda: client.post("/api/v1/reservations", body, content_type="application/json")


INTERFACES: dict[str, Callable[[World, int], Any]] = {
    Channel.WEB: by_page,
    Channel.PHONE: by_phone,
    Channel.API: by_api,
}


@dataclass
class Effects:
    mail: tuple[str, str, str]
    sms: tuple[str, str]
    events: list[tuple[str, str, Any, Any]]
    statements: list[str]
    savepoints: int


def _without(text: str, *values: str) -> str:
    for value in values:
        text = text.replace(value, "<" + str(len(value)) + ">")
    return text


def _book_through(
    world: World, channel: str, n: int, sms_outbox: SmsOutbox
) -> tuple[Reservation, Effects]:
    with frozen_at(factories.NOW):
        send = INTERFACES[channel](world, n)  # pages before the booking: not measured
        mail.outbox.clear()
        texts_before = len(sms_outbox.messages)
        events_before = AuditEvent.objects.count()
        templates: list[str] = []

        def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            templates.append(sql)
            return execute(sql, params, many, context)

        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(record):
            response = send()
        assert response.status_code in (201, 302), response.content.decode()
    booked = Reservation.objects.get(notice_number=_notice(n))
    assert booked.channel == channel
    (message,) = mail.outbox
    (text,) = sms_outbox.messages[texts_before:]
    events = [
        (e.action, e.subject_type, e.before, {k: v for k, v in (e.after or {}).items()})
        for e in AuditEvent.objects.order_by("id")[events_before:]
        if e.action != "access.read"
    ]
    # what differs by person and interface (the code, the channel) left out
    events = [
        (
            action,
            subject,
            before,
            {
                k: ("<channel>" if k == "channel" else v)
                for k, v in after.items()
                if not (k in ("reservation", "group") and v == booked.code)
            },
        )
        for action, subject, before, after in events
    ]
    statements = [
        s
        for s in templates
        if WRITE.match(s) and BOOKING_TABLES.search(s) and "access.read" not in s
    ]
    return booked, Effects(
        mail=(
            message.to[0],
            _without(message.subject, booked.code),
            _without(message.body, booked.code),
        ),
        sms=(text["to"], _without(text["body"], booked.code)),
        events=events,
        statements=statements,
        savepoints=sum("SAVEPOINT" in q["sql"].upper() for q in captured.captured_queries),
    )


def test_pages_phone_and_api_book_with_the_same_mail_events_and_statements(
    world: World, sms_outbox: SmsOutbox
) -> None:
    effects = {}
    for n, channel in enumerate(INTERFACES):
        _booked, effects[channel] = _book_through(world, channel, n, sms_outbox)
        assert effects[channel].savepoints == 0, f"{channel}: wrapped in a transaction"

    web, phone, api = effects[Channel.WEB], effects[Channel.PHONE], effects[Channel.API]
    # the same confirmation, by mail and by SMS, from every interface
    assert web.mail[0] == "taro@example.jp"
    assert "予約を受け付けました" in web.mail[2]
    assert web.mail == phone.mail == api.mail
    assert web.sms[0] == "+819012345678"
    assert web.sms == phone.sms == api.sms
    # the same audit events: the card moved and the reservation booked, nothing else
    assert [e[0] for e in web.events] == ["card.book", "reservation.book"]
    assert web.events == phone.events == api.events
    # the same booking statements (text without values), and no savepoint anywhere
    assert web.statements, "the booking's statements were captured"
    assert web.statements == phone.statements == api.statements
    if connection.vendor == "postgresql":
        # the fast path: one statement, BEGIN … COMMIT in one round trip; then the audit
        # sealer links the new events after the commit
        booking, *sealing = web.statements
        assert booking.startswith("BEGIN; WITH applicant AS")
        assert sealing and all(s.startswith("UPDATE core_auditevent") for s in sealing)


def test_a_double_submit_sends_one_confirmation(world: World, sms_outbox: SmsOutbox) -> None:
    with frozen_at(factories.NOW):
        client = Client()
        body = {
            "slot_id": world.slot.pk,
            "procedure": "card_pickup",
            "notice_number": _notice(0),
            "birth_date": BIRTH.isoformat(),
            **CONTACT,
        }
        first = client.post("/api/v1/reservations", body, content_type="application/json")
        again = client.post("/api/v1/reservations", body, content_type="application/json")
    assert first.json()["code"] == again.json()["code"]
    assert len(mail.outbox) == 1
    assert len(sms_outbox.messages) == 1


def test_a_booking_without_a_contact_sends_nothing(world: World, sms_outbox: SmsOutbox) -> None:
    with frozen_at(factories.NOW):
        response = Client().post(
            "/api/v1/reservations",
            {
                "slot_id": world.slot.pk,
                "procedure": "card_pickup",
                "notice_number": _notice(0),
                "birth_date": BIRTH.isoformat(),
                "phone": "0312345678",  # a landline: kept for staff to call, no SMS
            },
            content_type="application/json",
        )
    assert response.status_code == 201
    assert mail.outbox == [] and sms_outbox.messages == []


def test_a_failing_mail_server_does_not_undo_the_booking(
    world: World, sms_outbox: SmsOutbox, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard port: refused
    with frozen_at(factories.NOW):
        response = by_page(world, 0)()
    assert response.status_code == 302
    booked = Reservation.objects.get()
    assert response["Location"].endswith(f"/reservation/{booked.code}/")
    (text,) = sms_outbox.messages  # the other channel still went out
    assert booked.code in text["body"]


def test_the_confirmation_names_the_day_and_the_last_day_of_online_changes(
    world: World, sms_outbox: SmsOutbox
) -> None:
    _booked, effects = _book_through(world, Channel.API, 0, sms_outbox)
    assert "日時: 2026年6月10日（水）10:00" in effects.mail[2]
    assert "インターネットでの変更・取消は 6月8日（月）までです。" in effects.mail[2]
    assert "変更・取消は6月8日（月）まで" in effects.sms[1]


def test_a_cancellation_through_the_pages_or_the_api_is_told_the_same(
    world: World, sms_outbox: SmsOutbox
) -> None:
    told = {}
    with frozen_at(factories.NOW):
        for n, channel in enumerate((Channel.WEB, Channel.API)):
            client = Client()
            body = {
                "slot_id": world.slot.pk,
                "procedure": "card_pickup",
                "notice_number": _notice(n),
                "birth_date": BIRTH.isoformat(),
                **CONTACT,
            }
            code = client.post(
                "/api/v1/reservations", body, content_type="application/json"
            ).json()["code"]
            mail.outbox.clear()
            texts_before = len(sms_outbox.messages)
            if channel == Channel.WEB:
                client.post("/lookup/", {"code": code, **birth_fields()})  # proves the code
                response = client.post(f"/reservation/{code}/cancel/")
            else:
                response = client.post(
                    f"/api/v1/reservations/{code}/cancel",
                    {"birth_date": BIRTH.isoformat()},
                    content_type="application/json",
                )
            assert response.status_code in (200, 302), response.content.decode()
            (message,) = mail.outbox
            (text,) = sms_outbox.messages[texts_before:]
            told[channel] = (
                _without(message.subject, code),
                _without(message.body, code),
                _without(text["body"], code),
            )
    assert "次の予約を取り消しました" in told[Channel.WEB][1]
    assert told[Channel.WEB] == told[Channel.API]


INTERFACES_PACKAGES = ("api", "resident_site", "staff_console", "queue_board")
OPENS_A_TRANSACTION = re.compile(r"\batomic\b")


def transactions_opened_by_interfaces(package: Path) -> list[str]:
    """Interface modules that open a transaction of their own (`atomic` in any form)."""
    return sorted(
        path.relative_to(package).as_posix()
        for name in INTERFACES_PACKAGES
        for path in (package / name).rglob("*.py")
        if OPENS_A_TRANSACTION.search(path.read_text(encoding="utf-8"))
    )


def test_no_interface_opens_a_transaction_around_the_services() -> None:
    """Static, for every entry point the test above does not drive (a family by phone, a
    reschedule, …): the services own their transactions, so the booking keeps its one-statement
    path from every interface; nor do requests get one each."""
    assert not any(db.get("ATOMIC_REQUESTS") for db in settings.DATABASES.values())
    assert transactions_opened_by_interfaces(Path(madoguchi.__file__).parent) == []


def test_the_scan_finds_an_interface_that_wraps_a_service(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "views.py").write_text("with transaction.atomic():\n    book()\n")
    (tmp_path / "staff_console").mkdir()
    (tmp_path / "staff_console" / "v.py").write_text("@atomic\ndef page(request): ...\n")
    (tmp_path / "queue_board").mkdir()
    (tmp_path / "queue_board" / "ok.py").write_text("is_transaction_conflict(exc)\n")
    assert transactions_opened_by_interfaces(tmp_path) == ["api/views.py", "staff_console/v.py"]
