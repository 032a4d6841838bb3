"""Names and addresses with characters beyond IPAex Gothic print, and one no font has is marked.

Read back as a mailing house checks a file: poppler's `pdftotext` (the text layer) and `pdffonts`
(every font embedded). Decision 0033.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.http import FileResponse
from django.test import Client
from django.urls import reverse
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from madoguchi.core import clock
from madoguchi.issuance import typeset
from madoguchi.issuance.models import BatchKind, CardStatus, NoticeBatch
from madoguchi.issuance.notices import notice_context, render_notice_batches
from madoguchi.offices.models import NoticeLayout
from madoguchi.reservations.pacing import issue_paced_batch
from madoguchi.staff.models import Role
from tests.conftest import login_staff
from tests.frozen_clock import CARDS_NOW
from tests.issuance import factories
from tests.issuance.test_notice_print import SYSTEM, _city, _text, needs_poppler, poppler

# 𠮷 (U+20BB7, the "tsuchi-yoshi" of 吉田): in IPAmj only; 𠀋 and 𡈽: JIS X 0213 plane 2
# (levels 3/4), beyond U+FFFF, in IPAex; 髙 and 﨑: in IPAex; 葛󠄂 and 邉󠄐: variation sequences
# of the registers' character set (文字情報基盤) that only IPAmj draws; 葛󠄀: the Adobe-Japan1
# sequence IPAex defines.
TSUCHI_YOSHI = "\U00020bb7"
KUZU_VARIANT = "葛\U000e0102"
WATANABE_VARIANT = "邉\U000e0110"
KUZU_ADOBE = "葛\U000e0100"
NAMES = {
    "family_name": f"{TSUCHI_YOSHI}田",
    "given_name": "髙﨑",
    "address": f"{KUZU_VARIANT}城市𠀋町{WATANABE_VARIANT}一丁目𡈽番地{KUZU_ADOBE}西",
}
NO_FONT = "\U00030000"  # CJK Extension G: in no bundled font
__all__ = ["poppler"]  # the fixture needs_poppler asks for


def _fonts(path: Path) -> dict[str, str]:
    """pdffonts' rows: each font's name (no subset tag, no face index) → "type emb"."""
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    fonts = {}
    for row in listing[2:]:  # after the header and its rule
        columns = row.split()
        # name type encoding emb sub uni object ID: "emb" is the 5th column from the end
        fonts[columns[0].split("+", 1)[-1].split("-", 1)[0]] = f"{columns[1]} {columns[-5]}"
    return fonts


def _print(tmp_path: Path, layout: str = NoticeLayout.A4, **names: str) -> Path:
    owner = _city(layout)
    factories.card(owner, status=CardStatus.SETUP_DONE, **names)
    issued = issue_paced_batch(municipality=owner, actor=SYSTEM)
    path = tmp_path / "notices.pdf"
    render_notice_batches([(notice_context(owner), issued.cards)], str(path))
    return path


@needs_poppler
@pytest.mark.django_db
@pytest.mark.frozen_at(CARDS_NOW)
@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("layout", [NoticeLayout.A4, NoticeLayout.POSTCARD])
def test_names_beyond_ipaex_read_back_from_the_notice_with_every_font_embedded(
    tmp_path: Path, layout: str
) -> None:
    path = _print(tmp_path, layout, **NAMES)
    text = re.sub(r"\s+", "", _text(path))
    assert f"{TSUCHI_YOSHI}田髙﨑様" in text
    assert f"{KUZU_VARIANT}城市𠀋町{WATANABE_VARIANT}一丁目𡈽番地{KUZU_ADOBE}西" in text
    assert typeset.GETA not in text
    fonts = _fonts(path)
    assert fonts == {
        typeset.FONT: "TrueType yes",
        typeset.WIDE_FONT: "TrueType yes",
        typeset.FALLBACK_FONT: "TrueType yes",
    }


@needs_poppler
@pytest.mark.django_db
@pytest.mark.frozen_at(CARDS_NOW)
@pytest.mark.usefixtures("frozen")
def test_a_name_ipaex_writes_whole_needs_no_fallback_font(tmp_path: Path) -> None:
    path = _print(tmp_path, family_name="吉田", given_name="髙﨑")
    assert "吉田髙﨑様" in re.sub(r"\s+", "", _text(path))
    assert typeset.FALLBACK_FONT not in _fonts(path)


@needs_poppler
@pytest.mark.django_db
@pytest.mark.frozen_at(CARDS_NOW)
@pytest.mark.usefixtures("frozen")
def test_a_character_no_font_has_prints_as_geta_not_as_a_blank(tmp_path: Path) -> None:
    path = _print(tmp_path, family_name=f"{NO_FONT}田", given_name="太郎")
    text = re.sub(r"\s+", "", _text(path))
    assert f"{typeset.GETA}田太郎様" in text
    assert NO_FONT not in text


def test_a_line_ipaex_writes_whole_is_one_run_in_its_font() -> None:
    assert typeset.runs("吉田 髙﨑　みどり市1-2-3") == [(typeset.FONT, "吉田 髙﨑　みどり市1-2-3")]


def test_each_character_is_drawn_by_the_first_font_that_has_it() -> None:
    private = typeset.sequences()[KUZU_VARIANT]
    assert typeset.runs(f"{TSUCHI_YOSHI}田{KUZU_VARIANT}{NO_FONT}様") == [
        (typeset.FALLBACK_FONT, f"{TSUCHI_YOSHI}"),
        (typeset.FONT, "田"),
        (typeset.FALLBACK_FONT, private),
        (typeset.FONT, f"{typeset.GETA}様"),
    ]
    # A guidance line in WenQuanYi Micro Hei keeps its own font first.
    assert typeset.runs("한국어 吉", typeset.WIDE_FONT) == [(typeset.WIDE_FONT, "한국어 吉")]


def test_a_selector_stays_with_its_base_and_an_unknown_sequence_prints_its_base() -> None:
    assert typeset.clusters(f"a{KUZU_VARIANT}b") == ["a", KUZU_VARIANT, "b"]
    # A sequence no bundled font defines: the standard 葛, not a mark.
    assert typeset.runs("葛\U000e01ef城") == [(typeset.FONT, "葛城")]
    assert typeset.missing("葛\U000e01ef城") == []


def test_a_sequence_ipaex_defines_is_drawn_by_ipaex_with_its_own_glyph() -> None:
    private, glyph = typeset.font_sequences()[KUZU_ADOBE]
    assert typeset.runs(f"{KUZU_ADOBE}城") == [(typeset.FONT, f"{private}城")]
    face = pdfmetrics.getFont(typeset.FONT).face
    assert face.charToGlyph[ord(private)] == glyph != face.charToGlyph[ord("葛")]


def test_the_list_of_ipaexs_sequences_is_the_fonts_own() -> None:
    """`ipaexg-ivs.txt` was written from `ipaexg.ttf` (build_fallback_font.py
    --primary-sequences); read again from the font, it is the same."""
    from fontTools.ttLib import TTFont

    with TTFont(typeset.FONT_FILE, lazy=True) as font:
        cmap = font.getBestCmap()
        table = next(t for t in font["cmap"].tables if t.format == 14)
        expected = {
            chr(base) + chr(selector): font.getGlyphID(glyph or cmap[base])
            for selector, entries in table.uvsDict.items()
            for base, glyph in entries
        }
    assert {text: gid for text, (_, gid) in typeset.font_sequences().items()} == expected


def test_missing_names_only_the_characters_no_font_has() -> None:
    assert typeset.missing(f"{TSUCHI_YOSHI}田{NO_FONT}\ue000") == [NO_FONT, "\ue000"]
    assert typeset.missing("吉田") == []


@needs_poppler
def test_the_text_layer_writes_characters_beyond_u_ffff_as_utf16(tmp_path: Path) -> None:
    """reportlab's own ToUnicode map wrote 𠀋 as <2000B> (U+2000 and a "B")."""
    typeset.register_fonts()
    path = tmp_path / "one.pdf"
    canvas = Canvas(str(path))
    canvas.setFont(typeset.FONT, 12)
    typeset.draw(canvas, 50, 700, f"𠀋{TSUCHI_YOSHI}{WATANABE_VARIANT}")
    typeset.draw(canvas, 500, 650, "右寄せ𠮷", right=True)
    canvas.save()
    raw = path.read_bytes()
    assert raw.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"𠀋{TSUCHI_YOSHI}{WATANABE_VARIANT}" in text.replace("\n", "")
    assert "右寄せ𠮷" in text


def test_the_derived_font_does_not_carry_the_original_fonts_name() -> None:
    """IPA Font License, Article 3.1(4): a derived program may not use the original's name as
    its font or file name."""
    from fontTools.ttLib import TTFont

    with TTFont(typeset.FALLBACK_FONT_FILE, lazy=True) as font:
        names = {(r.nameID, r.toUnicode()) for r in font["name"].names}
    assert (1, "Madoguchi Fallback Mincho") in names
    for name_id, text in names:
        if name_id in (1, 3, 4, 6, 16, 17, 18, 21, 22):
            assert "IPA" not in text, (name_id, text)
    assert "ipa" not in typeset.FALLBACK_FONT_FILE.name.lower()
    licence = typeset.FONTS / "IPA_Font_License_Agreement_v1.0.txt"
    readme = (typeset.FONTS / "README-madoguchi-fallback-mincho.txt").read_text(encoding="utf-8")
    assert licence.exists() and "IPAmj" in readme


@pytest.mark.django_db
@pytest.mark.frozen_at(CARDS_NOW)
@pytest.mark.usefixtures("frozen")
def test_the_notices_command_names_each_card_and_character_before_printing(
    tmp_path: Path,
) -> None:
    owner = _city()
    flagged = factories.card(owner, status=CardStatus.SETUP_DONE, family_name=f"{NO_FONT}田")
    factories.card(owner, status=CardStatus.SETUP_DONE, family_name=f"{TSUCHI_YOSHI}田")
    out = StringIO()
    call_command("notices", "--out", str(tmp_path / "n.pdf"), stdout=out)
    lines = [line for line in out.getvalue().splitlines() if "U+" in line]
    assert lines == [
        f"{owner.name}: 申請書ID {flagged.application_id}：{NO_FONT}（U+30000）"
        "（どのフォントにもない文字は〓で印刷されます）"
    ], out.getvalue()


@pytest.mark.django_db
@pytest.mark.frozen_at(CARDS_NOW)
@pytest.mark.usefixtures("frozen")
def test_issuing_a_batch_warns_the_staff_of_each_card_with_a_character_no_font_has() -> None:
    owner = _city()
    flagged = factories.card(owner, status=CardStatus.SETUP_DONE, address=f"みどり市{NO_FONT}町")
    plain = factories.card(owner, status=CardStatus.SETUP_DONE, family_name=f"{TSUCHI_YOSHI}田")
    client = Client()
    login_staff(client, factories.staff(Role.OFFICIAL, owner))
    page = client.post(reverse("issuance:issue"), follow=True).content.decode()
    assert "交付通知書 2通を発行しました。" in page
    assert "どのフォントにもない文字があります" in page
    assert f"申請書ID {flagged.application_id}（{NO_FONT}（U+30000））" in page
    assert plain.application_id not in page


@pytest.mark.django_db
@pytest.mark.frozen_at(CARDS_NOW)
@pytest.mark.usefixtures("frozen")
def test_a_batch_whose_characters_all_print_gives_no_warning() -> None:
    owner = _city()
    factories.card(owner, status=CardStatus.SETUP_DONE, family_name=f"{TSUCHI_YOSHI}田")
    client = Client()
    login_staff(client, factories.staff(Role.OFFICIAL, owner))
    page = client.post(reverse("issuance:issue"), follow=True).content.decode()
    assert "交付通知書 1通を発行しました。" in page
    assert "どのフォントにもない文字" not in page


@needs_poppler
@pytest.mark.django_db
@pytest.mark.frozen_at(CARDS_NOW)
@pytest.mark.usefixtures("frozen")
def test_reminder_letters_print_the_names_and_their_batch_warns_like_notices(
    tmp_path: Path,
) -> None:
    """The reminder letter is the other PDF residents get: same lines, same warning."""
    owner = _city()
    at = clock.now() - dt.timedelta(days=61)
    due = {"status": CardStatus.NOTICE_ISSUED, "first_notice_issued_at": at}
    factories.card(owner, notice_issued_at=at, family_name=f"{TSUCHI_YOSHI}田", **due)
    flagged = factories.card(owner, notice_issued_at=at, given_name=f"{NO_FONT}子", **due)
    client = Client()
    login_staff(client, factories.staff(Role.OFFICIAL, owner))
    page = client.post(reverse("issuance:remind"), follow=True).content.decode()
    assert "再通知 2通を発行しました。" in page
    assert f"申請書ID {flagged.application_id}（{NO_FONT}（U+30000））" in page
    batch = NoticeBatch.objects.get(municipality=owner, kind=BatchKind.REMINDER)
    pdf = client.get(reverse("issuance:batch_pdf", args=[batch.pk]))
    assert isinstance(pdf, FileResponse)
    path = tmp_path / "reminders.pdf"
    path.write_bytes(b"".join(pdf.streaming_content))
    text = re.sub(r"\s+", "", _text(path))
    assert "再通知" in text
    assert f"{TSUCHI_YOSHI}田花子様" in text and f"山田{typeset.GETA}子様" in text
    assert set(_fonts(path).values()) == {"TrueType yes"}


@pytest.mark.django_db
@pytest.mark.frozen_at(CARDS_NOW)
@pytest.mark.usefixtures("frozen")
def test_the_card_page_warns_of_a_character_no_font_has_and_only_then() -> None:
    owner = factories.municipality()
    flagged = factories.card(owner, address=f"みどり市{NO_FONT}町")
    plain = factories.card(owner, family_name=f"{TSUCHI_YOSHI}田")
    client = Client()
    login_staff(client, factories.staff(Role.OFFICIAL, owner))
    page = client.get(reverse("issuance:card", args=[flagged.pk])).content.decode()
    assert f"どのフォントにもない文字があります：{NO_FONT}（U+30000）" in page
    page = client.get(reverse("issuance:card", args=[plain.pk])).content.decode()
    assert "どのフォントにもない文字" not in page


@pytest.mark.django_db
@pytest.mark.frozen_at(CARDS_NOW)
@pytest.mark.usefixtures("frozen")
def test_the_dashboards_list_of_batches_names_the_cards_on_every_visit() -> None:
    """Whoever opens the dashboard later to print a batch is told too, not only who made it."""
    owner = _city()
    client = Client()
    login_staff(client, factories.staff(Role.OFFICIAL, owner))
    plain = factories.card(owner, status=CardStatus.SETUP_DONE, family_name=f"{TSUCHI_YOSHI}田")
    issue_paced_batch(municipality=owner, actor=SYSTEM)
    page = client.get(reverse("issuance:dashboard")).content.decode()
    assert "交付通知書" in page and "どのフォントにもない文字" not in page
    flagged = factories.card(owner, status=CardStatus.SETUP_DONE, given_name=f"{NO_FONT}子")
    issue_paced_batch(municipality=owner, actor=SYSTEM)
    page = client.get(reverse("issuance:dashboard")).content.decode()
    assert page.count("どのフォントにもない文字（〓と印刷されます）") == 1
    assert f"申請書ID {flagged.application_id}（{NO_FONT}（U+30000））" in page
    assert plain.application_id not in page
