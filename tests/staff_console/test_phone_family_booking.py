"""A family on the phone: the clerk adds each member's notice number (or kana name) and birth
date to the phone booking and books them in one go through the residents' group booking service
— all or nobody, the same audit events and the same confirmations as a family booking on the
residents' pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from madoguchi.core.models import AuditEvent
from madoguchi.issuance.models import CardRecord, CardStatus
from madoguchi.reservations.models import Channel, Reservation
from madoguchi.reservations.services import MAX_GROUP_SIZE
from madoguchi.staff.models import StaffUser
from madoguchi.staff_console.counter import views as counter_views
from madoguchi.staff_console.counter.selectors import staff_bookable_slots
from tests.conftest import signed_in_client, site_official
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE, VISIT_DAY, birth_fields
from tests.resident_site.test_family_and_calendar import CHILD_BIRTH, renewal_family

pytestmark = pytest.mark.django_db

CHILD_NOTICE = "XYZ654321"
CONTACT = {"email": "taro@example.jp", "phone": "090-1234-5678"}


@pytest.fixture
def official(city: factories.City) -> StaffUser:
    return site_official(city.site)


@pytest.fixture
def console(official: StaffUser) -> Client:
    return signed_in_client(official)


def _url(city: factories.City) -> str:
    return f"/staff/sites/{city.site.pk}/phone-booking/"


def _pickup_family(slot: Any, *, child_notice: str = CHILD_NOTICE) -> dict[str, str]:
    return {
        "notice_number": NOTICE,
        **birth_fields(BIRTH),
        **CONTACT,
        "members": "1",
        "member1-notice_number": child_notice,
        **birth_fields(CHILD_BIRTH, prefix="member1-birth_date"),
    }


def _phone(city: factories.City, slot: Any, data: dict[str, str]) -> dict[str, str]:
    return {
        "procedure": slot.procedure.code,
        "day": VISIT_DAY.isoformat(),
        "slot": str(slot.pk),
        **data,
    }


def _events(before: int, codes: list[str]) -> list[tuple[str, Any, Any]]:
    """The audit events after the `before`th, with what differs between two bookings of the
    same family (their codes, slot and channel, the card ids) left out."""
    names = {code: f"<code {n}>" for n, code in enumerate(codes)}
    rows = AuditEvent.objects.order_by("id")[before:]
    out = []
    for event in rows:
        if event.action == "access.read":
            continue
        after = {
            k: names.get(v, v) if isinstance(v, str) else v
            for k, v in (event.after or {}).items()
            if k not in ("channel", "slot")
        }
        subject = names.get(event.subject_id, "<card>")
        out.append((event.action, subject, after))
    return out


def test_a_clerk_books_a_family_by_phone_in_one_go(
    city: factories.City,
    console: Client,
    official: StaffUser,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    factories.notice_card(city.municipality)
    factories.notice_card(city.municipality, notice=CHILD_NOTICE, birth=CHILD_BIRTH)
    slot = factories.slot(city.site, city.pickup, capacity=3)

    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(_url(city), _phone(city, slot, _pickup_family(slot)))

    assert response.status_code == 302, response.content.decode()
    family = list(Reservation.objects.order_by("id"))
    assert [r.notice_number for r in family] == [NOTICE, CHILD_NOTICE]
    assert {r.group_code for r in family} == {family[0].code}
    assert {(r.channel, r.slot_id) for r in family} == {(Channel.PHONE, slot.pk)}
    assert CardRecord.objects.filter(status=CardStatus.BOOKED).count() == 2
    slot.refresh_from_db()
    assert slot.booked == 2
    actors = set(AuditEvent.objects.exclude(action="access.read").values_list("actor", flat=True))
    assert actors == {f"staff:{official.pk}:official"}
    # the first person's confirmation (a pick-up's member gives no contact of their own)
    assert [m.to for m in mailoutbox] == [["taro@example.jp"]]
    page = console.get(response["Location"]).content.decode()
    assert (
        f"2人分を予約しました。予約コード {family[0].code}、{family[1].code} をお伝えください"
        in page
    )


def test_one_member_who_cannot_be_booked_leaves_the_whole_family_unbooked(
    city: factories.City, console: Client, mailoutbox: list[Any]
) -> None:
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup, capacity=3)

    response = console.post(
        _url(city), _phone(city, slot, _pickup_family(slot, child_notice="QQQ111111"))
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "一致するものが見つかりません" in html
    assert 'name="member1-notice_number"' in html and 'value="QQQ111111"' in html
    assert not Reservation.objects.exists()
    assert not CardRecord.objects.filter(status=CardStatus.BOOKED).exists()
    slot.refresh_from_db()
    assert slot.booked == 0 and mailoutbox == []


def _offered(html: str) -> list[str]:
    """The times the phone page's time list offers, as the clerk reads them."""
    select = re.search(r'<select name="slot".*?</select>', html, re.S)
    assert select, html
    return re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', select.group(0))


def test_the_time_list_offers_only_times_with_a_seat_for_each_of_the_family(
    city: factories.City, console: Client
) -> None:
    """As the residents' day page links only the times with a seat for everyone coming, the
    phone page lists only those for the caller and the members added so far."""
    two_left = factories.slot(city.site, city.renewal, capacity=3, booked=1)
    factories.slot(city.site, city.renewal, time="11:00", capacity=3)
    one = console.get(_url(city), {"procedure": city.renewal.code, "day": VISIT_DAY.isoformat()})
    assert _offered(one.content.decode()) == ["10:00（残り2）", "11:00（残り3）"]
    typed = _phone(city, two_left, renewal_family(0))

    pair = console.post(_url(city), {**typed, "step": "add_member"}).content.decode()
    assert _offered(pair) == ["10:00（残り2）", "11:00（残り3）"]
    assert "2人分の空きがある時間だけを表示しています。" in pair
    assert "一覧から外しました" not in pair  # 10:00 still has a seat for each of two
    three = console.post(_url(city), {**typed, "members": "1", "step": "add_member"})
    html = three.content.decode()
    assert _offered(html) == ["11:00（残り3）"]
    assert "3人分の空きがある時間だけを表示しています。" in html
    # the clerk had chosen 10:00: the page says it left the list, not a silent reset
    assert (
        "選んでいた10:00には3人分の空きがないため、一覧から外しました。ほかの時間を選んでください。"
    ) in html
    assert "selected" not in html.split('name="slot"')[1].split("</select>")[0]
    back = console.post(_url(city), {**typed, "members": "2", "step": "remove_member"})
    assert _offered(back.content.decode()) == ["10:00（残り2）", "11:00（残り3）"]
    assert not Reservation.objects.exists()


def test_a_family_larger_than_the_time_has_seats_for_is_refused_whole(
    city: factories.City, console: Client
) -> None:
    slot = factories.slot(city.site, city.renewal, capacity=3, booked=1)

    response = console.post(_url(city), _phone(city, slot, renewal_family(2)))

    assert response.status_code == 422
    assert "選んだ時間には3人分の空きがありません。ほかの時間を選んでください。" in (
        response.content.decode()
    )
    assert not Reservation.objects.exists()
    slot.refresh_from_db()
    assert slot.booked == 1


def test_a_time_taken_after_the_list_was_read_is_refused_by_the_booking_service(
    city: factories.City, console: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A race: the list was read with seats for the whole family, another booking takes them
    before the family's (here the list's read is a moment old): the service's refusal stands."""
    slot = factories.slot(city.site, city.renewal, capacity=3, booked=2)

    def read_before_the_other_booking(**kwargs: Any) -> list[Any]:
        slots = list(staff_bookable_slots(**kwargs))
        for seen in slots:
            seen.booked -= 2  # as it was before the other booking took two seats
        return slots

    monkeypatch.setattr(counter_views, "staff_bookable_slots", read_before_the_other_booking)

    response = console.post(_url(city), _phone(city, slot, renewal_family(2)))

    assert response.status_code == 422
    assert "この時間の予約枠はいっぱいです" in response.content.decode()
    assert not Reservation.objects.exists()
    slot.refresh_from_db()
    assert slot.booked == 2


def test_a_members_mistake_is_named_by_its_person_and_nothing_is_booked(
    city: factories.City, console: Client
) -> None:
    slot = factories.slot(city.site, city.renewal, capacity=3)
    data = renewal_family(1)
    data["member1-given_name_kana"] = "hanako"

    response = console.post(_url(city), _phone(city, slot, data))

    html = response.content.decode()
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary and "2人目" in summary.group(0)
    assert "#id_member1-given_name_kana" in summary.group(0)
    assert not Reservation.objects.exists()


def test_a_member_who_repeats_the_first_person_is_named_on_that_member(
    city: factories.City, console: Client
) -> None:
    """The lead's notice number given again for a member (spelled another way): refused at that
    member's notice number, as on the residents' pages — it came back as one line at the top
    of the form from the booking service, naming nobody."""
    factories.notice_card(city.municipality)
    slot = factories.slot(city.site, city.pickup, capacity=3)
    data = _pickup_family(slot, child_notice=f"{NOTICE[:3]} {NOTICE[3:]}")
    data.update(birth_fields(BIRTH, prefix="member1-birth_date"))

    response = console.post(_url(city), _phone(city, slot, data))

    html = response.content.decode()
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary and 'href="#id_member1-notice_number">2人目' in summary.group(0)
    assert "同じ方が2回入力されています。" in summary.group(0)
    assert not Reservation.objects.exists()


def test_adding_and_removing_a_member_keeps_what_was_typed_and_books_nothing(
    city: factories.City, console: Client
) -> None:
    slot = factories.slot(city.site, city.renewal, capacity=3)
    typed = _phone(city, slot, {**renewal_family(0), "language": "en"})

    added = console.post(_url(city), {**typed, "step": "add_member"})

    html = added.content.decode()
    assert added.status_code == 200
    assert 'name="member1-family_name_kana"' in html and 'name="members" value="1"' in html
    assert 'value="ヤマダ"' in html and 'value="taro@example.jp"' in html
    assert '<option value="en" selected>' in html
    assert f'<option value="{slot.pk}" selected>' in html
    assert "error-summary" not in html  # the member's empty fields are not errors yet
    removed = console.post(_url(city), {**typed, "members": "1", "step": "remove_member"})
    assert 'name="member1-family_name_kana"' not in removed.content.decode()
    full = {**typed, "members": str(MAX_GROUP_SIZE - 1), "step": "add_member"}
    assert "家族を追加する" not in console.post(_url(city), full).content.decode()
    assert not Reservation.objects.exists()


def test_a_family_by_phone_writes_and_sends_what_the_same_family_on_the_pages_does(
    city: factories.City,
    console: Client,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The same family booked twice — on the residents' pages at 10:00, then (those bookings
    ended) by phone at 11:00: the same audit events in the same order and the same
    confirmations, the codes, the time and the channel aside."""
    effects = []
    for book, time in (("pages", "10:00"), ("phone", "11:00")):
        slot = factories.slot(city.site, city.renewal, time=time, capacity=3)
        data = renewal_family(2)
        before = AuditEvent.objects.count()
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            if book == "pages":
                client = Client()
                url = f"/book/cert_renewal/slot/{slot.pk}/"
                confirm = client.post(url, data).content.decode()
                token = re.search(r'name="token" value="([^"]+)"', confirm)
                assert token
                done = client.post(url, {**data, "step": "confirm", "token": token.group(1)})
            else:
                done = console.post(_url(city), _phone(city, slot, data))
        assert done.status_code == 302, done.content.decode()
        family = list(Reservation.objects.filter(slot=slot).order_by("id"))
        assert len(family) == 3 and {r.group_code for r in family} == {family[0].code}
        codes = [r.code for r in family]
        mails = []
        for message in mailoutbox:
            body = re.sub(r"\d\d:\d\d〜\d\d:\d\d", "<time>", message.body)
            for n, code in enumerate(codes):
                body = body.replace(code, f"<code {n}>")
            mails.append((message.to, body))
        effects.append((_events(before, codes), mails))
        # the next round books the same people again: end these bookings first
        Reservation.objects.filter(slot=slot).update(status="cancelled")

    (page_events, page_mails), (phone_events, phone_mails) = effects
    assert [e[0] for e in page_events] == ["reservation.book"] * 3
    assert page_events == phone_events
    assert len(page_mails) == 3 and page_mails == phone_mails
