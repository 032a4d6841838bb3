"""`madoguchi import-deliveries FILE`: a J-LIS delivery list → card records (all or nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core.audit import Actor
from madoguchi.issuance.imports import import_deliveries
from madoguchi.offices.models import Municipality


class Command(BaseCommand):
    help = (
        "J-LISのカード到着リスト（CSV）を取り込みます。1行でも問題があればファイル全体を"
        "取り込みません（終了コード 2、報告は標準エラー出力）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="到着リストのCSVファイル")
        parser.add_argument(
            "--municipality",
            default=None,
            help="地方公共団体コード（自治体が1つだけのときは省略可）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        municipality = _municipality(options["municipality"])
        if municipality is None:
            self.stderr.write(
                "自治体を決められません。--municipality に地方公共団体コードを指定してください。"
            )
            raise SystemExit(2)
        if not path.is_file():
            self.stderr.write(f"{path}: ファイルが見つかりません。")
            raise SystemExit(2)
        with path.open("rb") as stream:
            report = import_deliveries(
                stream,
                file_name=path.name,
                municipality=municipality,
                actor=Actor.system("import-deliveries"),
            )
        if not report.accepted:
            for line in report.lines():
                self.stderr.write(line)
            raise SystemExit(2)
        for line in report.lines():
            self.stdout.write(line)


def _municipality(code: str | None) -> Municipality | None:
    if code:
        return Municipality.objects.filter(code=code).first()
    only = list(Municipality.objects.all()[:2])
    return only[0] if len(only) == 1 else None
