"""`madoguchi export-report`: a municipality's signed report (JSON or CSV) to a file or stdout —
the kept report (`report_cache.kept_report`), as the staff download gives it: the same signed
bytes for the same inputs, built again only when they changed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.forecasts.report import signed_document, to_csv, to_json
from madoguchi.forecasts.report_cache import kept_report
from madoguchi.forecasts.report_signing import KeyFileError
from madoguchi.offices.models import Municipality


class Command(BaseCommand):
    help = (
        "自治体の報告書（個人情報を含まない集計、docs/municipality-report.md）を、その自治体の"
        "鍵（Ed25519）で署名して出力します。都道府県・全国の集計側は `madoguchi import-report` "
        "で取り込みます。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--municipality",
            default=None,
            help="地方公共団体コード（自治体が1つだけのときは省略可）",
        )
        parser.add_argument("--format", choices=("json", "csv"), default="json")
        parser.add_argument(
            "-o", "--output", default="-", help="出力先のファイル（省略時は標準出力）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        municipality = municipality_from_option(options["municipality"])
        if municipality is None:
            self.stderr.write(
                "自治体を決められません。--municipality に地方公共団体コードを指定してください。"
            )
            raise SystemExit(2)
        try:
            document = signed_document(kept_report(municipality))
        except KeyFileError as error:
            self.stderr.write(str(error))
            raise SystemExit(2) from None
        content = to_csv(document) if options["format"] == "csv" else to_json(document)
        if options["output"] == "-":
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
        else:
            Path(options["output"]).write_bytes(content)
            self.stderr.write(f"{municipality}の報告書を {options['output']} に出力しました。")


def municipality_from_option(code: str | None) -> Municipality | None:
    if code:
        return Municipality.objects.filter(code=code).first()
    only = list(Municipality.objects.all()[:2])
    return only[0] if len(only) == 1 else None
