"""The roll-up: a prefecture's or the national view over many municipalities' reports.

Built from the municipalities of this deployment (their reports as kept by `report_cache`: built
from live data, rebuilt only when their inputs change) and from the latest imported report of
every other municipality (`ImportedReport`). The tables are the national deck's: holding rate,
expected renewals by fiscal year, how many municipalities run each measure (overall and by
municipality class), post-office consignment, and the municipalities late with notices or
heading for a backlog (docs/municipality-report.md).

The roll-up itself is kept too (`kept_rollup`, `KeptRollup`) under two digests. The quick one —
the day, the code version, the imported reports' ids and SHA-256 and the count of changes to
the inputs that are not bookings (`rollup_inputs`: settings, sites, counters, calendars, post
offices, register and application imports, contractors) — is taken on every view in a few
statements however many municipalities there are. The full one adds every local municipality's
report input digest (their cards and slots included; taken for all at once, a query per table
but reading every municipality's rows) and is taken only when the quick one changed or the last
was taken `FIGURES_MAX_AGE` ago. So a change that is not a booking shows on the next view, and
the booking, notice and hand-over figures are at most `FIGURES_MAX_AGE` old (the page says as
of when); whichever way, a changed input rebuilds the roll-up from the kept reports (only the
changed ones built again) and the result equals one built afresh.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

from madoguchi.core import clock
from madoguchi.core.code_version import code_digest
from madoguchi.core.csvsafe import SafeWriter
from madoguchi.forecasts import rollup_inputs
from madoguchi.forecasts.kept import kept_or_built, unpickled
from madoguchi.forecasts.models import ImportedReport, KeptRollup
from madoguchi.forecasts.report import ReportV1
from madoguchi.forecasts.report_cache import kept_reports, report_inputs_digests
from madoguchi.forecasts.staffing_cache import digest_of
from madoguchi.offices.models import Municipality, MunicipalityClass

LIVE, IMPORTED = "live", "imported"
SOURCE_LABELS = {LIVE: "このシステム", IMPORTED: "取り込んだ報告書"}
MEASURES = (
    ("dedicated_or_temporary_counters", "専用・臨時窓口"),
    ("weekend_holiday_evening_opening", "休日・夜間の開庁"),
    ("reservations", "予約"),
    ("outsourcing", "業務の委託"),
    ("post_office_consignment", "郵便局への委託"),
)
LARGE_CLASSES = frozenset(
    {MunicipalityClass.DESIGNATED_CITY, MunicipalityClass.CORE_CITY, MunicipalityClass.SPECIAL_WARD}
)
NOTICE_TWO_WEEK_GOAL = 0.9
"""A municipality is listed as late with notices when fewer than this share of the cards that
arrived had their notice within two weeks, or any card waits past the limit."""


@dataclass(frozen=True)
class Entry:
    report: ReportV1
    source: str

    @property
    def population(self) -> int:
        configured = self.report.municipality.population
        return configured if configured is not None else self.report.holding.residents

    @property
    def holding_rate(self) -> float | None:
        residents = self.report.holding.residents
        return self.report.holding.card_holders / residents if residents else None

    @property
    def notices_within_two_weeks(self) -> float | None:
        notices = self.report.notices
        return notices.within_2_weeks / notices.arrived if notices.arrived else None

    @property
    def late_with_notices(self) -> bool:
        share = self.notices_within_two_weeks
        return self.report.notices.waiting_past_limit > 0 or (
            share is not None and share < NOTICE_TWO_WEEK_GOAL
        )

    @property
    def heading_for_backlog(self) -> bool:
        return self.report.backlog.heading_for_backlog


@dataclass(frozen=True)
class MeasureRow:
    key: str
    label: str
    count: int
    rate: float | None
    by_class: dict[str, tuple[int, int]]
    large_count: int
    large_total: int


@dataclass(frozen=True)
class Rollup:
    entries: list[Entry]
    fiscal_years: list[int]
    residents: int
    card_holders: int
    renewals: dict[int, tuple[float, float]]
    measures: list[MeasureRow]
    post_office_municipalities: int
    post_offices: int
    watch: list[Entry]

    @property
    def holding_rate(self) -> float | None:
        return self.card_holders / self.residents if self.residents else None


def latest_imported() -> list[ReportV1]:
    """The latest imported report of each municipality (by its date, then by import)."""
    seen: set[str] = set()
    latest = []
    for stored in ImportedReport.objects.order_by("municipality_code", "-as_of", "-imported_at"):
        if stored.municipality_code not in seen:
            seen.add(stored.municipality_code)
            latest.append(ReportV1.load(stored.report))
    return latest


def shown(report: ReportV1) -> ReportV1:
    """What the roll-up keeps of a report: all but the monthly forecast and the holding by age
    band, which its tables and CSV do not show — the kept roll-up, unpickled on every view, then
    holds a few dozen numbers per municipality rather than every report whole."""
    return report.model_copy(
        update={
            "forecast": report.forecast.model_copy(update={"by_month": []}),
            "holding": report.holding.model_copy(update={"by_age_band": []}),
        }
    )


def build_rollup(*, today: dt.date | None = None, digests: dict[int, str] | None = None) -> Rollup:
    """The roll-up built now from the kept reports (each rebuilt if its inputs changed) and the
    latest imported reports; `digests`, when given, are the local reports' input digests just
    taken (`report_inputs_digests`), so they are not taken twice."""
    today = today or clock.today()
    local = list(Municipality.objects.order_by("code"))
    entries = [
        Entry(shown(report), LIVE) for report in kept_reports(local, today=today, digests=digests)
    ]
    live_codes = {e.report.municipality.code for e in entries}
    entries += [
        Entry(shown(report), IMPORTED)
        for report in latest_imported()
        if report.municipality.code not in live_codes
    ]
    entries.sort(key=lambda e: e.report.municipality.code)
    return summarise(entries)


ROLLUP_SCOPE = "deployment"
FIGURES_MAX_AGE = dt.timedelta(minutes=5)
"""How old the booking, notice and hand-over figures of a kept roll-up may be: the
municipalities' input digests are taken again when the last were taken this long ago."""


@dataclass(frozen=True)
class KeptView:
    """The roll-up a view shows and when the municipalities' inputs were last checked."""

    rollup: Rollup
    checked_at: dt.datetime


def rollup_quick_digest(*, today: dt.date) -> str:
    """SHA-256 of the day, the code version, the imported reports and the count of changes to
    the inputs that are not bookings: a fixed few statements however many municipalities."""
    imported = list(ImportedReport.objects.order_by("pk").values_list("pk", "sha256"))
    return digest_of(
        {
            "code": code_digest(),
            "today": today,
            "imported": imported,
            "changes": rollup_inputs.changes(),
        }
    )


def rollup_inputs_digest(*, today: dt.date, quick: str | None = None) -> tuple[str, dict[int, str]]:
    """SHA-256 of everything the roll-up as of `today` is built from (the quick digest and every
    local report's input digest), and the local reports' input digests it covers."""
    quick = quick if quick is not None else rollup_quick_digest(today=today)
    ids = list(Municipality.objects.order_by("pk").values_list("pk", flat=True))
    local = report_inputs_digests(ids, today=today)
    return digest_of({"quick": quick, "local": sorted(local.items())}), local


def kept_rollup(*, today: dt.date | None = None) -> Rollup:
    """The roll-up as of `today` (see `kept_rollup_view`)."""
    return kept_rollup_view(today=today).rollup


def kept_rollup_view(*, today: dt.date | None = None) -> KeptView:
    """The roll-up as of `today`: the kept one when the quick digest is unchanged and the
    municipalities' inputs were checked less than `FIGURES_MAX_AGE` ago; else, their digests
    taken now, the kept one if they are unchanged too, or built now (from the kept reports,
    rebuilding only those whose inputs changed) and kept. The digests are taken before the
    build, so a change made during it leaves the kept roll-up stale, not wrongly fresh."""
    today = today or clock.today()
    now = clock.now()
    quick = rollup_quick_digest(today=today)
    row = (
        KeptRollup.objects.filter(scope=ROLLUP_SCOPE)
        .values("inputs_digest", "quick_digest", "checked_at", "payload")
        .first()
    )
    if (
        row is not None
        and row["quick_digest"] == quick
        and row["checked_at"] is not None
        and now - row["checked_at"] < FIGURES_MAX_AGE
    ):
        kept = unpickled(row["payload"], kind=Rollup, version=code_digest())
        if kept is not None:
            return KeptView(kept, row["checked_at"])
    digest, local = rollup_inputs_digest(today=today, quick=quick)
    value, _built = kept_or_built(
        KeptRollup,
        digest=digest,
        kind=Rollup,
        build=lambda: build_rollup(today=today, digests=local),
        scope=ROLLUP_SCOPE,
    )
    KeptRollup.objects.filter(scope=ROLLUP_SCOPE, inputs_digest=digest).update(
        quick_digest=quick, checked_at=now
    )
    return KeptView(value, now)


def summarise(entries: list[Entry]) -> Rollup:
    renewals: dict[int, list[float]] = {}
    for entry in entries:
        for year in entry.report.forecast.by_fiscal_year:
            totals = renewals.setdefault(year.fiscal_year, [0.0, 0.0])
            totals[0] += year.cards
            totals[1] += year.certificates
    measures = []
    classes = [c.value for c in MunicipalityClass]
    for key, label in MEASURES:
        running = [e for e in entries if getattr(e.report.measures, key)]
        by_class = {
            c: (
                sum(1 for e in running if e.report.municipality.municipality_class == c),
                sum(1 for e in entries if e.report.municipality.municipality_class == c),
            )
            for c in classes
        }
        large = [e for e in entries if e.report.municipality.municipality_class in LARGE_CLASSES]
        measures.append(
            MeasureRow(
                key=key,
                label=label,
                count=len(running),
                rate=len(running) / len(entries) if entries else None,
                by_class=by_class,
                large_count=sum(1 for e in large if getattr(e.report.measures, key)),
                large_total=len(large),
            )
        )
    return Rollup(
        entries=entries,
        fiscal_years=sorted(renewals),
        residents=sum(e.report.holding.residents for e in entries),
        card_holders=sum(e.report.holding.card_holders for e in entries),
        renewals={year: (c, e) for year, (c, e) in renewals.items()},
        measures=measures,
        post_office_municipalities=sum(
            1 for e in entries if e.report.measures.post_office_consignment
        ),
        post_offices=sum(e.report.measures.post_offices for e in entries),
        watch=[e for e in entries if e.late_with_notices or e.heading_for_backlog],
    )


CSV_HEADER = [
    "地方公共団体コード",
    "自治体名",
    "区分",
    "出典",
    "基準日",
    "人口",
    "住民数",
    "カード保有者数",
    "保有率（％）",
]


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def rollup_csv(rollup: Rollup) -> bytes:
    """One row per municipality: holding, renewals per fiscal year, measures, notices, backlog;
    formula-safe (`core.csvsafe`), UTF-8 with a BOM."""
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\r\n")
    header = list(CSV_HEADER)
    for year in rollup.fiscal_years:
        header += [f"{year}年度 カード更新", f"{year}年度 電子証明書更新"]
    header += [label for _, label in MEASURES]
    header += [
        "委託郵便局数",
        "到着カード数（91日）",
        "1週間以内の通知",
        "2週間以内の通知",
        "期限超過で通知待ち",
        "滞留の見込み",
    ]
    writer.writerow(header)
    labels = dict(MunicipalityClass.choices)
    for entry in rollup.entries:
        report = entry.report
        years = {y.fiscal_year: y for y in report.forecast.by_fiscal_year}
        row: list[object] = [
            report.municipality.code,
            report.municipality.name,
            labels.get(report.municipality.municipality_class, ""),
            SOURCE_LABELS[entry.source],
            report.as_of.isoformat(),
            entry.population,
            report.holding.residents,
            report.holding.card_holders,
            _percent(entry.holding_rate),
        ]
        for year in rollup.fiscal_years:
            found = years.get(year)
            row += [found.cards if found else "", found.certificates if found else ""]
        row += ["○" if getattr(report.measures, key) else "" for key, _ in MEASURES]
        row += [
            report.measures.post_offices,
            report.notices.arrived,
            report.notices.within_1_week,
            report.notices.within_2_weeks,
            report.notices.waiting_past_limit,
            "○" if entry.heading_for_backlog else "",
        ]
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode()


def rows_of(content: bytes) -> Iterable[list[str]]:
    """The CSV's rows (for tests and readers)."""
    return csv.reader(io.StringIO(content.decode("utf-8-sig")))
