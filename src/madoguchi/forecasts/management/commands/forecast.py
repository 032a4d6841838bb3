"""`madoguchi forecast --register FILE --start YYYY-MM --months N [--by month|week]`."""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pyarrow.parquet as pq
from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from madoguchi.core import clock
from madoguchi.core.csvsafe import safe_writer
from madoguchi.forecasts.register_io import RegisterError, iter_register_chunks
from madoguchi.planning.demand import (
    DemandForecast,
    DemandOptions,
    ExpiryCube,
    build_expiry_cube,
    cube_range_for,
    forecast_demand,
)

PROGRESS_MIN_ROWS = 2_000_000
"""Show a progress bar from this many register rows (or on a terminal from a tenth of it)."""


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month. Raises ValueError."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"--start は YYYY-MM の形式で指定してください: {text!r}") from None


def parse_early_renewal(text: str) -> tuple[float, ...]:
    """``0.6,0.3,0.1`` → weights for 0, 1, 2 … periods before the expiry period (ValueError)."""
    try:
        weights = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(
            f"--early-renewal は 0.6,0.3,0.1 のような小数のカンマ区切りです: {text!r}"
        ) from None
    if any(w < 0 for w in weights) or abs(sum(weights) - 1.0) > 1e-6:
        raise ValueError(f"--early-renewal の割合は 0 以上で、合計 1 にしてください: {text!r}")
    total = sum(weights)
    return tuple(w / total for w in weights)


def _share(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} は 0〜1 で指定してください: {text!r}")
        return value

    return parse


def register_rows(path: str) -> int | None:
    """Number of rows of a Parquet register from its footer (None for CSV: known after reading)."""
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception:  # not Parquet (or unreadable): the reader reports it
        return None


def forecast_csv(forecast: DemandForecast, *, post_office: bool) -> str:
    """The CONTRACT output: ``period,card_renewals,cert_renewals`` (+ post-office column)."""
    header = ["period", "card_renewals", "cert_renewals"]
    if post_office:
        header.append("cert_renewals_post_office")
    out = io.StringIO()
    writer = safe_writer(out, lineterminator="\n")
    writer.writerow(header)
    card = np.rint(forecast.card_renewals).astype(np.int64)
    cert = np.rint(forecast.cert_renewals).astype(np.int64)
    post = np.rint(forecast.cert_renewals_at_post_office).astype(np.int64)
    for i, label in enumerate(forecast.labels):
        row = [label, str(card[i]), str(cert[i])]
        if post_office:
            row.append(str(post[i]))
        writer.writerow(row)
    return out.getvalue()


class Command(BaseCommand):
    help = (
        "台帳（CSV または Parquet）から、月別または週別（ISO 週の月曜日）のカード更新件数と"
        "電子証明書更新件数を予測し CSV で出力します。既定では有効期限の属する期間に 1 件ずつ"
        "数えます（更新率 100%、早期更新なし）。カードと同じ日に切れる電子証明書はカード更新に"
        "含めます。不正な入力は行番号付きで標準エラーに報告し、終了コード 2 で終わります。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--register", required=True, help="台帳ファイル（CSV / Parquet）")
        parser.add_argument("--start", required=True, help="予測開始月 YYYY-MM")
        parser.add_argument("--months", required=True, type=int, help="予測する月数")
        parser.add_argument("--by", choices=["month", "week"], default="month", help="集計単位")
        parser.add_argument("--out", help="出力先 CSV（省略時は標準出力）")
        parser.add_argument(
            "--take-up",
            default="1.0",
            help="期限切れのうち更新する割合 0〜1（既定 1.0）",
        )
        parser.add_argument(
            "--early-renewal",
            default="1.0",
            help=(
                "期限前に来庁する割合を、期限の属する期間・1期間前・2期間前…の順にカンマ区切りで"
                "（合計 1）。例: --by month で 0.6,0.3,0.1 = 当月 60%%、前月 30%%、前々月 10%%"
            ),
        )
        parser.add_argument(
            "--post-office-share",
            default=None,
            help=(
                "電子証明書更新のうち郵便局で行う割合 0〜1"
                "（指定すると列 cert_renewals_post_office を追加）"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start = parse_month(str(options["start"]))
            months = int(options["months"])
            if months <= 0 or months > 1200:
                raise ValueError(f"--months は 1〜1200 で指定してください: {months}")
            post_office = options.get("post_office_share") is not None
            demand_options = DemandOptions(
                take_up=_share("--take-up")(str(options["take_up"])),
                early_renewal=parse_early_renewal(str(options["early_renewal"])),
                post_office_share=(
                    _share("--post-office-share")(str(options["post_office_share"]))
                    if post_office
                    else 0.0
                ),
            )
        except ValueError as error:
            self._reject([str(error)])
        by = str(options["by"])
        assert by in ("month", "week")
        path = str(options["register"])
        if not Path(path).is_file():
            self._reject([f"台帳ファイルが見つかりません: {path}"])
        first_day, last_day = cube_range_for(
            start,
            months,
            by="week" if by == "week" else "month",
            early_periods=len(demand_options.early_renewal) - 1,
        )
        try:
            cube = self._scan(path, first_day=first_day, last_day=last_day)
        except RegisterError as error:
            self._reject([f"台帳ファイルを読み込めません: {path}", *error.report_lines()])
        except OSError as error:
            self._reject([f"台帳ファイルを開けません: {path}（{error.strerror or error}）"])
        forecast = forecast_demand(
            cube,
            start=start,
            months=months,
            by="week" if by == "week" else "month",
            options=demand_options,
        )
        text = forecast_csv(forecast, post_office=post_office)
        if options.get("out"):
            Path(options["out"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

    def _scan(self, path: str, *, first_day: int, last_day: int) -> ExpiryCube:
        """One pass over the register into the expiry cube, with a progress bar on long runs."""
        total = register_rows(path)
        chunks: Iterator[Any] = iter_register_chunks(path, today=clock.today())
        threshold = PROGRESS_MIN_ROWS // 10 if sys.stderr.isatty() else PROGRESS_MIN_ROWS
        if total is None or total < threshold:
            return build_expiry_cube(chunks, first_day=first_day, last_day=last_day)
        progress = Progress(
            TextColumn("台帳を集計中"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        with progress:
            task = progress.add_task("scan", total=total)
            return build_expiry_cube(
                chunks,
                first_day=first_day,
                last_day=last_day,
                progress=lambda rows: progress.update(task, completed=rows),
            )

    def _reject(self, lines: list[str]) -> NoReturn:
        for line in lines:
            self.stderr.write(line)
        raise SystemExit(2)
