"""`madoguchi notices [--limit N] [--reminders] --out FILE.pdf`: issue paced notices (or reminder
letters) and print them — with the pacing (`reservations.pacing`), which reads free seats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core.audit import Actor
from madoguchi.issuance.notices import (
    first_pages,
    notice_context,
    render_notice_batches,
    write_mailing_csv,
)
from madoguchi.issuance.typeset import unprintable
from madoguchi.offices.models import Municipality
from madoguchi.reservations.pacing import issue_paced_batch, issue_reminder_batch


class Command(BaseCommand):
    help = (
        "交付前設定が済んだカードの交付通知書（--reminders: 未受け取りのカードの再通知）を、"
        "予約枠の空きの範囲で発行し、PDFと"
        "発送委託用のCSVに書き出します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="PDFの出力先")
        parser.add_argument(
            "--csv", default=None, help="発送委託用CSV（既定: PDFと同じ名前の .csv）"
        )
        parser.add_argument("--limit", type=int, default=None, help="1回に発行する上限")
        parser.add_argument("--municipality", default=None, help="地方公共団体コード")
        parser.add_argument(
            "--reminders",
            action="store_true",
            help="交付通知書の代わりに、再通知の時期を過ぎた未受け取りのカードの再通知を発行",
        )

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
        reminders = options["reminders"]
        issue = issue_reminder_batch if reminders else issue_paced_batch
        batches = []
        for municipality in municipalities.order_by("code"):
            issued = issue(
                municipality=municipality,
                actor=Actor.system("notices"),
                limit=options["limit"],
            )
            for line in issued.proposal.explanation():
                self.stdout.write(f"{municipality.name}: {line}")
            for entry in unprintable(issued.cards):
                self.stdout.write(
                    f"{municipality.name}: 申請書ID {entry.application_id}：{entry.describe()}"
                    "（どのフォントにもない文字は〓で印刷されます）"
                )
            if issued.cards:
                batches.append((notice_context(municipality, reminder=reminders), issued.cards))
        if reminders and not batches:
            self.stdout.write("再通知を送るカードはありません。ファイルは作りませんでした。")
            return
        render_notice_batches(batches, str(out))
        cards = [card for _, batch in batches for card in batch]
        with csv_path.open("w", encoding="utf-8-sig", newline="") as stream:
            write_mailing_csv(cards, stream, pages=first_pages(batches))
        what = "再通知" if reminders else "交付通知書"
        self.stdout.write(
            f"{what} {len(cards)}通を {out} に、発送リストを {csv_path} に書き出しました。"
        )
