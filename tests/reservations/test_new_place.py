"""A site's new name or address reaches its booked residents (decision 0044): saving the site
through `offices.services.save_site` raises, in one UPDATE, the revision of every booking still
to come there — the SEQUENCE of its .ics, whose LOCATION changed — audits each, and tells each
resident with a contact, in the booking's language, after the commit: the mail with the updated
.ics attached, the SMS on a mobile number. A change of anything else changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.offices.models import Site
from madoguchi.offices.services import SiteSaved, place_languages, save_site
from madoguchi.reservations import services
from madoguchi.reservations.models import Reservation
from tests.conftest import SmsOutbox
from tests.frozen_clock import frozen_at
from tests.offices import factories as offices
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, VISIT_DAY, birth_fields
from tests.resident_site.test_visit_ics_mail import body_of, subject_of

pytestmark = pytest.mark.django_db

MANAGER = Actor.system("test-manager")
NEW_NAME = "みどり市役所 本庁舎"
NEW_ADDRESS = "みどり市中央2-2"


@pytest.fixture
def clock_at() -> Iterator[Any]:
    """The residents' factories' "now" (this directory's `frozen` uses another day)."""
    with frozen_at(factories.NOW) as traveller:
        yield traveller


@pytest.fixture
def town(clock_at: Any) -> factories.City:
    return factories.city()


def _renewal(
    town: factories.City,
    *,
    day: dt.date = VISIT_DAY,
    time: str = "10:00",
    site: Site | None = None,
    given: str = "ハナコ",
    language: str = "ja",
    **contact: str,
) -> Reservation:
    slot = factories.slot(site or town.site, town.renewal, day=day, time=time)
    contact = contact or {"phone": "0311112222"}  # a landline: told on no channel
    return services.book_reservation(
        slot_id=slot.pk,
        procedure_code="cert_renewal",
        applicant=services.Applicant(
            birth_date=BIRTH, family_name_kana="ヤマダ", given_name_kana=given, **contact
        ),
        actor=Actor.resident(),
        language=language,
    )


def _revisions(*bookings: Reservation) -> list[int]:
    found = dict(
        Reservation.objects.filter(pk__in=[b.pk for b in bookings]).values_list("pk", "revision")
    )
    return [found[b.pk] for b in bookings]


def _renamed(site: Site, capture: Any, **changes: Any) -> SiteSaved:
    site = Site.objects.get(pk=site.pk)
    for field, value in changes.items():
        setattr(site, field, value)
    with capture(execute=True):
        return save_site(site, actor=MANAGER)


def _ics_of(message: Message) -> Any:
    (attachment,) = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_content_type() == "text/calendar"
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    (event,) = Calendar.from_ical(payload).walk("VEVENT")
    return event


def test_a_new_name_raises_the_revision_of_the_bookings_still_to_come_there_only(
    town: factories.City, clock_at: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Past, cancelled, checked-in and other sites' bookings keep theirs; one UPDATE writes the
    revisions, and each raised one has its audit event."""
    branch = offices.site(town.municipality, name="みどり支所", address="みどり市北1-1")
    branch.procedures.set([town.renewal])
    day = VISIT_DAY - dt.timedelta(days=2)  # the day of the change
    passed = _renewal(town, given="イチ", day=day)
    today = _renewal(town, given="ニ", day=day, time="11:00")
    later_today = _renewal(town, given="サン", day=day, time="14:00")
    cancelled = _renewal(town, given="シ", day=VISIT_DAY + dt.timedelta(days=1))
    services.cancel_reservation(code=cancelled.code, actor=Actor.resident())
    elsewhere = _renewal(town, given="ゴ", site=branch)
    coming = [_renewal(town, given="ロク"), _renewal(town, given="ナナ", time="11:00")]
    clock_at.move_to(dt.datetime(2026, 6, 8, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    services.check_in_reservation(code=today.code, actor=MANAGER)  # at the counter now
    before = _revisions(passed, cancelled, elsewhere, today, later_today, *coming)
    assert before == [0, 1, 0, 0, 0, 0, 0]

    with CaptureQueriesContext(connection) as queries:
        saved = _renamed(town.site, django_capture_on_commit_callbacks, name=NEW_NAME)

    assert _revisions(passed, cancelled, elsewhere, today, later_today, *coming) == [
        0, 1, 0, 0, 1, 1, 1
    ]  # fmt: skip
    assert saved.revised == 3 and saved.languages  # every language without its own name
    updates = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "reservations_')
    ]
    assert len(updates) == 1, updates
    events = AuditEvent.objects.filter(action="reservation.new_place").order_by("subject_id")
    assert sorted((e.subject_id, e.before, e.after) for e in events) == sorted(
        (b.code, {"revision": 0}, {"revision": 1, "site": town.site.pk})
        for b in (later_today, *coming)
    )
    assert {e.actor for e in events} == {MANAGER.label}


def test_a_change_of_hours_notes_or_procedures_changes_no_booking(
    town: factories.City, sms_outbox: SmsOutbox, django_capture_on_commit_callbacks: Any
) -> None:
    booked = _renewal(town, email="hanako@example.jp", phone="09012345678")
    mail.outbox.clear()
    sms_outbox.path.unlink(missing_ok=True)
    saved = _renamed(
        town.site,
        django_capture_on_commit_callbacks,
        access_notes="みどり駅から徒歩3分",
        open_until=dt.date(2027, 3, 31),
        translations={"en": {"access_notes": "3 minutes from Midori station"}},
    )
    assert saved == SiteSaved()
    assert _revisions(booked) == [0]
    assert not AuditEvent.objects.filter(action="reservation.new_place").exists()
    assert mail.outbox == [] and sms_outbox.messages == []


def test_the_resident_is_mailed_the_new_place_with_the_updated_ics_over_smtp(
    town: factories.City, smtp_inbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """In the booking's language (English here, whose address is the Japanese one: none was
    entered in English), the date unchanged; the attached .ics and the downloaded one carry the
    new LOCATION with the next SEQUENCE."""
    booked = _renewal(town, email="john@example.jp", language="en")
    smtp_inbox.messages.clear()  # the confirmation
    saved = _renamed(
        town.site,
        django_capture_on_commit_callbacks,
        address=NEW_ADDRESS,
        translations={"en": {"name": "Midori City Hall"}},
    )
    assert (saved.revised, saved.told) == (1, 1)

    (message,) = smtp_inbox.messages
    assert message["To"] == "john@example.jp"
    assert subject_of(message) == (  # the procedure's name is data: none entered in English
        f"[New venue] 電子証明書の更新, Wed, June 10, 10:00 (booking code {booked.code})"
    )
    body = body_of(next(p for p in message.walk() if p.get_content_type() == "text/plain"))
    assert "The date and time stay the same." in body
    assert "Place: Midori City Hall" in body and f"〒123-4567 {NEW_ADDRESS}" in body
    assert "みどり本庁舎" not in body and "予約" not in body
    event = _ics_of(message)
    assert str(event["location"]) == f"Midori City Hall 〒123-4567 {NEW_ADDRESS}"
    assert event["sequence"] == 1
    assert str(event["uid"]) == f"reservation-{booked.code}@madoguchi"

    resident = Client()
    found = resident.post("/lookup/", {"code": booked.code, **birth_fields(BIRTH)})
    assert found.status_code == 302
    resident.cookies["django_language"] = "en"
    (downloaded,) = Calendar.from_ical(
        resident.get(f"/reservation/{booked.code}/calendar.ics").content
    ).walk("VEVENT")
    assert str(downloaded["location"]) == str(event["location"])
    assert downloaded["sequence"] == 1


def test_a_phone_only_booking_gets_the_new_place_by_sms_in_its_language(
    town: factories.City, sms_outbox: SmsOutbox, django_capture_on_commit_callbacks: Any
) -> None:
    booked = _renewal(town, phone="09012345678", language="ko")
    sms_outbox.path.unlink(missing_ok=True)
    _renamed(town.site, django_capture_on_commit_callbacks, address=NEW_ADDRESS)
    assert mail.outbox == []
    (text,) = sms_outbox.messages
    assert text["to"].endswith("9012345678")
    assert NEW_ADDRESS in text["body"] and booked.code in text["body"]
    assert "장소" in text["body"]  # Korean
    assert "会場" not in text["body"]


def test_a_name_changed_in_one_language_is_told_only_to_those_booked_in_it(
    town: factories.City, django_capture_on_commit_callbacks: Any
) -> None:
    """Every booking's revision goes up (its .ics may be downloaded in that language); only the
    booking whose mails read the changed name is told — a Japanese booking's mail would say
    what it said before."""
    japanese = _renewal(town, given="イチ", email="ichi@example.jp")
    english = _renewal(town, given="ニ", email="ni@example.jp", language="en", time="11:00")
    mail.outbox.clear()
    saved = _renamed(
        town.site,
        django_capture_on_commit_callbacks,
        translations={"en": {"name": "Midori City Hall"}},
    )
    assert saved.languages == {"en"}
    assert (saved.revised, saved.told) == (2, 1)
    assert _revisions(japanese, english) == [1, 1]
    (message,) = mail.outbox
    assert message.to == ["ni@example.jp"] and "Midori City Hall" in message.body


def test_the_place_is_compared_in_every_offered_language() -> None:
    """Japanese changes every language without its own text; one language's text only it; the
    postal code every language."""
    before = Site(
        name="本庁舎",
        postal_code="123-4567",
        address="中央1-1",
        translations={"en": {"name": "Hall"}},
    )

    def changed(**fields: Any) -> set[str]:
        after = Site(**{**{f: getattr(before, f) for f in ("name", "postal_code", "address")}})
        after.translations = before.translations
        for field, value in fields.items():
            setattr(after, field, value)
        return set(place_languages(before, after))

    everyone = {"ja", "ja-x-easy", "en", "zh-hans", "ko", "vi", "pt-br"}
    assert changed(name="新庁舎") == everyone - {"en"}
    assert changed(postal_code="123-0000") == everyone
    assert changed(translations={"en": {"name": "New hall"}}) == {"en"}
    assert changed(translations={"en": {"name": "Hall"}, "vi": {"address": "Chuo 1-1"}}) == {"vi"}
    assert changed(access_notes="駅から5分") == set()
