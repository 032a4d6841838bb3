"""Two numbers, two names: the notice number (交付通知書番号, printed on the issuance notice) and
the booking code (予約コード, given when booking). The look-up page takes either with the birth
date, and answers every mistake the same way (no enumeration)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.test import Client

import madoguchi
from madoguchi.core import languages
from madoguchi.core.audit import Actor
from madoguchi.core.errors import DomainError
from madoguchi.reservations import services
from madoguchi.reservations.selectors import find_reservation_by_number
from tests.resident_site import factories
from tests.resident_site.factories import BIRTH, NOTICE, birth_fields

pytestmark = pytest.mark.django_db

SOURCE = Path(madoguchi.__file__).parent
ERROR_SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)


def _errors(page: str) -> str:
    found = ERROR_SUMMARY.search(page)
    assert found, "the refusal is explained in the error summary"
    return found.group(0)


def test_lookup_by_notice_number_opens_that_cards_booking(
    city: factories.City, client: Client
) -> None:
    booked = factories.book_card_pickup(city)
    for spelling in (NOTICE, "abc-123456", "ＡＢＣ１２３４５６"):
        stranger = Client()
        response = stranger.post("/lookup/", {"code": spelling, **birth_fields(BIRTH)})
        assert response.status_code == 302, spelling
        assert response["Location"] == f"/reservation/{booked.code}/"
        page = stranger.get(response["Location"]).content.decode()
        assert booked.code in page and "予約コード" in page


def test_lookup_by_booking_code_still_works(city: factories.City, client: Client) -> None:
    booked = factories.book_card_pickup(city)
    response = Client().post("/lookup/", {"code": booked.code.lower(), **birth_fields(BIRTH)})
    assert response["Location"] == f"/reservation/{booked.code}/"


def test_every_wrong_lookup_gets_the_same_refusal(city: factories.City, client: Client) -> None:
    booked = factories.book_card_pickup(city)
    cancelled = factories.book_card_pickup(city, time="11:00", n=1)
    services.cancel_reservation(code=cancelled.code, actor=Actor.resident())
    wrong_birth = birth_fields(dt.date(1980, 5, 18))
    attempts = {
        "code, wrong birth date": {"code": booked.code, **wrong_birth},
        "notice, wrong birth date": {"code": NOTICE, **wrong_birth},
        "unknown code": {"code": "ACDEFGHJKL", **birth_fields(BIRTH)},
        "unknown notice": {"code": "XYZ999999", **birth_fields(BIRTH)},
        "notice whose booking was cancelled": {"code": "ABC123457", **birth_fields(BIRTH)},
        "neither shape": {"code": "hello", **birth_fields(BIRTH)},
    }
    answers = {}
    for name, data in attempts.items():
        response = Client().post("/lookup/", data)
        assert response.status_code == 422, name
        answers[name] = _errors(response.content.decode())
    assert len(set(answers.values())) == 1, answers
    assert "一致するものが見つかりません" in next(iter(answers.values()))


def test_notice_number_finds_only_an_active_booking() -> None:
    with pytest.raises(DomainError) as refused:
        find_reservation_by_number(number=NOTICE, birth_date=BIRTH)
    assert refused.value.code == "not_found"


def test_notice_lookup_selector_matches_the_birth_date(city: factories.City) -> None:
    booked = factories.book_card_pickup(city)
    assert find_reservation_by_number(number="abc 123 456", birth_date=BIRTH) == booked
    with pytest.raises(DomainError) as refused:
        find_reservation_by_number(number=NOTICE, birth_date=dt.date(1980, 5, 18))
    assert refused.value.code == "not_found"


def test_lookup_page_names_both_numbers(client: Client) -> None:
    page = client.get("/lookup/").content.decode()
    assert "予約コード" in page and "交付通知書番号" in page


NO_LONGER_SAID = "予約番号"


def _resident_and_staff_texts() -> list[Path]:
    suffixes = {".py", ".html", ".txt"}
    return [
        path
        for path in SOURCE.rglob("*")
        if path.suffix in suffixes and "migrations" not in path.parts
    ]


def test_no_page_mail_notice_or_command_says_yoyaku_bangou() -> None:
    """「予約番号」 meant either number; every text now says which one it is."""
    offenders = [
        str(path.relative_to(SOURCE))
        for path in _resident_and_staff_texts()
        if NO_LONGER_SAID in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


# Each catalogue's one name for the notice number and one for the booking code.
NAMES = {
    "en": ("notice number", "booking code"),
    "ja-x-easy": ("こうふつうちしょ ばんごう", "よやくコード"),
    "zh-hans": ("交付通知书编号", "预约代码"),
    "ko": ("교부 통지서 번호", "예약 코드"),
    "vi": ("số thông báo cấp thẻ", "mã đặt lịch"),
    "pt-br": ("número do aviso de emissão", "código do agendamento"),
}


@pytest.mark.parametrize("code", sorted(NAMES))
def test_every_catalogue_uses_the_same_two_names(code: str) -> None:
    notice, booking = NAMES[code]
    for entry in languages.read_po(languages.catalogue_path(code)):
        msgstr = " ".join(entry.msgstrs).lower()
        if not msgstr:
            continue
        if "交付通知書番号" in entry.msgid:
            assert notice in msgstr, entry.msgid
        if "予約コード" in entry.msgid:
            assert booking in msgstr, entry.msgid
        if code == "en":
            for old in ("booking number", "reservation code", "reservation number"):
                assert old not in msgstr, msgstr
