"""10,000 issuance notices rendered to one PDF (target ≤ 60 s on 2 cores).

Baseline from the same run: a loop of blank reportlab pages. No database: the cards are unsaved
model instances and the batch's context is built here as `notice_context` builds it for one
municipality — its residents' site address, its sites and hours, and one line per other offered
language (drawn in the second embedded font where IPAex lacks the characters).

    .venv/bin/python bench/bench_notices.py [PAGES] [--fallback-names]

`--fallback-names`: every tenth card's name has 𠮷 (U+20BB7), which IPAex lacks, so its line is
split into runs and the fallback font (Madoguchi Fallback Mincho, `issuance.typeset`) is read
and embedded — what a batch with such residents costs beyond the plain one.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import time

import django

from smoke import finish, size

PAGES = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else size(10_000, 200)
TARGET_SECONDS = 60.0
FALLBACK_NAMES = "--fallback-names" in sys.argv


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    django.setup()
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from madoguchi.issuance.models import CardRecord
    from madoguchi.issuance.notices import (
        NoticeContext,
        SiteLines,
        language_lines,
        render_notices_pdf,
    )
    from madoguchi.issuance.numbers import generate_notice_number

    site_url = "https://yoyaku.demo-city.example.jp"
    context = NoticeContext(
        "デモ市（架空）",
        (
            SiteLines(
                "デモ市役所 本庁舎",
                "デモ市中央一丁目1番1号",
                "月・火・水・金 8:30〜17:15 ／ 木 8:30〜19:00",
            ),
            SiteLines("デモ駅前 臨時窓口", "デモ市駅前二丁目8番", "土・日 10:00〜17:00"),
        ),
        "交付通知書、本人確認書類（写真付き1点、または写真なし2点）、今お持ちのカード",
        "委任欄に記入した交付通知書、代理の理由を証明する書類、ご本人と代理人の本人確認書類",
        dt.date(2026, 11, 27),
        site_url,
        collect_by=dt.date(2027, 5, 31),
        contact=(
            "デモ市 市民課 マイナンバーカード係",
            "デモ市中央一丁目1番1号",
            "電話 0120-000-000",
        ),
        phone="0120-000-000",
        languages=language_lines(site_url),
    )
    cards = [
        CardRecord(
            pk=i,
            application_id=f"{90210358112040000000000 + i:023d}",
            family_name="\U00020bb7田" if FALLBACK_NAMES and i % 10 == 0 else "山田",
            given_name="花子",
            family_name_kana="ヤマダ",
            given_name_kana="ハナコ",
            postal_code="123-4567",
            address=f"デモ市中央一丁目{i % 30 + 1}番3号 グリーンハイツ201",
            notice_number=generate_notice_number(),
        )
        for i in range(PAGES)
    ]
    start = time.perf_counter()
    blank = Canvas(io.BytesIO(), pagesize=A4)
    for _ in range(PAGES):
        blank.showPage()
    blank.save()
    base = time.perf_counter() - start
    out = io.BytesIO()
    start = time.perf_counter()
    render_notices_pdf(cards, out, context=context)
    seconds = time.perf_counter() - start
    met = seconds <= TARGET_SECONDS
    size_mb = len(out.getvalue()) / 1e6
    load = os.getloadavg()[0]
    names = ", every tenth name with 𠮷 (fallback font)" if FALLBACK_NAMES else ""
    print(f"Issuance notices: {PAGES:,} pages{names}, {size_mb:.1f} MB, load {load:.1f}")
    print(f"baseline blank reportlab pages: {base:8.2f} s")
    verdict = "met" if met else "MISSED"
    print(
        f"notices (QR on 2 worker procs): {seconds:8.2f} s  {PAGES / seconds:,.0f} pages/s  "
        f"{seconds / base:.1f}x baseline  target <= {TARGET_SECONDS:.0f} s: {verdict}"
    )
    finish(met)


if __name__ == "__main__":
    main()
