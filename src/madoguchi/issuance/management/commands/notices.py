"""`madoguchi notices [--limit N] --out FILE.pdf`: issue paced notices and print them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core.audit import Actor
from madoguchi.issuance.notices import (
    first_pages,
    issue_paced_batch,
    notice_context,
    render_notice_batches,
    write_mailing_csv,
)
from madoguchi.offices.models import Municipality


class Command(BaseCommand):
    help = (
        "交付前設定が済んだカードの交付通知書を、予約枠の空きの範囲で発行し、PDFと"
        "発送委託用のCSVに書き出します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="PDFの出力先")
        parser.add_argument(
            "--csv", default=None, help="発送委託用CSV（既定: PDFと同じ名前の .csv）"
        )
        parser.add_argument("--limit", type=int, default=None, help="1回に発行する上限")
        parser.add_argument("--municipality", default=None, help="地方公共団体コード")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        csv_path = Path(options["csv"]) if options["csv"] else out.with_suffix(".csv")
        code = options["municipality"]
        municipalities = (
            Municipality.objects.filter(code=code) if code else Municipality.objects.all()
        )
        if options["limit"] is not None and options["limit"] < 0:
            self.stderr.write("--limit は 0 以上にしてください。")
            raise SystemExit(2)
        batches = []
        for municipality in municipalities.order_by("code"):
            issued = issue_paced_batch(
                municipality=municipality,
                actor=Actor.system("notices"),
                limit=options["limit"],
            )
            for line in issued.proposal.explanation():
                self.stdout.write(f"{municipality.name}: {line}")
            if issued.cards:
                batches.append((notice_context(municipality), issued.cards))
        render_notice_batches(batches, str(out))
        cards = [card for _, batch in batches for card in batch]
        with csv_path.open("w", encoding="utf-8-sig", newline="") as stream:
            write_mailing_csv(cards, stream, pages=first_pages(batches))
        self.stdout.write(
            f"交付通知書 {len(cards)}通を {out} に、発送リストを {csv_path} に書き出しました。"
        )
