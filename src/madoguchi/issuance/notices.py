"""Issuance notices (交付通知書) as one PDF per batch, and the CSV for a mailing house.

A4 (one page per card, for a window envelope) or a postcard (はがき: the address side, then the
notice side), as the municipality chooses. Each notice has the address block, the notice number
(交付通知書番号) with the QR code opening the booking page with the number filled in (the same URL
is printed under the code and attached as a link), the deadline to collect the card, the
municipality's contact, the hand-over sites with their real hours for the coming four weeks
(weekend and evening sessions, closed days with their reason, special openings), what to bring,
and on A4 the proxy (委任) section. Everything that is the same on every page is drawn once as a
PDF form and reused, which keeps 10,000 pages fast and the file small. The fonts are TrueType,
shipped in `issuance/fonts/` and embedded (subset) in every PDF, so a mailing house prints exactly
what was drawn: IPAex Gothic (IPA Font License) for Japanese and Latin text, and WenQuanYi Micro
Hei (Apache-2.0) for the lines IPAex cannot write — Hangul, simplified Chinese, Vietnamese. Every
line goes through `issuance.typeset.draw`: a character of a name or address IPAex lacks (𠮷, a
variation sequence) is drawn in Madoguchi Fallback Mincho (IPAmj Mincho's characters), one no
bundled font has as 〓 — never a blank (decision 0033).

The notice is printed before anyone has chosen a language, so it is Japanese (its hours text is
rendered under `translation.override("ja")`) with one short line per other offered language, in
that language, pointing at the residents' site in it (`resident_site:in_language`).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlencode

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from madoguchi.core import clock
from madoguchi.core.csvsafe import safe_writer
from madoguchi.core.links import public_url
from madoguchi.issuance.models import CardRecord
from madoguchi.issuance.numbers import format_notice_number
from madoguchi.issuance.qr import qr_path_literal
from madoguchi.issuance.typeset import (
    FONT,
    WIDE_FONT,
    clusters,
    covered,
    draw,
    register_fonts,
    string_width,
)
from madoguchi.offices.hours_text import jp_date, site_notes, weekly_hours
from madoguchi.offices.models import Municipality, NoticeLayout, ProcedureCode
from madoguchi.offices.selectors import site_hours
from madoguchi.offices.tenancy import resident_base_url

PARALLEL_FROM = 1000
QR_WORKERS = 2
LANGUAGES_HEADING = "ほかの言語での案内（Other languages）"
HOURS_DAYS = 28  # the sites' hours printed: the coming four weeks
PAGE_WIDTH, PAGE_HEIGHT = A4
POSTCARD = (100 * mm, 148 * mm)
LEFT = 20 * mm
TEXT_WIDTH = PAGE_WIDTH - 2 * LEFT
"""The A4 form's text runs between the two 20 mm margins."""
NOTICE_NUMBER_LABEL = "交付通知書番号"
MAILING_COLUMNS = (
    "page",
    "notice_number",
    "postal_code",
    "address",
    "name",
    "name_kana",
    "application_id",
)


def font_for(text: str) -> str:
    """A guidance line's font: IPAex Gothic when it has a glyph for every character of
    `text`, else WenQuanYi Micro Hei (Hangul, simplified Chinese, Vietnamese)."""
    return FONT if covered(FONT).issuperset(text) else WIDE_FONT


def language_lines(site_url: str) -> tuple[str, ...]:
    """One line per offered language other than Japanese, in that language: where to read the
    guidance and book the pick-up in it (docs/languages.md) — on the residents' site at
    `site_url` (`offices.tenancy.resident_base_url`: the municipality's host, or /m/<code>/
    among several)."""
    lines = []
    for code, name in settings.LANGUAGES:
        if code == settings.LANGUAGE_CODE:
            continue
        url = public_url("resident_site:in_language", kwargs={"code": code}, base=site_url)
        with translation.override(code):
            text = gettext("この通知書の案内と受け取りの予約をこの言語で：%(url)s") % {"url": url}
        lines.append(f"{name}: {text}")
    return tuple(lines)


def booking_urls(notice_numbers: Sequence[str], site_url: str) -> list[str]:
    """The residents' card pick-up booking page with each number filled in (one reverse), on
    the residents' site at `site_url` (`offices.tenancy.resident_base_url`)."""
    page = public_url(
        "resident_site:sites", kwargs={"procedure": ProcedureCode.CARD_PICKUP}, base=site_url
    )
    return [f"{page}?{urlencode({'notice': number})}" for number in notice_numbers]


@dataclass(frozen=True)
class SiteLines:
    name: str
    address: str
    hours: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoticeContext:
    """What is the same on every page of a batch (one municipality)."""

    municipality_name: str
    sites: tuple[SiteLines, ...]
    documents: str
    proxy_documents: str
    issued_on: dt.date
    site_url: str
    """Where the batch's QR codes and language lines point: the municipality's residents' site
    (`offices.tenancy.resident_base_url`), asked once per batch."""
    collect_by: dt.date | None = None
    contact: tuple[str, ...] = ()
    phone: str = ""
    layout: str = NoticeLayout.A4
    reminder: bool = False
    languages: tuple[str, ...] = ()
    """`language_lines()`: one line per other offered language."""

    @property
    def title(self) -> str:
        if self.reminder:
            return "マイナンバーカード交付通知書（再通知）"
        return "マイナンバーカード交付通知書（兼 照会書）"

    @property
    def intro(self) -> str:
        if self.reminder:
            return (
                f"マイナンバーカードをまだお受け取りいただいていません。上の{NOTICE_NUMBER_LABEL}で"
                "受け取りの予約をしてから、この通知書を持って窓口へお越しください。"
                "期限を過ぎたカードは廃棄します。"
            )
        return (
            f"マイナンバーカードができあがりました。上の{NOTICE_NUMBER_LABEL}で受け取りの予約を"
            "してから、この通知書を持って窓口へお越しください。"
        )


def notice_context(
    municipality: Municipality, *, today: dt.date | None = None, reminder: bool = False
) -> NoticeContext:
    """The municipality's card pick-up sites with their hours for the coming four weeks, its
    contact and the deadline to collect (read once per batch)."""

    with translation.override(settings.LANGUAGE_CODE):  # the notice is Japanese
        return _notice_context(municipality, today=today or clock.today(), reminder=reminder)


def _notice_context(municipality: Municipality, *, today: dt.date, reminder: bool) -> NoticeContext:
    sites = []
    documents = proxy_documents = ""
    for entry in site_hours(today, HOURS_DAYS, municipality):
        pickup = next((p for p in entry.procedures if p.code == ProcedureCode.CARD_PICKUP), None)
        if pickup is None or not any(day.is_open for day in entry.days):
            continue
        documents, proxy_documents = pickup.documents, pickup.proxy_documents
        sites.append(
            SiteLines(
                name=entry.site.name,
                address=entry.site.address,
                hours=weekly_hours(entry.days) or "臨時開庁の日のみ",
                notes=site_notes(entry.days, entry.site.open_until),
            )
        )
    site_url = resident_base_url(municipality)
    contact = tuple(
        line
        for line in (
            municipality.contact_name,
            municipality.contact_address,
            f"電話 {municipality.contact_phone}" if municipality.contact_phone else "",
            f"受付時間 {municipality.contact_hours}" if municipality.contact_hours else "",
        )
        if line
    )
    return NoticeContext(
        municipality_name=municipality.name,
        sites=tuple(sites),
        documents=documents or "交付通知書、本人確認書類、今お持ちのカード",
        proxy_documents=proxy_documents,
        issued_on=today,
        site_url=site_url,
        collect_by=_collect_by_date(municipality, today, reminder=reminder),
        reminder=reminder,
        contact=contact or (municipality.name,),
        phone=municipality.contact_phone,
        layout=municipality.notice_layout,
        languages=language_lines(site_url),
    )


def _collect_by_date(
    municipality: Municipality, today: dt.date, *, reminder: bool
) -> dt.date | None:
    """A notice: collect before the reminder is due. A reminder: before the card may be
    destroyed, where that date is the same for the whole batch (the after-reminder rule)."""
    from madoguchi.core.dates import add_months
    from madoguchi.issuance.models import DestroyRule
    from madoguchi.issuance.services import policy_for

    policy = policy_for(municipality)
    if not reminder:
        return today + dt.timedelta(days=policy.reminder_after_days)
    if policy.destroy_rule == DestroyRule.AFTER_REMINDER:
        return add_months(today, policy.destroy_months_after_reminder)
    return None


ADDRESS_SIZES = (11.0, 10.0, 9.0, 8.0, 7.0, 6.0, 5.0)
"""The address block's font sizes, largest first: a long address is set smaller, never cut."""


def _fit_lines(
    text: str, *, width: float, height: float, sizes: Sequence[float] = ADDRESS_SIZES
) -> tuple[float, float, list[str]]:
    """`text` broken into lines no wider than `width` (points) at the largest of `sizes` whose
    lines fit in `height`: (size, line step, lines). At the smallest size every line is
    returned even when they do not fit — a block running long beats a cut address."""
    register_fonts()
    face = pdfmetrics.getFont(FONT)
    # A text IPAex writes whole is measured a character at a time, as always; any other a
    # character with its variation selectors at a time, each in the font that draws it.
    plain = covered(FONT).issuperset(text)
    units = text if plain else clusters(text)
    lines: list[str] = []
    size = step = sizes[-1]
    for size in sizes:
        step = size * 1.55
        lines, line, used = [], "", 0.0
        for char in units:
            advance = face.stringWidth(char, size) if plain else string_width(char, FONT, size)
            if line and used + advance > width:
                lines.append(line)
                line, used = "", 0.0
            line += char
            used += advance
        lines.append(line)
        if len(lines) * step <= height:
            break
    return size, step, lines


def _draw_address(
    canvas: Canvas, text: str, *, x: float, first_baseline: float, width: float, height: float
) -> None:
    size, step, lines = _fit_lines(text, width=width, height=height)
    canvas.setFont(FONT, size)
    for index, line in enumerate(lines):
        draw(canvas, x, first_baseline - index * step, line)


def _draw_name(
    canvas: Canvas,
    card: CardRecord,
    *,
    x: float,
    baseline: float,
    width: float,
    size: float,
    kana_size: float | None = None,
    kana_below: float = 0.0,
) -> None:
    """The holder's name (with 様) at `size`, and under it the kana at `kana_size`, each set
    smaller — down to a third, then on more lines — so that a long name (a foreign resident's
    in the alphabet, up to 100 characters a part) stays whole inside `width`: it ran over the
    notice number's box, out of the envelope's window and off the postcard."""
    sizes = _sizes_down_from(size)
    name_size, step, lines = _fit_lines(
        f"{card.full_name}　様", width=width, height=size * 1.55, sizes=sizes
    )
    canvas.setFont(FONT, name_size)
    for index, line in enumerate(lines):
        draw(canvas, x, baseline - index * step, line)
    if kana_size is None:
        return
    kana_baseline = baseline - kana_below - (len(lines) - 1) * step
    kana_fit, kana_step, kana_lines = _fit_lines(
        card.full_name_kana,
        width=width,
        height=kana_size * 1.55,
        sizes=_sizes_down_from(kana_size),
    )
    canvas.setFont(FONT, kana_fit)
    for index, line in enumerate(kana_lines):
        draw(canvas, x, kana_baseline - index * kana_step, line)


def _draw_within(
    canvas: Canvas, x: float, y: float, text: str, *, width: float, size: float
) -> float:
    """`text` from (x, y) at `size`, set smaller (to 6 pt) to stay on one line inside `width`,
    and only then on more lines: a line the municipality fills in (a site's name and address,
    the contact line) ran off the page when long. Returns the last line's baseline; the font
    is `size` again afterwards."""
    sizes = tuple(s for s in _sizes_down_from(size) if s >= 6.0) or (size,)
    fitted, step, lines = _fit_lines(text, width=width, height=size * 1.55, sizes=sizes)
    canvas.setFont(FONT, fitted)
    for index, line in enumerate(lines):
        draw(canvas, x, y - index * step, line)
    canvas.setFont(FONT, size)
    return y - (len(lines) - 1) * step


def _sizes_down_from(size: float) -> tuple[float, ...]:
    """Font sizes from `size` down to a third of it (not below 4 pt), half a point apart."""
    smallest = max(4.0, size / 3)
    steps = int((size - smallest) * 2)
    return tuple(size - 0.5 * i for i in range(steps + 1))


def _wrap(text: str, width: float, size: float) -> list[str]:
    """`text` broken into lines no wider than `width` points at `size` (measured, not counted:
    a line of full-width characters broken every so many characters ran off the page)."""
    return _fit_lines(text, width=width, height=float("inf"), sizes=(size,))[2]


def _how_to_book(context: NoticeContext) -> list[str]:
    lines = [
        "QRコードを読み取るか、下のアドレスを開くと、交付通知書番号が入った予約画面が開きます。",
        f"予約には、{NOTICE_NUMBER_LABEL}とご本人の生年月日が必要です。",
    ]
    if context.phone:
        lines.append(f"電話（{context.phone}）や窓口でも予約できます。")
    else:
        lines.append("窓口でも予約できます。")
    return lines


def _collect_by(context: NoticeContext) -> str:
    if context.collect_by is None:
        return ""
    day = context.collect_by
    return f"受け取り期限：{day.year}年{jp_date(day)}まで"


def _draw_static(canvas: Canvas, context: NoticeContext) -> None:
    """The parts of an A4 page that are the same for every resident (drawn once, as a form)."""
    top = PAGE_HEIGHT - 20 * mm
    canvas.setFont(FONT, 16)
    draw(canvas, LEFT, top - 75 * mm, context.title)
    canvas.setFont(FONT, 9.5)
    y = top - 84 * mm
    for line in _wrap(context.intro, TEXT_WIDTH, 9.5):
        draw(canvas, LEFT, y, line)
        y -= 5 * mm
    canvas.setFont(FONT, 11)
    draw(canvas, LEFT, y - 1 * mm, _collect_by(context))
    y = top - 112 * mm
    canvas.setFont(FONT, 11)
    draw(canvas, LEFT, y, "予約のしかた")
    canvas.setFont(FONT, 8.5)
    for line in _how_to_book(context):
        y -= 4.8 * mm
        draw(canvas, LEFT, y, line)
    y -= 8 * mm
    canvas.setFont(FONT, 11)
    draw(canvas, LEFT, y, f"受け取りができる窓口と時間（{jp_date(context.issued_on)}から4週間）")
    canvas.setFont(FONT, 8)
    for site in context.sites:
        y -= 4.4 * mm
        y = _draw_within(
            canvas,
            LEFT + 2 * mm,
            y,
            f"■ {site.name}　{site.address}",
            width=PAGE_WIDTH - 2 * LEFT - 2 * mm,
            size=8,
        )
        inner = TEXT_WIDTH - 6 * mm
        for line in [
            *_wrap(site.hours, inner, 8),
            *(w for n in site.notes for w in _wrap(n, inner, 8)),
        ]:
            y -= 3.9 * mm
            draw(canvas, LEFT + 6 * mm, y, line)
    y -= 8 * mm
    canvas.setFont(FONT, 11)
    draw(canvas, LEFT, y, "お持ちいただくもの")
    canvas.setFont(FONT, 8.5)
    for line in _wrap(context.documents, TEXT_WIDTH - 2 * mm, 8.5):
        y -= 4.4 * mm
        draw(canvas, LEFT + 2 * mm, y, line)
    y -= 7 * mm
    canvas.setFont(FONT, 11)
    draw(canvas, LEFT, y, "お問い合わせ")
    canvas.setFont(FONT, 8.5)
    y -= 4.4 * mm
    y = _draw_within(
        canvas,
        LEFT + 2 * mm,
        y,
        "　".join(context.contact),
        width=PAGE_WIDTH - 2 * LEFT - 2 * mm,
        size=8.5,
    )
    y -= 6 * mm
    canvas.setDash(3, 2)
    canvas.line(LEFT, y, PAGE_WIDTH - LEFT, y)
    canvas.setDash()
    y -= 6 * mm
    canvas.setFont(FONT, 11)
    draw(canvas, LEFT, y, "委任状（代理人が受け取る場合）")
    canvas.setFont(FONT, 8)
    proxy_lines = [
        "ご本人が病気・障害・高齢（75歳以上）・長期入院・施設入所・妊娠・長期海外滞在などで",
        "来庁が難しい場合に限り、代理人が受け取れます（仕事で忙しいという理由は対象外です）。",
        *_wrap("代理人の持ち物: " + (context.proxy_documents or ""), TEXT_WIDTH - 2 * mm, 8),
        "私は、下記の者を代理人と定め、マイナンバーカードの受け取りを委任します。",
        "代理人の氏名 ____________________　代理人の生年月日 ______年____月____日",
        "代理人の住所 ______________________________________________________",
        "来庁できない理由 □病気・障害 □75歳以上 □入院・施設入所 □妊娠 □海外滞在 □その他",
        "ご本人の署名 ____________________　記入日 ______年____月____日",
    ]
    for line in proxy_lines:
        y -= 4.3 * mm
        draw(canvas, LEFT + 2 * mm, y, line)
    if context.languages:
        y -= 6 * mm
        canvas.setFont(FONT, 8.5)
        draw(canvas, LEFT, y, LANGUAGES_HEADING)
        y -= 3.6 * mm
        _draw_language_lines(
            canvas, context, LEFT + 2 * mm, y, PAGE_WIDTH - 2 * LEFT - 2 * mm, 7, 3.6 * mm
        )
    canvas.setFont(FONT, 8)
    draw(
        canvas,
        LEFT,
        10 * mm,
        f"{context.municipality_name}　発行日 {context.issued_on:%Y年%m月%d日}",
    )


def _draw_language_lines(
    canvas: Canvas,
    context: NoticeContext,
    x: float,
    y: float,
    width: float,
    size: float,
    step: float,
) -> float:
    """The other languages' lines from `y` down, each in a font that has its characters and
    made smaller when it would not fit `width`; returns the last line's y."""
    for line in context.languages:
        font = font_for(line)
        fitted = min(size, size * width / max(string_width(line, font, size), 1))
        canvas.setFont(font, fitted)
        draw(canvas, x, y, line)
        y -= step
    return y + step


def _draw_postcard_static(canvas: Canvas, context: NoticeContext) -> None:
    """The notice side of a postcard, the same for every resident (drawn once, as a form)."""
    height = POSTCARD[1]
    x = 6 * mm
    width = POSTCARD[0] - 2 * x  # the text runs between 6 mm margins
    y = height - 9 * mm
    canvas.setFont(FONT, 10.5)
    draw(canvas, x, y, context.title.replace("（兼 照会書）", ""))
    canvas.setFont(FONT, 7)
    y -= 35 * mm  # the number, the QR code and its address sit here (drawn per card)
    canvas.setFont(FONT, 8.5)
    draw(canvas, x, y, _collect_by(context))
    canvas.setFont(FONT, 6)
    for line in _how_to_book(context):
        for part in _wrap(line, width, 6):
            y -= 3.2 * mm
            draw(canvas, x, y, part)
    y -= 4.2 * mm
    canvas.setFont(FONT, 7)
    draw(canvas, x, y, f"受け取りの窓口と時間（{jp_date(context.issued_on)}から4週間）")
    canvas.setFont(FONT, 5.6)
    for site in context.sites:
        y -= 3 * mm
        for index, line in enumerate(_wrap(f"■ {site.name}", width, 5.6)):
            y -= 2.7 * mm if index else 0
            draw(canvas, x, y, line)
        inner = width - 2 * mm
        for line in [
            *_wrap(site.hours, inner, 5.6),
            *(w for n in site.notes for w in _wrap(n, inner, 5.6)),
        ]:
            y -= 2.7 * mm
            draw(canvas, x + 2 * mm, y, line)
    y -= 3.6 * mm
    canvas.setFont(FONT, 5.6)
    for line in _wrap("持ち物：" + context.documents, width, 5.6):
        draw(canvas, x, y, line)
        y -= 2.7 * mm
    draw(canvas, x, y, "代理人による受け取りは、お問い合わせください。")
    y -= 3.6 * mm
    first, *rest = context.contact or ("",)
    for line in (w for part in ("お問い合わせ：" + first, *rest) for w in _wrap(part, width, 5.6)):
        draw(canvas, x, y, line)
        y -= 2.7 * mm
    if context.languages:
        y -= 0.8 * mm
        canvas.setFont(FONT, 5)
        draw(canvas, x, y, LANGUAGES_HEADING)
        y -= 2.4 * mm
        _draw_language_lines(canvas, context, x, y, POSTCARD[0] - 2 * x, 4.5, 2.3 * mm)
        canvas.setFont(FONT, 5.6)
    draw(canvas, x, 4 * mm, f"{context.municipality_name}　発行日 {context.issued_on:%Y年%m月%d日}")


def _draw_qr(canvas: Canvas, code: tuple[int, str], x: float, y: float, size: float) -> None:
    """Place a QR code (from `qr_path_literal`) as one filled path scaled to `size`."""
    modules, literal = code
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(size / modules, size / modules)
    canvas.addLiteral(literal)
    canvas.restoreState()


def _qr_codes(payloads: Sequence[str]) -> Iterator[tuple[int, str]]:
    """QR path literals in order; large batches use forked worker processes (encoding is the
    slow part; the workers only run segno and never touch the database)."""
    if len(payloads) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        yield from map(qr_path_literal, payloads)
        return
    workers = min(QR_WORKERS, os.cpu_count() or 1)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(qr_path_literal, payloads, chunksize=250)


def _draw_card_page(canvas: Canvas, card: CardRecord, code: tuple[int, str], payload: str) -> None:
    top = PAGE_HEIGHT - 20 * mm
    number = card.notice_number or ""
    # Address block (window envelope position).
    canvas.setFont(FONT, 11)
    draw(canvas, LEFT + 5 * mm, top - 5 * mm, f"〒{card.postal_code}")
    # 24 characters a line at 11 pt, baselines down to 17 mm above the name.
    _draw_address(
        canvas,
        card.address,
        x=LEFT + 5 * mm,
        first_baseline=top - 13 * mm,
        width=93 * mm,
        height=20 * mm,
    )
    _draw_name(  # inside the window, left of the notice number's box
        canvas,
        card,
        x=LEFT + 5 * mm,
        baseline=top - 37 * mm,
        width=93 * mm,
        size=14,
        kana_size=9,
        kana_below=6 * mm,
    )
    # Notice number box.
    box_x, box_y = PAGE_WIDTH - LEFT - 70 * mm, top - 45 * mm
    canvas.rect(box_x, box_y, 70 * mm, 26 * mm)
    canvas.setFont(FONT, 10)
    draw(canvas, box_x + 4 * mm, box_y + 19 * mm, NOTICE_NUMBER_LABEL)
    canvas.setFont(FONT, 22)
    draw(canvas, box_x + 4 * mm, box_y + 8 * mm, format_notice_number(number))
    canvas.setFont(FONT, 7.5)
    draw(canvas, box_x + 4 * mm, box_y + 3 * mm, f"申請書ID {card.application_id}")
    # QR code with its payload printed underneath and attached as a link.
    qr_size = 28 * mm
    qr_x, qr_y = PAGE_WIDTH - LEFT - qr_size, top - 126 * mm
    _draw_qr(canvas, code, qr_x, qr_y, qr_size)
    canvas.linkURL(payload, (qr_x, qr_y, qr_x + qr_size, qr_y + qr_size), relative=0)
    canvas.setFont(FONT, 7)
    draw(canvas, PAGE_WIDTH - LEFT, qr_y - 4 * mm, payload, right=True)


def _draw_postcard(
    canvas: Canvas, context: NoticeContext, card: CardRecord, code: tuple[int, str], payload: str
) -> None:
    """Two pages: the address side, then the notice side (its fixed text is the form)."""
    width, height = POSTCARD
    canvas.setFont(FONT, 11)
    draw(canvas, 10 * mm, height - 14 * mm, f"〒{card.postal_code}")
    # 14 characters a line at 11 pt, baselines down to 16 mm above the name.
    _draw_address(
        canvas,
        card.address,
        x=14 * mm,
        first_baseline=height - 26 * mm,
        width=54 * mm,
        height=28 * mm,
    )
    _draw_name(
        canvas,
        card,
        x=18 * mm,
        baseline=height - 64 * mm,
        width=width - 18 * mm - 8 * mm,
        size=15,
        kana_size=8,
        kana_below=6 * mm,
    )
    canvas.setFont(FONT, 7)
    for index, line in enumerate((context.municipality_name, *context.contact[:3])):
        draw(canvas, 8 * mm, (22 - 4 * index) * mm, line)
    canvas.showPage()
    canvas.doForm(_form_name(context))
    number = card.notice_number or ""
    x, top = 6 * mm, height - 13 * mm
    canvas.setFont(FONT, 7)
    draw(canvas, x, top - 3 * mm, NOTICE_NUMBER_LABEL)
    canvas.setFont(FONT, 15)
    draw(canvas, x, top - 10 * mm, format_notice_number(number))
    canvas.setFont(FONT, 5.5)
    draw(canvas, x, top - 14 * mm, f"申請書ID {card.application_id}")
    qr_size = 22 * mm
    qr_x, qr_y = width - 6 * mm - qr_size, top - qr_size
    _draw_name(canvas, card, x=x, baseline=top - 18 * mm, width=qr_x - 2 * mm - x, size=5.5)
    _draw_qr(canvas, code, qr_x, qr_y, qr_size)
    canvas.linkURL(payload, (qr_x, qr_y, qr_x + qr_size, qr_y + qr_size), relative=0)
    canvas.setFont(FONT, 4.5)
    draw(canvas, x, top - 26 * mm, payload)


def _form_name(context: NoticeContext) -> str:
    return f"notice_static_{id(context)}"


def render_notices_pdf(
    cards: Sequence[CardRecord], out: IO[bytes] | str, *, context: NoticeContext
) -> int:
    """Write one notice per card (cards must have their notice number) to `out`.

    Returns the number of notices. Raises ValueError for a card without a notice number.
    """
    return render_notice_batches([(context, cards)], out)


def render_notice_batches(
    batches: Sequence[tuple[NoticeContext, Sequence[CardRecord]]], out: IO[bytes] | str
) -> int:
    """Several municipalities' notices in one file, each with its own sites, contact and layout."""
    with translation.override(settings.LANGUAGE_CODE):  # the notice is Japanese
        return _render_notice_batches(batches, out)


def _render_notice_batches(
    batches: Sequence[tuple[NoticeContext, Sequence[CardRecord]]], out: IO[bytes] | str
) -> int:
    register_fonts()
    missing = [c.pk for _, cards in batches for c in cards if not c.notice_number]
    if missing:
        raise ValueError(f"cards without a notice number: {missing[:10]}")
    canvas = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=FONT)
    canvas.setTitle(batches[0][0].title if batches else "マイナンバーカード交付通知書")
    canvas.setAuthor("・".join(dict.fromkeys(context.municipality_name for context, _ in batches)))
    total = 0
    for context, cards in batches:
        postcard = context.layout == NoticeLayout.POSTCARD
        canvas.setPageSize(POSTCARD if postcard else A4)
        canvas.beginForm(_form_name(context))
        (_draw_postcard_static if postcard else _draw_static)(canvas, context)
        canvas.endForm()
        payloads = booking_urls([card.notice_number or "" for card in cards], context.site_url)
        for card, code, payload in zip(cards, _qr_codes(payloads), payloads, strict=True):
            if postcard:
                _draw_postcard(canvas, context, card, code, payload)
            else:
                canvas.doForm(_form_name(context))
                _draw_card_page(canvas, card, code, payload)
            canvas.showPage()
        total += len(cards)
    if total == 0:
        canvas.setPageSize(A4)
        canvas.setFont(FONT, 12)
        draw(canvas, LEFT, PAGE_HEIGHT / 2, "発送する交付通知書はありません。")
        canvas.showPage()
    # Plain Flate streams: reportlab's pure-Python ASCII85 pass would double the time.
    use_a85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
        canvas.save()
    finally:
        rl_config.useA85 = use_a85
    return total


def first_pages(batches: Sequence[tuple[NoticeContext, Sequence[CardRecord]]]) -> list[int]:
    """The PDF page each notice starts on (a postcard takes two pages: address, then notice)."""
    pages, page = [], 1
    for context, cards in batches:
        step = 2 if context.layout == NoticeLayout.POSTCARD else 1
        for _card in cards:
            pages.append(page)
            page += step
    return pages


def write_mailing_csv(
    cards: Sequence[CardRecord], out: IO[str], *, pages: Sequence[int] | None = None
) -> None:
    """The mailing house's list (UTF-8 with BOM for spreadsheet software): one row per notice,
    in page order, with the page it starts on and what goes on the envelope. No birth date:
    the contractor needs none."""
    writer = safe_writer(out, lineterminator="\r\n")  # no cell runs as a formula
    writer.writerow(MAILING_COLUMNS)
    for page, card in zip(pages or range(1, len(cards) + 1), cards, strict=True):
        writer.writerow(
            [
                page,
                format_notice_number(card.notice_number or ""),
                card.postal_code,
                card.address,
                card.full_name,
                card.full_name_kana,
                card.application_id,
            ]
        )


def batch_cards(batch_id: int) -> list[CardRecord]:
    """A batch's cards in page order (oldest arrival first)."""
    return list(CardRecord.objects.filter(notice_batch_id=batch_id).order_by("delivered_on", "pk"))
