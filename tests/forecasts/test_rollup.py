"""The roll-up: the deck's tables over this deployment's municipalities and imported reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine

from madoguchi.core.audit import Actor
from madoguchi.forecasts import report_signing
from madoguchi.forecasts.report import ReportV1, build_report, canonical_bytes, to_json
from madoguchi.forecasts.report_import import import_report
from madoguchi.forecasts.rollup import (
    IMPORTED,
    LIVE,
    Entry,
    build_rollup,
    rollup_csv,
    rows_of,
    summarise,
)
from madoguchi.offices.models import Municipality, MunicipalityClass, SiteKind
from tests.frozen_clock import DEMO_EVENING
from tests.offices import factories as offices

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)


@pytest.fixture
def keys(settings: Any, tmp_path: Path, frozen: time_machine.Traveller) -> Path:
    frozen.move_to(DEMO_EVENING)
    settings.MADOGUCHI_REPORT_KEY_DIR = tmp_path / "keys"
    settings.MADOGUCHI_REPORT_TRUSTED_KEYS = tmp_path / "trusted.txt"
    return tmp_path


def _report(base: ReportV1, **changes: dict[str, Any]) -> ReportV1:
    data = base.dump()
    for section, values in changes.items():
        data[section] = {**data[section], **values}
    return ReportV1.load(data)


@pytest.fixture
def base(keys: Path) -> ReportV1:
    return build_report(offices.municipality(code="131041", name="基準区"), today=TODAY)


MEASURES_OFF = {
    "dedicated_or_temporary_counters": False,
    "weekend_holiday_evening_opening": False,
    "reservations": False,
    "outsourcing": False,
    "post_office_consignment": False,
    "post_offices": 0,
    "temporary_sites": 0,
}


def test_the_tables_count_measures_overall_and_by_class(base: ReportV1) -> None:
    def entry(code: str, klass: str, residents: int, holders: int, **measures: Any) -> Entry:
        report = _report(
            base,
            municipality={"code": code, "name": code, "municipality_class": klass},
            holding={"residents": residents, "card_holders": holders},
            measures={**MEASURES_OFF, **measures},
            forecast={
                "by_month": [],
                "by_fiscal_year": [{"fiscal_year": 2026, "cards": 10.0, "certificates": 20.0}],
            },
        )
        return Entry(report, IMPORTED)

    entries = [
        entry("011002", "designated_city", 1000, 800, weekend_holiday_evening_opening=True),
        entry(
            "012025",
            "core_city",
            500,
            400,
            weekend_holiday_evening_opening=True,
            post_office_consignment=True,
            post_offices=3,
        ),
        entry("131016", "special_ward", 300, 150),
        entry(
            "013030",
            "other",
            200,
            100,
            weekend_holiday_evening_opening=True,
            post_office_consignment=True,
            post_offices=2,
        ),
    ]
    rollup = summarise(entries)
    assert rollup.residents == 2000 and rollup.card_holders == 1450
    assert rollup.holding_rate == pytest.approx(0.725)
    assert rollup.renewals == {2026: (40.0, 80.0)}
    evening = next(m for m in rollup.measures if m.key == "weekend_holiday_evening_opening")
    assert (evening.count, evening.rate) == (3, 0.75)
    assert evening.by_class == {
        "designated_city": (1, 1),
        "core_city": (1, 1),
        "special_ward": (0, 1),
        "other": (1, 1),
    }
    assert (evening.large_count, evening.large_total) == (2, 3)
    assert (rollup.post_office_municipalities, rollup.post_offices) == (2, 5)


def test_late_notices_and_a_coming_backlog_put_a_municipality_on_the_watch_list(
    base: ReportV1,
) -> None:
    on_time = _report(base, notices={"arrived": 100, "within_1_week": 95, "within_2_weeks": 100})
    slow = _report(
        base,
        municipality={"code": "011002"},
        notices={"arrived": 100, "within_1_week": 50, "within_2_weeks": 80},
    )
    waiting = _report(base, municipality={"code": "012025"}, notices={"waiting_past_limit": 3})
    backlog = _report(base, municipality={"code": "131016"}, backlog={"heading_for_backlog": True})
    rollup = summarise([Entry(r, IMPORTED) for r in (on_time, slow, waiting, backlog)])
    assert [e.report.municipality.code for e in rollup.watch] == ["011002", "012025", "131016"]


def test_the_rollup_takes_live_municipalities_and_the_latest_imported_report(
    keys: Path, base: ReportV1
) -> None:
    offices.municipality(
        code="999997", name="あおば町", municipality_class=MunicipalityClass.CORE_CITY
    )

    def send(as_of: dt.date, holders: int) -> None:
        data = _report(
            base,
            municipality={"code": "011002", "name": "さっぽろ試験市"},
            holding={"card_holders": holders},
        ).dump()
        data["as_of"] = as_of.isoformat()
        public_key, value = report_signing.sign("011002", canonical_bytes(data))
        report_signing.register_public_key("011002", public_key)
        document = {
            "report": data,
            "signature": {"algorithm": "Ed25519", "public_key": public_key, "value": value},
        }
        import_report(to_json(document), file_name="r.json", actor=Actor.system("test"))

    send(dt.date(2026, 10, 1), 5)
    send(dt.date(2026, 11, 1), 7)
    rollup = build_rollup(today=TODAY)
    sources = {e.report.municipality.code: e.source for e in rollup.entries}
    assert sources == {"011002": IMPORTED, "131041": LIVE, "999997": LIVE}
    imported = next(e for e in rollup.entries if e.source == IMPORTED)
    assert imported.report.holding.card_holders == 7  # the later report
    assert Municipality.objects.count() == 2


def test_the_rollup_csv_is_formula_safe(base: ReportV1) -> None:
    hostile = _report(base, municipality={"name": '=HYPERLINK("x")'})
    content = rollup_csv(summarise([Entry(hostile, IMPORTED)]))
    rows = list(rows_of(content))
    assert rows[0][0] == "地方公共団体コード"
    assert rows[1][1] == '\'=HYPERLINK("x")'


def test_measures_come_from_the_sites(keys: Path) -> None:
    city = offices.municipality(code="131041", name="基準区")
    offices.site(city, kind=SiteKind.POST_OFFICE, name="中央郵便局")
    report = build_report(city, today=TODAY)
    assert report.measures.post_office_consignment and report.measures.post_offices == 1
