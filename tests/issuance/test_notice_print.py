"""The notice as a mailing house prints it: fonts embedded, contact, deadline, real hours, layouts.

Read back with poppler's `pdffonts` and `pdftotext` (what print shops use to check a file).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from pypdf import PdfReader

from madoguchi.core.audit import Actor
from madoguchi.issuance.models import CardStatus
from madoguchi.issuance.notices import (
    first_pages,
    notice_context,
    render_notice_batches,
    write_mailing_csv,
)
from madoguchi.offices.hours_text import site_notes, weekly_hours
from madoguchi.offices.models import (
    Closure,
    ClosureKind,
    Municipality,
    NoticeLayout,
    OpeningSession,
    Procedure,
    SessionKind,
    Site,
    SpecialOpening,
)
from madoguchi.offices.selectors import site_hours
from madoguchi.reservations.pacing import issue_paced_batch
from tests.conftest import _missing
from tests.frozen_clock import CARDS_NOW
from tests.issuance import factories
from tests.issuance.test_notices import slots

# Friday 27 November 2026: the printed four weeks run to Thursday 24 December.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(CARDS_NOW),
    pytest.mark.usefixtures("frozen"),
]
SYSTEM = Actor.system("test")


@pytest.fixture
def poppler() -> None:
    """pdffonts and pdftotext (Debian's poppler-utils); CI installs them, so never skips."""
    if not (shutil.which("pdffonts") and shutil.which("pdftotext")):
        _missing("poppler-utils (pdffonts, pdftotext) not installed")


needs_poppler = pytest.mark.usefixtures("poppler")


def _city(layout: str = NoticeLayout.A4) -> Municipality:
    owner = factories.municipality(
        contact_name="市民課 マイナンバーカード担当",
        contact_phone="03-1234-5678",
        contact_hours="平日 8:30〜17:15",
        contact_address="みどり市中央一丁目1番1号",
        notice_layout=layout,
    )
    pickup, _ = Procedure.objects.get_or_create(
        code="card_pickup", defaults={"name": "カードの受け取り", "duration_minutes": 20}
    )
    site = Site.objects.create(
        municipality=owner, name="駅前臨時窓口", kind="temporary", address="駅前ビル3階"
    )
    site.open_until = dt.date(2026, 12, 20)
    site.save()
    site.procedures.add(pickup)
    for weekday in range(5):
        OpeningSession.objects.create(
            site=site,
            weekday=weekday,
            kind=SessionKind.WEEKDAY,
            starts_at_time=dt.time(8, 30),
            ends_at_time=dt.time(17, 15),
        )
    OpeningSession.objects.create(
        site=site,
        weekday=5,
        kind=SessionKind.WEEKEND,
        starts_at_time=dt.time(9, 0),
        ends_at_time=dt.time(12, 0),
    )
    SpecialOpening.objects.create(
        site=site,
        day=dt.date(2026, 12, 6),
        starts_at_time=dt.time(9, 0),
        ends_at_time=dt.time(12, 0),
        reason="日曜臨時開庁",
    )
    Closure.objects.create(
        municipality=owner,
        kind=ClosureKind.OTHER,
        first_day=dt.date(2026, 12, 8),
        reason="庁舎点検",
    )
    slots(owner, seats=5)
    return owner


def _render(owner: Municipality, tmp_path: Path, cards: int = 2) -> tuple[Path, list[int]]:
    for _ in range(cards):
        factories.card(owner, status=CardStatus.SETUP_DONE)
    issued = issue_paced_batch(municipality=owner, actor=SYSTEM)
    assert len(issued.cards) == cards
    batches = [(notice_context(owner), issued.cards)]
    path = tmp_path / "notices.pdf"
    render_notice_batches(batches, str(path))
    return path, first_pages(batches)


def _text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


@needs_poppler
def test_every_font_in_the_notice_is_embedded(tmp_path: Path) -> None:
    path, _ = _render(_city(), tmp_path)
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    rows = listing[2:]  # after the header and its rule
    assert rows, listing
    names = set()
    for row in rows:
        # name type encoding emb sub uni object ID: the "emb" column is the 4th from the end
        columns = row.split()
        assert columns[-5] == "yes", f"not embedded: {row}"
        assert columns[1] == "TrueType", row
        names.add(columns[0].split("+", 1)[1].split("-", 1)[0])
    # Japanese and Latin in IPAex Gothic; Hangul, simplified Chinese and Vietnamese lines in
    # WenQuanYi Micro Hei (IPAex has none of their letters); nothing else
    assert names == {"IPAexGothic", "WenQuanYiMicroHei"}, listing


@needs_poppler
def test_the_notice_states_the_contact_the_deadline_and_the_real_hours(tmp_path: Path) -> None:
    owner = _city()
    path, _ = _render(owner, tmp_path, cards=1)
    text = re.sub(r"[ \t]+", " ", _text(path))
    assert "交付通知書番号" in text and "予約番号" not in text
    # Deadline: issued 27 Nov + the policy's 60 days before a reminder.
    assert "受け取り期限：2027年1月26日（火）まで" in text
    assert "電話（03-1234-5678）や窓口でも予約できます" in text
    assert "市民課 マイナンバーカード担当" in text and "受付時間 平日 8:30〜17:15" in text
    # The site's real week: weekdays, the Saturday session, closed on Sundays only.
    assert "月・火・水・木・金 8:30〜17:15 ／ 土 9:00〜12:00" in text
    assert "休み：日曜日、12月8日（火）（庁舎点検）" in text
    assert "臨時開庁：12月6日（日） 9:00〜12:00" in text
    assert "この窓口は2026年12月20日（日）までです。" in text
    assert "土日祝日" not in text


@needs_poppler
def test_without_a_phone_the_notice_does_not_offer_booking_by_phone(tmp_path: Path) -> None:
    owner = _city()
    Municipality.objects.filter(pk=owner.pk).update(contact_phone="")
    owner.refresh_from_db()
    text = _text(_render(owner, tmp_path, cards=1)[0])
    assert "電話" not in text.replace("電話の受付時間", "")
    assert "窓口でも予約できます" in text


@needs_poppler
def test_the_postcard_layout_gives_an_address_side_and_a_notice_side(tmp_path: Path) -> None:
    owner = _city(NoticeLayout.POSTCARD)
    path, pages = _render(owner, tmp_path, cards=2)
    reader = PdfReader(path)
    assert len(reader.pages) == 4 and pages == [1, 3]
    for page in reader.pages:
        width, height = (float(v) * 25.4 / 72 for v in page.mediabox[2:])
        assert (round(width), round(height)) == (100, 148)
    address_side = reader.pages[0].extract_text()
    notice_side = reader.pages[1].extract_text()
    assert "〒123-4567" in address_side and "様" in address_side
    assert "交付通知書番号" in notice_side and "受け取り期限" in notice_side
    mailing = io.StringIO()
    write_mailing_csv(
        list(owner.cards.filter(status=CardStatus.NOTICE_ISSUED).order_by("delivered_on", "pk")),
        mailing,
        pages=pages,
    )
    assert [line.split(",")[0] for line in mailing.getvalue().splitlines()[1:]] == ["1", "3"]


def test_a_notice_lists_only_its_own_municipalitys_sites() -> None:
    owner = _city()
    other = factories.municipality(code="131016", name="よその区")
    pickup = Procedure.objects.get(code="card_pickup")
    theirs = Site.objects.create(
        municipality=other, name="よその区役所", kind="main_office", address="x"
    )
    theirs.procedures.add(pickup)
    OpeningSession.objects.create(
        site=theirs,
        weekday=0,
        kind=SessionKind.WEEKDAY,
        starts_at_time=dt.time(9, 0),
        ends_at_time=dt.time(17, 0),
    )
    # 本庁舎 (from `slots`) has no hours in the coming four weeks: it is not offered.
    assert [s.name for s in notice_context(owner).sites] == ["駅前臨時窓口"]
    with CaptureQueriesContext(connection) as statements:
        assert [s.name for s in notice_context(other).sites] == ["よその区役所"]
    # only its own sites' hours are read (it read every municipality's and kept its own)
    hours = [q["sql"] for q in statements if 'FROM "offices_openingsession"' in q["sql"]]
    assert len(hours) == Site.objects.filter(municipality=other, is_active=True).count(), hours


def test_a_bad_contact_phone_is_refused_in_japanese() -> None:
    from django.core.exceptions import ValidationError

    owner = _city()
    owner.contact_phone = "12345"
    with pytest.raises(ValidationError) as refused:
        owner.full_clean()
    assert "電話番号は0から始まる10桁または11桁" in str(refused.value)


# Each offered language's line, as a resident reads it (written here, not read from the
# catalogue), and the address it gives.
LANGUAGE_LINES = {
    "ja-x-easy": (
        "やさしい日本語: この てがみの せつめいと カードを うけとる よやくを やさしい にほんごで："
    ),
    "en": "English: This notice's guidance and booking your card pick-up in English:",
    "zh-hans": "简体中文: 用简体中文阅读本通知的说明并预约领取：",
    "ko": "한국어: 이 통지서의 안내와 수령 예약을 한국어로:",
    "vi": "Tiếng Việt: Hướng dẫn của thông báo này và đặt lịch nhận thẻ bằng tiếng Việt:",
    "pt-br": "Português: Orientações deste aviso e agendamento da retirada em português:",
}


@needs_poppler
@pytest.mark.parametrize("layout", [NoticeLayout.A4, NoticeLayout.POSTCARD])
def test_the_notice_points_to_the_residents_site_in_every_other_language(
    tmp_path: Path, layout: str
) -> None:
    path, _ = _render(_city(layout), tmp_path, cards=1)
    text = _text(path)
    lines = [" ".join(line.split()) for line in text.splitlines()]

    assert any("ほかの言語での案内（Other languages）" in line for line in lines)
    for code, says in LANGUAGE_LINES.items():
        (line,) = [line for line in lines if line.startswith(" ".join(says.split()))]
        assert line.endswith(f"/lang/{code}/"), line
    assert not any("/lang/ja/" in line for line in lines), "the notice itself is Japanese"
    # every glyph came back as the character drawn: nothing fell back to a missing-glyph box
    assert "\ufffd" not in text and "□□" not in text


def test_the_hours_text_follows_the_active_language() -> None:
    owner = _city()
    with translation.override("en"):
        english = notice_context(owner)
    (site,) = english.sites
    # the notice itself stays Japanese whatever language the staff page ran in
    assert site.hours == "月・火・水・木・金 8:30〜17:15 ／ 土 9:00〜12:00"

    (entry,) = [e for e in site_hours(CARDS_NOW.date(), 28) if e.site.name == "駅前臨時窓口"]
    with translation.override("en"):
        assert weekly_hours(entry.days) == "Mon, Tue, Wed, Thu, Fri 8:30–17:15; Sat 9:00–12:00"
        notes = site_notes(entry.days, entry.site.open_until)
    assert notes[0] == "Closed: Sun (every week), Tue, December 8 (庁舎点検)"
    assert notes[1] == "Special openings: Sun, December 6 9:00–12:00"
    assert notes[2] == "This counter is open until Sunday, December 20, 2026."
    with translation.override("ko"):
        assert site_notes(entry.days, entry.site.open_until)[0].startswith("휴무: 매주 일요일")


@pytest.mark.parametrize("layout", [NoticeLayout.A4, NoticeLayout.POSTCARD])
@pytest.mark.parametrize(
    "address",
    [
        "みどり市中央一丁目2番3号",
        # the longest address the delivery import takes (200 characters)
        "みどり市中央一丁目2番3号グランドメゾンみどり中央レジデンス北棟" + "1203号室" * 30,
    ],
)
def test_the_whole_address_is_printed_in_the_address_block(
    tmp_path: Path, layout: str, address: str
) -> None:
    """A long address is set smaller, on more lines, never cut (it was cut after 72 characters
    on A4 and 56 on a postcard: a letter to half an address)."""
    address = address[:200]
    owner = _city(layout)
    factories.card(owner, status=CardStatus.SETUP_DONE, address=address)
    issued = issue_paced_batch(municipality=owner, actor=SYSTEM)
    path = tmp_path / "notices.pdf"
    render_notice_batches([(notice_context(owner), issued.cards)], str(path))
    first = PdfReader(path).pages[0].extract_text()
    block = first[first.index("〒") : first.index("様")]
    assert address in "".join(block.split()), block


LONG_NAMES = [
    # a foreign resident's name as the register writes it (alphabet, several parts)
    ("RODRIGUES DOS SANTOS OLIVEIRA DE ALBUQUERQUE", "MARIA FERNANDA CRISTINA APARECIDA"),
    # the longest the delivery import takes (100 characters each)
    ("W" * 100, "長" * 100),
]


def _words(path: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """(word, xMin, yMin, xMax, yMax) in points from the top left, as poppler reads them."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        out.stdout,
    )
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in found]


@needs_poppler
@pytest.mark.parametrize("layout", [NoticeLayout.A4, NoticeLayout.POSTCARD])
@pytest.mark.parametrize(("family", "given"), LONG_NAMES, ids=["register-latin", "longest"])
def test_a_long_name_is_printed_whole_inside_its_place(
    tmp_path: Path, layout: str, family: str, given: str
) -> None:
    """The name was set at one size on one line: a long one ran over the notice number's box on
    A4, past the envelope's window, off the postcard and under its QR code."""
    owner = _city(layout)
    factories.card(owner, status=CardStatus.SETUP_DONE, family_name=family, given_name=given)
    issued = issue_paced_batch(municipality=owner, actor=SYSTEM)
    path = tmp_path / "notices.pdf"
    render_notice_batches([(notice_context(owner), issued.cards)], str(path))
    reader = PdfReader(path)
    name = "".join((family + given).split())
    mm = 72 / 25.4
    if layout == NoticeLayout.A4:
        # the window of the envelope: the address block's 93 mm from 25 mm; the box beyond it
        places = [(1, 25 * mm, 118 * mm)]
    else:
        # the address side; the notice side left of the QR code
        places = [(1, 8 * mm, 94 * mm), (2, 6 * mm, 70 * mm)]
    for page, left, right in places:
        text = reader.pages[page - 1].extract_text()
        assert name in "".join(text.split()), (page, text)
        name_words = [
            w
            for w in _words(path, page)
            if set(w[0]) & set(name) and set(w[0]) <= set(name + "　様")
        ]
        assert name_words, page
        for word, x_min, _y_min, x_max, _y_max in name_words:
            assert left - 1 <= x_min and x_max <= right + 1, (page, word, x_min, x_max, right)


@needs_poppler
@pytest.mark.parametrize("layout", [NoticeLayout.A4, NoticeLayout.POSTCARD])
def test_every_line_of_the_notice_stays_inside_the_page_margins(
    tmp_path: Path, layout: str
) -> None:
    """The lines of the form the municipality fills in — a site's name and address, the
    contact line, the documents to bring — were set at one size on one line (or broken every
    so many characters) and ran off the page's right edge when long (a site address may be 200
    characters, and so may the contact address)."""
    owner = _city(layout)
    owner.contact_address = "みどり市中央一丁目1番1号　みどり市役所本庁舎2階　市民課" * 3
    owner.save()
    site = owner.sites.get(name="駅前臨時窓口")
    site.address = ("みどり市駅前二丁目3番4号　駅前ビル3階　マイナンバーカード臨時交付窓口" * 5)[
        :200
    ]
    site.save()
    # Full-width text wrapped by counting characters overran too: the documents, the notes.
    pickup = Procedure.objects.get(code="card_pickup")
    pickup.documents = (
        "交付通知書、写真付きの本人確認書類（運転免許証・旅券・在留カードなど）1点、" * 4
    )
    pickup.proxy_documents = (
        "委任状、代理人の写真付き本人確認書類1点、来庁できない理由を証明する書類、" * 3
    )
    pickup.save()
    path, _pages = _render(owner, tmp_path, cards=1)
    mm = 72 / 25.4
    # A4: the form between 20 mm margins; a postcard: its notice side between 6 mm margins
    page, left, right = (
        (1, 20 * mm, 190 * mm) if layout == NoticeLayout.A4 else (2, 6 * mm, 94 * mm)
    )
    outside = [w for w in _words(path, page) if w[3] > right + 1 or w[1] < left - 1]
    assert outside == [], outside
    text = "".join(PdfReader(path).pages[page - 1].extract_text().split())
    if layout == NoticeLayout.A4:  # a postcard names the sites only
        assert "".join(site.address.split()) in text  # shrunk or wrapped, never cut
    assert "".join(pickup.documents.split()) in text
