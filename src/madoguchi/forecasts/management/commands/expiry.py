"""`madoguchi expiry --register FILE [--out FILE]` (docs/contract.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import polars as pl
from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core import clock
from madoguchi.core.csvsafe import safe_frame
from madoguchi.forecasts.register_io import RegisterError, read_register
from madoguchi.planning.rules import NO_DATE, card_expiry_days, cert_expiry_days


def _date_strings(name: str, days: npt.NDArray[np.int32]) -> pl.Series:
    """Day numbers as YYYY-MM-DD strings, null (an empty CSV field) where there is no date."""
    column = pl.col(name)
    frame = pl.DataFrame({name: days}).select(
        pl.when(column == int(NO_DATE))
        .then(None)
        .otherwise(column)
        .cast(pl.Date)
        .cast(pl.String)
        .alias(name)
    )
    return frame.to_series()


class Command(BaseCommand):
    help = (
        "台帳（CSV または Parquet）の各行に card_expires_on と cert_expires_on を付けて CSV "
        "（UTF-8）で出力します。台帳に印字済みの有効期限があればそれを優先します。"
        "不正な入力は行番号付きで標準エラーに報告し、終了コード 2 で終わります。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--register", required=True, help="台帳ファイル（CSV / Parquet）")
        parser.add_argument("--out", help="出力先 CSV（省略時は標準出力）")

    def handle(self, *args: Any, **options: Any) -> None:
        path = str(options["register"])
        try:
            loaded = read_register(path, today=clock.today())
        except RegisterError as error:
            self._reject([f"台帳ファイルを読み込めません: {path}", *error.report_lines()])
        except OSError as error:
            self._reject([f"台帳ファイルを開けません: {path}（{error.strerror or error}）"])
        columns = loaded.columns
        card = card_expiry_days(
            columns.birth_day, columns.card_issued_day, columns.card_expires_day
        )
        cert = cert_expiry_days(
            columns.birth_day, columns.cert_issued_day, card, printed_days=columns.cert_expires_day
        )
        frame = loaded.frame.with_columns(
            _date_strings("card_expires_on", card), _date_strings("cert_expires_on", cert)
        )
        # empty cells are written as bare empty fields, not as ""
        text = safe_frame(
            frame.with_columns(pl.when(pl.col(pl.String) != "").then(pl.col(pl.String)).name.keep())
        ).write_csv()
        if options.get("out"):
            Path(options["out"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

    def _reject(self, lines: list[str]) -> NoReturn:
        for line in lines:
            self.stderr.write(line)
        raise SystemExit(2)
