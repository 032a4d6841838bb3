"""`madoguchi import-register FILE`: a register file replaces the municipality's snapshot."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from madoguchi.core.audit import Actor
from madoguchi.forecasts.register_import import import_register
from madoguchi.offices.models import Municipality


class Command(BaseCommand):
    help = (
        "住民台帳の抜粋（CSV または Parquet、列: person_id, birth_date, card_issued_on, "
        "cert_issued_on, 任意で card_expires_on, cert_expires_on, area）で、自治体の住民台帳を"
        "置き換えます。1行でも問題があればファイル全体を取り込まず、前の台帳を残します"
        "（終了コード 2、行番号付きの報告は標準エラー出力）。同じファイルを2回取り込んでも"
        "変わりません。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="住民台帳のCSVまたはParquetファイル")
        parser.add_argument(
            "--municipality",
            default=None,
            help="地方公共団体コード（自治体が1つだけのときは省略可）",
        )
        parser.add_argument(
            "--taken-on",
            default=None,
            help="台帳の基準日 YYYY-MM-DD（省略時は今日）。保有者はこの日で数えます。",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        municipality = _municipality(options["municipality"])
        if municipality is None:
            self.stderr.write(
                "自治体を決められません。--municipality に地方公共団体コードを指定してください。"
            )
            raise SystemExit(2)
        taken_on = None
        if options["taken_on"]:
            try:
                taken_on = dt.date.fromisoformat(options["taken_on"])
            except ValueError:
                self.stderr.write(
                    f"--taken-on「{options['taken_on']}」は YYYY-MM-DD で指定してください。"
                )
                raise SystemExit(2) from None
        if not path.is_file():
            self.stderr.write(f"{path}: ファイルが見つかりません。")
            raise SystemExit(2)
        console = Console(file=sys.stderr)
        progress = Progress(
            TextColumn("確認・登録した行"),
            TextColumn("{task.completed:,}"),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
            transient=True,
        )
        with progress, path.open("rb") as stream:
            task = progress.add_task("import", total=None)
            report = import_register(
                stream,
                file_name=path.name,
                municipality=municipality,
                actor=Actor.system("import-register"),
                taken_on=taken_on,
                progress=lambda rows: progress.update(task, completed=rows),
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
