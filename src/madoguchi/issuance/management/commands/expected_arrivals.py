"""`madoguchi expected-arrivals --applications FILE [--lag 4:0.4,5:0.3,...]`: weekly
application counts → expected card arrivals per week, as `week,expected_arrivals` CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from madoguchi.issuance.applications import project_arrivals, read_application_counts
from madoguchi.planning.arrivals import DEFAULT_LAG_WEIGHTS, LagError, parse_lag_weights

_DEFAULT_LAG_TEXT = ",".join(f"{k}:{v:g}" for k, v in DEFAULT_LAG_WEIGHTS.items())


class Command(BaseCommand):
    help = (
        "週ごとの申請件数（week,applications のCSV）から、週ごとのカード到着見込み数を"
        "week,expected_arrivals のCSVで出力します。前後の週の申請が分からない週（最初と最後の"
        "数週）は実際より少なく出ます。その週は標準エラー出力に書きます。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--applications", required=True, help="週ごとの申請件数のCSV")
        parser.add_argument(
            "--lag",
            default=_DEFAULT_LAG_TEXT,
            help=(
                "製造期間の分布「週:割合」をカンマ区切りで（合計1）。"
                f"既定は仮定の値 {_DEFAULT_LAG_TEXT}"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            lag = parse_lag_weights(options["lag"])
        except LagError as error:
            self.stderr.write(f"--lag: {error}")
            raise SystemExit(2) from None
        path = Path(options["applications"])
        if not path.is_file():
            self.stderr.write(f"{path}: ファイルが見つかりません。")
            raise SystemExit(2)
        with path.open("rb") as stream:
            report = read_application_counts(stream, file_name=path.name)
        if not report.accepted:
            for line in report.lines():
                self.stderr.write(line)
            raise SystemExit(2)
        weeks = project_arrivals(report.counts, lag)
        self.stdout.write("week,expected_arrivals")
        for week in weeks:
            self.stdout.write(f"{week.week.isoformat()},{week.expected_arrivals:.1f}")
        partial = [w.week.isoformat() for w in weeks if not w.complete]
        if partial:
            self.stderr.write(
                "次の週は、データの前後の週の申請が分からないため実際より少なく出ています: "
                + "、".join(partial)
            )
