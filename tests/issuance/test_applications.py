"""Weekly application counts: read like delivery lists, stored, turned into expected arrivals."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.applications import (
    ApplicationCountsReport,
    project_arrivals,
    read_application_counts,
    stored_counts,
)
from madoguchi.issuance.models import ApplicationCount
from madoguchi.issuance.services import store_application_counts
from madoguchi.staff.models import Role
from tests.conftest import login_staff
from tests.frozen_clock import APPLICATIONS_NOW
from tests.issuance import factories

GOOD = "week,applications\n2026-01-05,100\n2026-01-12,200\n"

pytestmark = [pytest.mark.frozen_at(APPLICATIONS_NOW), pytest.mark.usefixtures("frozen")]


def read(text: str, encoding: str = "utf-8") -> ApplicationCountsReport:
    return read_application_counts(io.BytesIO(text.encode(encoding)), file_name="a.csv")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_a_good_file_is_read_in_any_accepted_encoding(encoding: str) -> None:
    report = read(GOOD.replace("\n2026-01-12", "\n２０２６-０１-１２"), encoding)
    assert report.accepted, report.problems
    assert report.counts == {dt.date(2026, 1, 5): 100, dt.date(2026, 1, 12): 200}


def test_a_file_with_lines_ending_in_cr_alone_is_read() -> None:
    report = read(GOOD.replace("\n", "\r"), "cp932")
    assert report.accepted, report.problems
    assert report.counts == {dt.date(2026, 1, 5): 100, dt.date(2026, 1, 12): 200}


def test_columns_may_come_in_either_order() -> None:
    assert read("applications,week\n5,2026-01-05\n").counts == {dt.date(2026, 1, 5): 5}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "ファイルが空です"),
        ("week,applications\n", "データの行がありません"),
        ("week,count\n2026-01-05,1\n", "week,applications"),
        ("week,applications\n2026-01-06,1\n", "2行目: 週「2026-01-06」は月曜日ではありません"),
        ("week,applications\n2026/01/05,1\n", "2行目: 週「2026/01/05」は YYYY-MM-DD"),
        ("week,applications\n2026-01-05,-3\n", "2行目: 申請件数「-3」は0以上の整数"),
        ("week,applications\n2026-01-05,1\n2026-01-05,2\n", "3行目: 週「2026-01-05」が2回"),
        ("week,applications\n2026-01-05,1,9\n", "2行目: 列の数が見出しと違います"),
        ("week,applications\n2026-01-05,123456789018\n", "個人番号"),
    ],
)
def test_a_bad_file_is_reported_by_line_in_japanese_and_yields_nothing(
    text: str, message: str
) -> None:
    report = read(text)
    assert not report.accepted
    assert report.counts == {}
    assert any(message in line for line in report.lines())


def test_mixed_encodings_are_refused() -> None:
    raw = b"week,applications\n" + "2026-01-05,１\n".encode() + "2026-01-12,２\n".encode("cp932")
    report = read_application_counts(io.BytesIO(raw), file_name="a.csv")
    assert any("文字コードが混在" in line for line in report.lines())


def test_expected_arrivals_are_dated_by_monday_and_gaps_count_as_zero() -> None:
    weeks = project_arrivals({dt.date(2026, 1, 5): 100, dt.date(2026, 1, 19): 100}, {1: 1.0})
    assert [(w.week, w.expected_arrivals) for w in weeks] == [
        (dt.date(2026, 1, 5), 0.0),
        (dt.date(2026, 1, 12), 100.0),
        (dt.date(2026, 1, 19), 0.0),
        (dt.date(2026, 1, 26), 100.0),
    ]
    assert sum(w.expected_arrivals for w in weeks) == 200


@pytest.mark.django_db
def test_storing_counts_replaces_known_weeks_keeps_others_and_is_audited() -> None:
    owner = factories.municipality()
    actor = Actor.system("test")
    store_application_counts(
        municipality=owner,
        counts={dt.date(2026, 1, 5): 1, dt.date(2026, 1, 12): 2},
        actor=actor,
    )
    store_application_counts(municipality=owner, counts={dt.date(2026, 1, 12): 20}, actor=actor)
    assert stored_counts(owner.pk) == {dt.date(2026, 1, 5): 1, dt.date(2026, 1, 12): 20}
    assert AuditEvent.objects.filter(action="applications.store").count() == 2


@pytest.mark.django_db
def test_the_command_prints_expected_arrivals_as_csv(tmp_path: Path) -> None:
    path = tmp_path / "applications.csv"
    path.write_text(GOOD, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "expected_arrivals", applications=str(path), lag="1:0.5,2:0.5", stdout=out, stderr=err
    )
    assert out.getvalue().splitlines() == [
        "week,expected_arrivals",
        "2026-01-05,0.0",
        "2026-01-12,50.0",
        "2026-01-19,150.0",
        "2026-01-26,100.0",
    ]
    assert "実際より少なく" in err.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "lag", "message"),
    [(GOOD, "4:0.5", "合計が1になりません"), ("week,applications\n2026-01-06,1\n", None, "月曜日")],
)
def test_the_command_refuses_bad_input_with_exit_code_2(
    tmp_path: Path, content: str, lag: str | None, message: str
) -> None:
    path = tmp_path / "applications.csv"
    path.write_text(content, encoding="utf-8")
    err = io.StringIO()
    options = {"lag": lag} if lag else {}
    with pytest.raises(SystemExit) as exited:
        call_command("expected_arrivals", applications=str(path), stderr=err, **options)
    assert exited.value.code == 2
    assert message in err.getvalue()


@pytest.mark.django_db
def test_an_official_uploads_counts_and_the_dashboard_shows_expected_arrivals() -> None:
    client = Client()
    login_staff(client, factories.staff(Role.OFFICIAL, factories.municipality()))
    assert "週ごとの申請件数が登録されていません" in client.get("/staff/issuance/").content.decode()

    upload = SimpleUploadedFile("a.csv", GOOD.encode(), content_type="text/csv")
    page = client.post("/staff/issuance/applications/", {"file": upload}, follow=True)
    html = page.content.decode()
    assert "2週分の申請件数を読み込みました" in html
    assert "週ごとのカード到着見込み" in html
    assert "2026-02-02" in html  # 4 weeks after the first week: the main lag
    assert ApplicationCount.objects.count() == 2


@pytest.mark.django_db
def test_a_bad_counts_upload_changes_nothing_and_shows_the_report() -> None:
    client = Client()
    login_staff(client, factories.staff(Role.OFFICIAL, factories.municipality()))
    upload = SimpleUploadedFile("a.csv", b"week,applications\n2026-01-06,1\n")
    html = client.post("/staff/issuance/applications/", {"file": upload}, follow=True)
    assert "月曜日ではありません" in html.content.decode()
    assert ApplicationCount.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.CONTRACTOR, Role.AUDITOR])
def test_only_officials_upload_counts(role: str) -> None:
    client = Client()
    login_staff(client, factories.staff(role, factories.municipality()))
    upload = SimpleUploadedFile("a.csv", GOOD.encode())
    assert client.post("/staff/issuance/applications/", {"file": upload}).status_code == 403
    assert ApplicationCount.objects.count() == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_file_saved_as_utf16_or_utf32_is_named_so(encoding: str) -> None:
    report = read(GOOD, encoding)
    assert not report.accepted
    assert report.counts == {}
    assert encoding[:6].upper() in "\n".join(report.lines())
