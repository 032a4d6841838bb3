"""Weekly application counts (`week,applications` CSV) → expected card arrivals per week.

The file is read like a J-LIS delivery list (`issuance.imports`): the encoding is detected (UTF-8
with or without BOM, CP932; a mix is refused), full-width digits are accepted, every problem is
reported in Japanese with its line number, and one problem rejects the whole file. `week` is the
Monday of an ISO week (YYYY-MM-DD); `applications` a whole number ≥ 0; each week at most once.
A value that looks like an Individual Number rejects the file without echoing it.

The arithmetic lives in `madoguchi.planning.arrivals` (pure); this module only maps weeks to
dates. Weeks missing between the first and last listed week count as 0 applications.
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from madoguchi.core.encodings import lines_ending_in_lf
from madoguchi.core.individual_number import contains_individual_number
from madoguchi.issuance.imports import FileRejected, ImportReport, _Decoder
from madoguchi.issuance.models import ApplicationCount
from madoguchi.planning.arrivals import DEFAULT_LAG_WEIGHTS, expected_arrivals

if TYPE_CHECKING:
    import _csv

COLUMNS = ("week", "applications")
MAX_WEEKS = 520  # ten years of weeks: more is not a weekly count file


@dataclass
class ApplicationCountsReport(ImportReport):
    """The outcome of one counts file: the counts by Monday, or the row-numbered problems."""

    counts: dict[dt.date, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        if self.accepted:
            return [f"{self.file_name}: {len(self.counts)}週分の申請件数を読み込みました。"]
        return [
            f"{self.file_name}: 読み込みませんでした（何も登録・変更していません）。"
            f"問題 {self.problem_count}件:",
            *self.problems,
        ]


@dataclass(frozen=True)
class ExpectedWeek:
    """Expected card arrivals in the week starting `week` (a Monday); `complete` is False when
    applications outside the data would add to it (the number is then a lower bound)."""

    week: dt.date
    expected_arrivals: float
    complete: bool


def read_application_counts(stream: IO[bytes], *, file_name: str) -> ApplicationCountsReport:
    """Parse a `week,applications` file. Never raises for bad input: `report.accepted` tells,
    and `report.counts` is empty unless every row is valid."""
    report = ApplicationCountsReport(file_name=file_name)
    decoder = _Decoder(report)
    try:
        _read(csv.reader(decoder.lines(lines_ending_in_lf(stream)), strict=True), report)
    except FileRejected as rejected:
        report.add(None, str(rejected))
    except csv.Error as error:
        report.add(None, f"CSVとして読めません（{error}）。")
    report.encoding = decoder.encoding or "ascii"
    if not report.accepted:
        report.counts = {}
    return report


def _read(reader: _csv.Reader, report: ApplicationCountsReport) -> None:
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise FileRejected("ファイルが空です（見出し行がありません）。")
    names = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    if sorted(names) != sorted(COLUMNS):
        raise FileRejected(
            "見出し行は「week,applications」（週の月曜日、申請件数）の2列にしてください"
            f"（この見出し: {','.join(names)}）。"
        )
    week_at, count_at = names.index("week"), names.index("applications")
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if contains_individual_number(",".join(cells)):
            raise FileRejected(
                f"{line}行目に個人番号（マイナンバー）と思われる12桁の番号があります。"
                "ファイル全体を読み込みませんでした。"
            )
        report.rows += 1
        if len(cells) != len(names):
            report.add(line, f"列の数が見出しと違います（{len(cells)}列／見出し 2列）。")
            continue
        week_text = unicodedata.normalize("NFKC", cells[week_at]).strip()
        count_text = unicodedata.normalize("NFKC", cells[count_at]).strip().replace(",", "")
        try:
            week = dt.date.fromisoformat(week_text)
        except ValueError:
            report.add(line, f"週「{week_text}」は YYYY-MM-DD の形の日付で入力してください。")
            week = None
        if week is not None and week.weekday() != 0:
            report.add(
                line, f"週「{week_text}」は月曜日ではありません（週は月曜日の日付で表します）。"
            )
            week = None
        if week is not None and week in report.counts:
            report.add(line, f"週「{week_text}」が2回あります。")
            week = None
        if not count_text.isdigit():
            report.add(line, f"申請件数「{count_text}」は0以上の整数で入力してください。")
            continue
        if week is not None:
            report.counts[week] = int(count_text)
    if report.rows == 0 and report.accepted:
        raise FileRejected("データの行がありません（見出し行だけのファイルです）。")
    if report.counts and _span_weeks(report.counts) > MAX_WEEKS:
        raise FileRejected(f"最初の週から最後の週までが{MAX_WEEKS}週を超えています。")


def _span_weeks(counts: Mapping[dt.date, int]) -> int:
    return (max(counts) - min(counts)).days // 7 + 1


def project_arrivals(
    counts: Mapping[dt.date, int], lag_weights: Mapping[int, float] = DEFAULT_LAG_WEIGHTS
) -> list[ExpectedWeek]:
    """Expected arrivals by Monday, from the first application week to the last plus the
    longest lag. Missing weeks in between count as 0. Raises LagError on a bad distribution."""
    if not counts:
        return []
    first = min(counts)
    series = [0] * _span_weeks(counts)
    for week, applications in counts.items():
        series[(week - first).days // 7] = applications
    projection = expected_arrivals(series, lag_weights)
    return [
        ExpectedWeek(first + dt.timedelta(weeks=i), float(value), bool(done))
        for i, (value, done) in enumerate(
            zip(projection.arrivals, projection.complete, strict=True)
        )
    ]


def stored_counts(municipality_id: int) -> dict[dt.date, int]:
    """The weekly application counts stored for one municipality."""
    return dict(
        ApplicationCount.objects.filter(municipality_id=municipality_id).values_list(
            "week", "applications"
        )
    )
