"""Issuance notices (交付通知書) as one PDF per batch, and the CSV for a mailing house.

One A4 page per card: the address block for a window envelope, the booking number, how to book
(with a QR code opening the booking page with the number filled in — the same URL is printed under
the code and attached as a link, so it can be checked and tested), the hand-over sites and their
hours, what to bring, and the proxy (委任) section. Everything that is the same on every page is
drawn once as a PDF form and reused, which keeps 10,000 pages fast and the file small.
"""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlencode

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from madoguchi.core import clock
from madoguchi.core.links import public_url
from madoguchi.issuance.models import CardRecord
from madoguchi.issuance.numbers import format_notice_number
from madoguchi.issuance.qr import qr_path_literal
from madoguchi.offices.selectors import site_hours

PARALLEL_FROM = 1000
QR_WORKERS = 2
GOTHIC = "HeiseiKakuGo-W5"
MINCHO = "HeiseiMin-W3"
WEEKDAYS = "月火水木金土日"
PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 20 * mm
MAILING_COLUMNS = (
    "page",
    "notice_number",
    "postal_code",
    "address",
    "name",
    "name_kana",
    "application_id",
)


def _fonts() -> None:
    for name in (GOTHIC, MINCHO):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(name))


def booking_urls(notice_numbers: Sequence[str]) -> list[str]:
    """The residents' card pick-up booking page with each number filled in (one reverse)."""
    page = public_url("resident_site:sites", kwargs={"procedure": "card_pickup"})
    return [f"{page}?{urlencode({'notice': number})}" for number in notice_numbers]


@dataclass(frozen=True)
class SiteLines:
    name: str
    address: str
    hours: str


@dataclass(frozen=True)
class NoticeContext:
    """What is the same on every page of a batch."""

    municipality_name: str
    sites: tuple[SiteLines, ...]
    documents: str
    proxy_documents: str
    issued_on: dt.date


def _weekly_hours(days: Sequence[Any]) -> str:
    """'月・火・水・金 8:30〜17:15 ／ 木 8:30〜17:15、17:15〜19:00' from a fortnight of SiteDays."""
    by_weekday: dict[int, str] = {}
    for day in days:
        regular = [p for p in day.periods if not p.special]
        if regular and day.day.weekday() not in by_weekday:
            by_weekday[day.day.weekday()] = "、".join(
                f"{clock.to_jst(p.starts_at):%-H:%M}〜{clock.to_jst(p.ends_at):%-H:%M}"
                for p in regular
            )
    groups: dict[str, list[str]] = {}
    for weekday in sorted(by_weekday):
        groups.setdefault(by_weekday[weekday], []).append(WEEKDAYS[weekday])
    return " ／ ".join(f"{'・'.join(names)} {hours}" for hours, names in groups.items())


def notice_context(municipality_name: str, *, today: dt.date | None = None) -> NoticeContext:
    """Sites offering card pick-up with their usual weekly hours (read once per batch)."""
    today = today or clock.today()
    sites = []
    documents = proxy_documents = ""
    for entry in site_hours(today, 14):
        pickup = next((p for p in entry.procedures if p.code == "card_pickup"), None)
        if pickup is None:
            continue
        documents, proxy_documents = pickup.documents, pickup.proxy_documents
        sites.append(
            SiteLines(
                name=entry.site.name,
                address=entry.site.address,
                hours=_weekly_hours(entry.days) or "開設日はホームページでご確認ください",
            )
        )
    return NoticeContext(
        municipality_name=municipality_name,
        sites=tuple(sites),
        documents=documents or "交付通知書、本人確認書類、今お持ちのカード",
        proxy_documents=proxy_documents,
        issued_on=today,
    )


def _wrap(text: str, width: int) -> list[str]:
    """Japanese text broken every `width` characters (no spaces to break at)."""
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _draw_static(canvas: Canvas, context: NoticeContext) -> None:
    """The parts of the page that are the same for every resident (drawn once, as a form)."""
    top = PAGE_HEIGHT - 20 * mm
    canvas.setFont(GOTHIC, 16)
    canvas.drawString(LEFT, top - 75 * mm, "マイナンバーカード交付通知書（兼 照会書）")
    canvas.setFont(MINCHO, 9.5)
    y = top - 84 * mm
    intro = (
        "マイナンバーカードができあがりました。下の予約番号で受け取りの予約をしてから、"
        "この通知書を持って窓口へお越しください。"
    )
    for line in _wrap(intro, 46):
        canvas.drawString(LEFT, y, line)
        y -= 5 * mm
    y = top - 112 * mm
    canvas.setFont(GOTHIC, 11)
    canvas.drawString(LEFT, y, "予約のしかた")
    canvas.setFont(MINCHO, 9)
    for line in (
        "右のQRコードを読み取るか、下のアドレスを開くと、予約番号が入った予約画面が開きます。",
        "予約には、予約番号とご本人の生年月日が必要です。",
        "電話や窓口でも予約できます。",
    ):
        y -= 5 * mm
        canvas.drawString(LEFT, y, line)
    y -= 10 * mm
    canvas.setFont(GOTHIC, 11)
    canvas.drawString(LEFT, y, "受け取りができる窓口と時間")
    canvas.setFont(MINCHO, 8.5)
    for site in context.sites:
        y -= 4.8 * mm
        canvas.drawString(LEFT + 2 * mm, y, f"■ {site.name}　{site.address}")
        for line in _wrap(site.hours, 56):
            y -= 4.2 * mm
            canvas.drawString(LEFT + 6 * mm, y, line)
    canvas.drawString(
        LEFT + 2 * mm,
        y - 4.8 * mm,
        "土日祝日・年末年始（12月29日〜1月3日）は、臨時開庁の日を除きお休みです。",
    )
    y -= 14 * mm
    canvas.setFont(GOTHIC, 11)
    canvas.drawString(LEFT, y, "お持ちいただくもの")
    canvas.setFont(MINCHO, 8.5)
    for line in _wrap(context.documents, 58):
        y -= 4.6 * mm
        canvas.drawString(LEFT + 2 * mm, y, line)
    y -= 10 * mm
    canvas.setDash(3, 2)
    canvas.line(LEFT, y, PAGE_WIDTH - LEFT, y)
    canvas.setDash()
    y -= 7 * mm
    canvas.setFont(GOTHIC, 11)
    canvas.drawString(LEFT, y, "委任状（代理人が受け取る場合）")
    canvas.setFont(MINCHO, 8.5)
    proxy_lines = [
        "ご本人が病気・障害・高齢（75歳以上）・長期入院・施設入所・妊娠・長期海外滞在などで",
        "来庁が難しい場合に限り、代理人が受け取れます（仕事で忙しいという理由は対象外です）。",
        *_wrap("代理人の持ち物: " + (context.proxy_documents or ""), 58),
        "私は、下記の者を代理人と定め、マイナンバーカードの受け取りを委任します。",
        "代理人の氏名 ____________________　代理人の生年月日 ______年____月____日",
        "代理人の住所 ______________________________________________________",
        "来庁できない理由 □病気・障害 □75歳以上 □入院・施設入所 □妊娠 □海外滞在 □その他",
        "ご本人の署名 ____________________　記入日 ______年____月____日",
    ]
    for line in proxy_lines:
        y -= 4.8 * mm
        canvas.drawString(LEFT + 2 * mm, y, line)
    canvas.setFont(MINCHO, 8)
    canvas.drawString(
        LEFT, 12 * mm, f"{context.municipality_name}　発行日 {context.issued_on:%Y年%m月%d日}"
    )


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
    canvas.setFont(GOTHIC, 11)
    canvas.drawString(LEFT + 5 * mm, top - 5 * mm, f"〒{card.postal_code}")
    canvas.setFont(MINCHO, 11)
    for index, line in enumerate(_wrap(card.address, 24)[:3]):
        canvas.drawString(LEFT + 5 * mm, top - (13 + 6 * index) * mm, line)
    canvas.setFont(GOTHIC, 14)
    canvas.drawString(LEFT + 5 * mm, top - 37 * mm, f"{card.full_name}　様")
    canvas.setFont(MINCHO, 9)
    canvas.drawString(LEFT + 5 * mm, top - 43 * mm, card.full_name_kana)
    # Booking number box.
    box_x, box_y = PAGE_WIDTH - LEFT - 70 * mm, top - 45 * mm
    canvas.rect(box_x, box_y, 70 * mm, 26 * mm)
    canvas.setFont(GOTHIC, 10)
    canvas.drawString(box_x + 4 * mm, box_y + 19 * mm, "予約番号")
    canvas.setFont(GOTHIC, 22)
    canvas.drawString(box_x + 4 * mm, box_y + 8 * mm, format_notice_number(number))
    canvas.setFont(MINCHO, 7.5)
    canvas.drawString(box_x + 4 * mm, box_y + 3 * mm, f"申請書ID {card.application_id}")
    # QR code with its payload printed underneath and attached as a link.
    qr_size = 30 * mm
    qr_x, qr_y = PAGE_WIDTH - LEFT - qr_size, top - 130 * mm
    _draw_qr(canvas, code, qr_x, qr_y, qr_size)
    canvas.linkURL(payload, (qr_x, qr_y, qr_x + qr_size, qr_y + qr_size), relative=0)
    canvas.setFont("Helvetica", 7)
    canvas.drawRightString(PAGE_WIDTH - LEFT, qr_y - 4 * mm, payload)


def render_notices_pdf(
    cards: Sequence[CardRecord], out: IO[bytes] | str, *, context: NoticeContext
) -> int:
    """Write one notice page per card (cards must have their booking number) to `out`.

    Returns the number of pages. Raises ValueError for a card without a booking number.
    """
    _fonts()
    missing = [c.pk for c in cards if not c.notice_number]
    if missing:
        raise ValueError(f"cards without a booking number: {missing[:10]}")
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle("マイナンバーカード交付通知書")
    canvas.setAuthor(context.municipality_name)
    canvas.beginForm("notice_static")
    _draw_static(canvas, context)
    canvas.endForm()
    payloads = booking_urls([card.notice_number or "" for card in cards])
    codes = _qr_codes(payloads)
    for card, code, payload in zip(cards, codes, payloads, strict=True):
        canvas.doForm("notice_static")
        _draw_card_page(canvas, card, code, payload)
        canvas.showPage()
    if not cards:
        canvas.setFont(GOTHIC, 12)
        canvas.drawString(LEFT, PAGE_HEIGHT / 2, "発送する交付通知書はありません。")
        canvas.showPage()
    # Plain Flate streams: reportlab's pure-Python ASCII85 pass would double the time.
    use_a85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
        canvas.save()
    finally:
        rl_config.useA85 = use_a85
    return len(cards)


def write_mailing_csv(cards: Sequence[CardRecord], out: IO[str]) -> None:
    """The mailing house's list (UTF-8 with BOM for spreadsheet software): one row per page,
    in page order, with what goes on the envelope. No birth date: the contractor needs none."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MAILING_COLUMNS)
    for page, card in enumerate(cards, start=1):
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


@dataclass(frozen=True)
class IssuedBatch:
    batch_id: int | None
    cards: list[CardRecord]
    proposal: Any  # pacing.PacingProposal


def issue_paced_batch(*, municipality: Any, actor: Any, limit: int | None = None) -> IssuedBatch:
    """Issue notices for as many ready cards as the pacing allows (oldest arrival first).

    Returns the batch (None when nothing was issued), the cards in page order and the
    arithmetic. Writes happen in `services.issue_notices` (atomic, audited per card)."""
    from madoguchi.issuance.pacing import propose_batch
    from madoguchi.issuance.selectors import cards_ready_for_notice
    from madoguchi.issuance.services import issue_notices

    proposal = propose_batch(municipality=municipality, limit=limit)
    chosen = list(cards_ready_for_notice(municipality.pk)[: proposal.proposed])
    if not chosen:
        return IssuedBatch(batch_id=None, cards=[], proposal=proposal)
    batch = issue_notices(
        cards=chosen, actor=actor, municipality=municipality, pacing=proposal.as_dict()
    )
    cards = batch_cards(batch.pk)
    return IssuedBatch(batch_id=batch.pk, cards=cards, proposal=proposal)


def batch_cards(batch_id: int) -> list[CardRecord]:
    """A batch's cards in page order (oldest arrival first)."""
    return list(CardRecord.objects.filter(notice_batch_id=batch_id).order_by("delivered_on", "pk"))
