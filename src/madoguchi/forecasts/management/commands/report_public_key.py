"""`madoguchi report-public-key`: the line a roll-up adds to its trusted keys for a municipality;
with `--trust CODE KEY`, add such a line to this deployment's trusted keys."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core.validators import municipality_code_check_digit
from madoguchi.forecasts import report_signing
from madoguchi.forecasts.management.commands.export_report import municipality_from_option


class Command(BaseCommand):
    help = (
        "自治体の報告書の署名を確かめる公開鍵を「地方公共団体コード 公開鍵」の1行で出力します"
        "（鍵がなければ作ります）。--trust CODE KEY で、その1行を集計側の信頼する鍵の"
        "ファイル（MADOGUCHI_REPORT_TRUSTED_KEYS）に加えます。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", default=None, help="地方公共団体コード")
        parser.add_argument("--trust", nargs=2, metavar=("CODE", "KEY"), default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["trust"]:
            code, key = options["trust"]
            if not (
                len(code) == 6
                and code.isascii()
                and code.isdigit()
                and municipality_code_check_digit(code[:5]) == int(code[5])
            ):
                self.stderr.write(f"地方公共団体コード「{code}」が正しくありません（検査数字）。")
                raise SystemExit(2)
            try:
                added = report_signing.register_public_key(code, key)
            except report_signing.KeyFileError as error:
                self.stderr.write(str(error))
                raise SystemExit(2) from None
            where = settings.MADOGUCHI_REPORT_TRUSTED_KEYS
            self.stdout.write(
                f"{code} の公開鍵を {where} に登録しました。"
                if added
                else f"{code} のこの公開鍵はすでに登録されています。"
            )
            return
        municipality = municipality_from_option(options["municipality"])
        if municipality is None:
            self.stderr.write(
                "自治体を決められません。--municipality に地方公共団体コードを指定してください。"
            )
            raise SystemExit(2)
        self.stdout.write(f"{municipality.code} {report_signing.own_public_key(municipality.code)}")
