"""`madoguchi import-report FILE`: another deployment's signed report into the roll-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core.audit import Actor
from madoguchi.forecasts.report_import import ReportRefused, import_report


class Command(BaseCommand):
    help = (
        "別に運用されている自治体の報告書（`madoguchi export-report` の JSON または CSV）を、"
        "署名を確かめて集計に取り込みます。署名・様式の版・地方公共団体コード・個人情報の"
        "どれかに問題があればファイル全体を取り込みません（終了コード 2、理由は標準エラー出力）。"
        "同じファイルを2回取り込んでも変わりません。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="報告書のファイル（.json または .csv）")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            self.stderr.write(f"{path}: ファイルが見つかりません。")
            raise SystemExit(2)
        try:
            result = import_report(
                path.read_bytes(), file_name=path.name, actor=Actor.system("import-report")
            )
        except ReportRefused as refused:
            self.stderr.write(f"{path.name}: 取り込みませんでした。{refused.message}")
            raise SystemExit(2) from None
        report = result.imported
        if result.created:
            self.stdout.write(
                f"{report.municipality_name}（{report.municipality_code}）の"
                f"{report.as_of} 時点の報告書を取り込みました。"
            )
        else:
            self.stdout.write("同じ報告書はすでに取り込まれています（変更なし）。")
