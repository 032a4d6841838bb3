"""The municipality's signed report: what it holds (and never holds), the round trip to another
deployment's roll-up, and every refusal of a bad file (nothing imported)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.forecasts import report_signing
from madoguchi.forecasts.models import ImportedReport
from madoguchi.forecasts.report import (
    build_report,
    canonical_bytes,
    measures_of,
    signed_document,
    to_csv,
    to_json,
)
from madoguchi.forecasts.report_import import ReportRefused, import_report
from madoguchi.forecasts.selectors import holding_view
from madoguchi.issuance.models import CardRecord
from madoguchi.offices.models import Municipality, Site, SiteKind
from tests import personas
from tests.conftest import SUITE_SETTINGS
from tests.frozen_clock import DEMO_EVENING, frozen_at

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)
ACTOR = Actor.system("test")


class _RollBack(Exception):
    pass


@pytest.fixture
def keys(settings: Any, tmp_path: Path) -> Path:
    """This deployment's key directory and trusted keys, in the test's own folder."""
    settings.MADOGUCHI_REPORT_KEY_DIR = tmp_path / "keys"
    settings.MADOGUCHI_REPORT_TRUSTED_KEYS = tmp_path / "trusted.txt"
    return tmp_path


DEMO_CITY = personas.DemoCity(residents=400, seed=3)
LEAVES_DEMO_CITY = ("_deployment_a",)
"""The tests of deployment B start from deployment A's report, which `_deployment_a` builds
from the kept `DEMO_CITY` once and then rolls the city back: tests/world_order.py runs them
right after the city's own tests (of every module that keeps it), while it is held."""


@pytest.fixture(scope="module")
def _deployment_a(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Deployment A: the demo city's signed report, built ONCE for the module with A's own key
    directory from the kept `DEMO_CITY` (held still, or built now), in a savepoint rolled back,
    and the city then rolled back too — so no test's database (deployment B's) ever holds it."""
    municipality = personas.fresh_copy(
        personas.hold(personas.demo_city_wanted(DEMO_CITY), django_db_blocker)
    )
    document: dict[str, Any] = {}
    try:
        with (
            django_db_blocker.unblock(),
            frozen_at(DEMO_EVENING),
            override_settings(
                MADOGUCHI_REPORT_KEY_DIR=tmp_path_factory.mktemp("a-keys"), **SUITE_SETTINGS
            ),
        ):
            try:
                with transaction.atomic():
                    document = signed_document(build_report(municipality, today=TODAY))
                    raise _RollBack
            except _RollBack:
                pass
    finally:
        personas.release(django_db_blocker)
    with django_db_blocker.unblock():
        assert not Municipality.objects.exists()
    return document


@pytest.fixture
def exported(
    _deployment_a: dict[str, Any], frozen: time_machine.Traveller, settings: Any, tmp_path: Path
) -> dict[str, Any]:
    """Deployment A's signed report (its own copy); the test goes on as deployment B, with its
    own (empty) key directory and trusted keys, at the moment A built it."""
    frozen.move_to(DEMO_EVENING)
    assert not Municipality.objects.exists()
    settings.MADOGUCHI_REPORT_KEY_DIR = tmp_path / "b-keys"
    settings.MADOGUCHI_REPORT_TRUSTED_KEYS = tmp_path / "b-trusted.txt"
    return copy.deepcopy(_deployment_a)


def _trust(document: dict[str, Any]) -> None:
    report_signing.register_public_key(
        document["report"]["municipality"]["code"], document["signature"]["public_key"]
    )


def _resign(document: dict[str, Any]) -> dict[str, Any]:
    """`document` signed again by its municipality code's key in the current key directory
    (a sender that signs what it altered)."""
    data = document["report"]
    public_key, value = report_signing.sign(data["municipality"]["code"], canonical_bytes(data))
    return {
        "report": data,
        "signature": {**document["signature"], "public_key": public_key, "value": value},
    }


def _nothing_imported() -> None:
    assert not ImportedReport.objects.exists()
    assert not AuditEvent.objects.filter(action="report.imported").exists()


# --- what the report holds -------------------------------------------------------------------


def test_the_report_adds_up_to_the_register_and_holds_no_personal_data(
    demo_city: Municipality, keys: Path
) -> None:
    report = build_report(demo_city, today=TODAY)
    view = holding_view(demo_city)
    assert view.total is not None
    assert report.holding.residents == view.total.residents > 0
    assert sum(b.card_holders for b in report.holding.by_age_band) == report.holding.card_holders
    assert report.holding.card_holders == view.total.card_holders
    by_month = {m.month: m for m in report.forecast.by_month}
    assert len(by_month) == 36 and min(by_month) == "2026-04"
    for year in report.forecast.by_fiscal_year:
        months = [
            m
            for key, m in by_month.items()
            if (key >= f"{year.fiscal_year}-04") and (key <= f"{year.fiscal_year + 1}-03")
        ]
        assert len(months) == 12
        assert year.cards == pytest.approx(sum(m.cards for m in months), abs=1.0)
    assert sum(y.cards for y in report.forecast.by_fiscal_year) > 0
    assert report.capacity.capacity_hours > 0
    assert report.notices.within_1_week <= report.notices.within_2_weeks <= report.notices.arrived
    text = to_json(signed_document(report)).decode() + to_csv(signed_document(report)).decode(
        "utf-8-sig"
    )
    cards = list(CardRecord.objects.filter(municipality=demo_city))
    assert cards
    for card in cards:
        for personal in (card.family_name, card.address, card.notice_number, card.application_id):
            assert not personal or personal not in text
    assert "birth" not in text and "name_kana" not in text


def test_the_report_reads_each_sites_calendar_once(demo_city: Municipality, keys: Path) -> None:
    """The report's capacity, staffing and backlog come from one read of the sites' calendars,
    procedures and counts (`municipality_site_inputs`) — each read them again: a site's
    sessions, closures and special openings in three statements each, now one for all the
    sites — and of
    the planning policy (each part read it, some twice: 8 reads), and they are what each
    computes reading the sites and the policy itself."""
    import numpy as np
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from madoguchi.forecasts.models import policy_for
    from madoguchi.forecasts.selectors import backlog_view, capacity_plan, counter_needs

    with CaptureQueriesContext(connection) as statements:
        report = build_report(demo_city, today=TODAY)
    reads = [q["sql"] for q in statements.captured_queries]
    sites = Site.objects.filter(municipality=demo_city, is_active=True).count()
    assert sites > 1  # the control: the demo city has several sites in service
    # the calendars' one read of each table, and the measures' own look at the sessions and
    # special openings of all the sites (evening or weekend sessions, openings in the year)
    for table, count in (
        ("offices_openingsession", 2),
        ("offices_closure", 1),
        ("offices_specialopening", 2),
    ):
        read = [sql for sql in reads if f'FROM "{table}"' in sql]
        assert len(read) == count, (table, read)
    policy_reads = [sql for sql in reads if 'FROM "forecasts_planningpolicy"' in sql]
    assert len(policy_reads) == 1, policy_reads
    # the active counters' procedures in one statement (was one a counter: 10 in the demo
    # city), the backlog's slots in one (was one a site) and its card counts in one (was 3),
    # the card pick-up taken from the sites' procedures (was read three times more)
    for table, count in (
        ("offices_counter_procedures", 1),
        ("reservations_slot", 2),  # the backlog's seats; the measures' look for reservations
        ("offices_procedure", 2),  # the sites' offered ones; the counter needs' work kinds
        ("forecasts_registersnapshot", 1),  # for every part (the parts asked for it 5 times)
    ):
        read = [sql for sql in reads if f'FROM "{table}"' in sql]
        assert len(read) == count, (table, read)
    # all told (the cubes' counts aside: read only when the process keeps no such cube)
    uncached = [sql for sql in reads if 'FROM "forecasts_registerexpirycount"' not in sql]
    assert len(uncached) == 26, uncached  # was 48
    start, take_up = TODAY.replace(day=1), policy_for(demo_city.pk).take_up_percent / 100
    months = report.capacity.months
    plan = capacity_plan(demo_city, start=start, months=months, take_up=take_up)
    assert report.capacity.capacity_hours == round(float(np.sum(plan.capacity_hours)), 1) > 0
    needs = counter_needs(demo_city, start=start, months=months, take_up=take_up)
    assert needs is not None
    assert report.staffing.counters_needed == sum(s.counters_needed for s in needs.sites)
    assert report.staffing.busiest_week == needs.week_start
    view = backlog_view(demo_city, today=TODAY)
    assert report.backlog.waiting_for_notice == view.waiting_for_notice


def test_the_measures_follow_the_configuration(demo_city: Municipality, keys: Path) -> None:
    before = measures_of(demo_city, TODAY)
    Site.objects.filter(municipality=demo_city, kind=SiteKind.POST_OFFICE).update(is_active=False)
    without = measures_of(demo_city, TODAY)
    assert not without.post_office_consignment and without.post_offices == 0
    Site.objects.create(
        municipality=demo_city, name="駅前郵便局", kind=SiteKind.POST_OFFICE, address="駅前1"
    )
    Site.objects.create(
        municipality=demo_city, name="駅前郵便局2", kind=SiteKind.POST_OFFICE, address="駅前2"
    )
    with_two = measures_of(demo_city, TODAY)
    assert with_two.post_office_consignment and with_two.post_offices == 2
    assert before.reservations  # the demo city takes bookings


def test_the_signing_key_is_made_once_and_kept_private(demo_city: Municipality, keys: Path) -> None:
    first = report_signing.own_public_key(demo_city.code)
    assert report_signing.own_public_key(demo_city.code) == first
    key_file = keys / "keys" / f"{demo_city.code}.ed25519.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


# --- the round trip --------------------------------------------------------------------------


def test_export_report_writes_a_file_the_other_side_verifies(
    demo_city: Municipality, keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    call_command(
        "export_report", "--municipality", demo_city.code, "--format", "csv", "-o", str(out)
    )
    call_command("report_public_key", "--municipality", demo_city.code)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line == f"{demo_city.code} {report_signing.own_public_key(demo_city.code)}"
    assert out.read_bytes().decode("utf-8-sig").startswith("key,value")
    with pytest.raises(ReportRefused, match="運用している自治体"):
        report_signing.register_public_key(*line.split())
        import_report(out.read_bytes(), file_name="out.csv", actor=ACTOR)


@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_report_round_trips_to_another_deployment(exported: dict[str, Any], form: str) -> None:
    _trust(exported)
    content = to_json(exported) if form == "json" else to_csv(exported)
    result = import_report(content, file_name=f"report.{form}", actor=ACTOR)
    assert result.created
    stored = ImportedReport.objects.get()
    assert stored.report == exported["report"]
    assert stored.municipality_code == exported["report"]["municipality"]["code"]
    assert AuditEvent.objects.filter(action="report.imported").count() == 1
    again = import_report(content, file_name=f"again.{form}", actor=ACTOR)
    assert not again.created and ImportedReport.objects.count() == 1
    other = to_csv(exported) if form == "json" else to_json(exported)
    assert not import_report(other, file_name="other", actor=ACTOR).created  # one report, two forms


def test_the_commands_export_and_import(
    exported: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(to_json(exported))
    code = exported["report"]["municipality"]["code"]
    call_command("report_public_key", "--trust", code, exported["signature"]["public_key"])
    call_command("import_report", str(path))
    assert "取り込みました" in capsys.readouterr().out
    assert ImportedReport.objects.count() == 1


# --- refusals: each refused whole, nothing imported ------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        node: Any = document["report"]
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[parts[-1]] = value

    return change


BAD = {
    "bad signature (a figure changed in transit)": (
        _set("holding.card_holders", 999),
        False,
        "署名が報告書の内容と合いません",
    ),
    "unknown schema version": (_set("schema_version", 2), True, "第「2」版は扱えません"),
    "unknown schema": (_set("schema", "other-report"), True, "扱えません"),
    "wrong check digit": (_set("municipality.code", "131040"), True, "検査数字"),
    "a resident's name": (
        _set("holding.by_age_band.3.name", "山田太郎"),
        True,
        "個人に関する項目「report.holding.by_age_band.3.name」",
    ),
    "birth dates": (
        _set("birth_dates", ["1980-01-01"]),
        True,
        "個人に関する項目「report.birth_dates」",
    ),
    "a notice number": (
        _set("municipality.name", "みどり市 KGD-597843"),
        True,
        "交付通知書番号と思われる文字列",
    ),
    "an Individual Number": (
        _set("holding.residents", 123456789018),
        True,
        "個人番号（マイナンバー）と思われる数字",
    ),
    "an unknown field": (_set("capacity.extra", 1), True, "様式（第1版）と合いません"),
}


@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_bad_report_is_refused_whole(exported: dict[str, Any], case: str, form: str) -> None:
    change, resign, message = BAD[case]
    document = copy.deepcopy(exported)
    change(document)
    if resign:  # signed after the change: refused for the change itself, not the signature
        document = _resign(document)
        report_signing.register_public_key(
            document["report"]["municipality"]["code"], document["signature"]["public_key"]
        )
    _trust(exported)
    content = to_json(document) if form == "json" else to_csv(document)
    with pytest.raises(ReportRefused) as refused:
        import_report(content, file_name=f"bad.{form}", actor=ACTOR)
    assert message in refused.value.message
    _nothing_imported()


JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uff01-\uff5e]")


@pytest.mark.parametrize("case", BAD)
def test_each_refusal_is_translated_for_staff_reading_english(
    exported: dict[str, Any], case: str
) -> None:
    """The same refusals under English (a staff page in English): no Japanese left in the
    message — the check would fail on any message not passed through gettext or not in the
    English catalogue."""
    change, resign, _message = BAD[case]
    document = copy.deepcopy(exported)
    change(document)
    if resign:
        document = _resign(document)
        report_signing.register_public_key(
            document["report"]["municipality"]["code"], document["signature"]["public_key"]
        )
    _trust(exported)
    with translation.override("en"), pytest.raises(ReportRefused) as refused:
        import_report(to_json(document), file_name="bad.json", actor=ACTOR)
    english = refused.value.message
    assert not JAPANESE.search(english.replace(exported["report"]["municipality"]["name"], "")), (
        english
    )
    with translation.override("ja"), pytest.raises(ReportRefused) as refused:
        import_report(to_json(document), file_name="bad.json", actor=ACTOR)
    assert refused.value.message != english
    _nothing_imported()


def test_a_file_that_is_no_report_is_refused_in_english_too(exported: dict[str, Any]) -> None:
    _trust(exported)
    for content, name in (
        (b"\x89PNG\r\n", "x"),
        (b"{not json", "x"),
        (json.dumps({"report": exported["report"]}).encode(), "x"),
        (b"a;b\n1;2\n", "x"),
        (b"key,value\nreport.a,1\nreport.a,2\n", "x.csv"),
        (b"nothing", "x.csv"),
        (b"x" * 2_000_001, "x"),
    ):
        with translation.override("en"), pytest.raises(ReportRefused) as refused:
            import_report(content, file_name=name, actor=ACTOR)
        assert not JAPANESE.search(refused.value.message), refused.value.message
    unsigned = {"report": exported["report"], "signature": {"algorithm": "RSA"}}
    with translation.override("en"), pytest.raises(ReportRefused, match="not supported"):
        import_report(json.dumps(unsigned).encode(), file_name="x", actor=ACTOR)
    _nothing_imported()


def test_the_rollup_page_shows_a_refusal_in_english(exported: dict[str, Any], client: Any) -> None:
    from madoguchi.staff.models import Role, StaffUser
    from tests.conftest import login_staff
    from tests.offices import factories as offices

    _trust(exported)
    tampered = copy.deepcopy(exported)
    tampered["report"]["holding"]["card_holders"] += 1
    user = StaffUser.objects.create_user(
        username="pref",
        password="x" * 12,
        role=Role.ROLLUP,
        municipality=offices.municipality(code="999997", name="あおば町"),
    )
    login_staff(client, user)
    client.cookies["django_language"] = "en"
    upload = SimpleUploadedFile("bad.json", to_json(tampered), content_type="application/json")
    response = client.post(
        "/staff/planning/rollup/import/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "The signature does not match the report" in response.content.decode()
    _nothing_imported()


def test_a_report_signed_by_a_key_nobody_registered_is_refused(exported: dict[str, Any]) -> None:
    with pytest.raises(ReportRefused, match="鍵として登録されていません"):
        import_report(to_json(exported), file_name="r.json", actor=ACTOR)
    _nothing_imported()
    _trust(exported)
    assert import_report(to_json(exported), file_name="r.json", actor=ACTOR).created


def test_a_file_that_is_no_report_is_refused(exported: dict[str, Any]) -> None:
    _trust(exported)
    for content, message in (
        (b"\x89PNG\r\n", "UTF-8"),
        (b"{not json", "JSONとして読めません"),
        (json.dumps({"report": exported["report"]}).encode(), "両方が必要です"),
        (b"a;b\n1;2\n", "報告書（JSON または CSV）として読めません"),
    ):
        with pytest.raises(ReportRefused, match=message):
            import_report(content, file_name="x", actor=ACTOR)
    _nothing_imported()


def test_the_refusal_of_the_command_names_the_reason(
    exported: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = copy.deepcopy(exported)
    document["report"]["holding"]["card_holders"] += 1
    path = tmp_path / "bad.json"
    path.write_bytes(to_json(document))
    _trust(exported)
    with pytest.raises(SystemExit) as exit_:
        call_command("import_report", str(path))
    assert exit_.value.code == 2
    assert "署名が報告書の内容と合いません" in capsys.readouterr().err
    _nothing_imported()
