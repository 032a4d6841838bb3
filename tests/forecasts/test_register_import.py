"""`import_register` and `madoguchi import-register`: a register file replaces the snapshot,
all or nothing, idempotent, with row-numbered reports and aggregates the pages read."""

from __future__ import annotations

import datetime as dt
import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from madoguchi.core.audit import Actor
from madoguchi.core.individual_number import individual_number_check_digit
from madoguchi.core.models import AuditEvent
from madoguchi.forecasts.models import (
    RegisterExpiryCount,
    RegisterHolding,
    RegisterRecord,
    RegisterSnapshot,
)
from madoguchi.forecasts.register_import import RegisterImportReport, import_register
from madoguchi.forecasts.register_io import read_register
from madoguchi.forecasts.selectors import expiry_cube, holding_view, municipality_forecast
from madoguchi.offices.models import Municipality
from madoguchi.planning.demand import build_expiry_cube, cube_range_for
from madoguchi.planning.rules import card_expiry_date, day_number
from tests.conftest import login_staff
from tests.frozen_clock import DEMO_MORNING

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 26)
HEADER = "person_id,birth_date,card_issued_on,card_expires_on,cert_issued_on,cert_expires_on,area"


@pytest.fixture(autouse=True)
def _today(frozen: time_machine.Traveller) -> None:
    frozen.move_to(DEMO_MORNING)


@pytest.fixture
def town() -> Municipality:
    return Municipality.objects.create(code="999997", name="台帳町")


def _individual_number() -> str:
    first = "12345678901"
    return first + str(individual_number_check_digit(first))


def _register(people: int, seed: int = 1) -> str:
    """A register CSV: about 80 % hold a card issued 2016–2026, every row in one of 3 areas."""
    rng = random.Random(seed)
    lines = [HEADER]
    for n in range(people):
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 80))
        card = cert = ""
        if rng.random() < 0.8:
            issued = max(birth, dt.date(2016, 1, 1) + dt.timedelta(days=rng.randrange(0, 3900)))
            card = cert = issued.isoformat()
        area = ("北町", "南台", "")[n % 3]
        lines.append(f"P{seed}-{n:06d},{birth.isoformat()},{card},,{cert},,{area}")
    return "\n".join(lines) + "\n"


def _import(town: Municipality, text: str | bytes, **options: Any) -> RegisterImportReport:
    data = text.encode() if isinstance(text, str) else text
    return import_register(
        io.BytesIO(data),
        file_name="register.csv",
        municipality=town,
        actor=Actor.system("test"),
        **options,
    )


def test_an_imported_register_replaces_the_rows_and_prepares_its_aggregates(
    town: Municipality, tmp_path: Path
) -> None:
    text = _register(900)
    report = _import(town, text, chunk_rows=256)
    assert report.accepted, report.lines()
    assert RegisterRecord.objects.filter(municipality=town).count() == 900
    assert set(RegisterRecord.objects.values_list("area", flat=True)) == {"北町", "南台", ""}
    snapshot = RegisterSnapshot.objects.get()
    assert snapshot.rows == 900 and snapshot.taken_on == TODAY
    # the stored cube is exactly the engine's cube over the same file
    path = tmp_path / "register.csv"
    path.write_text(text)
    first_month = dt.date(2026, 11, 1)
    first, last = cube_range_for(first_month, 36, by="week", early_periods=13)
    direct = build_expiry_cube(
        [read_register(path, today=TODAY).columns], first_day=first, last_day=last
    )
    stored = expiry_cube(town.pk, first_month=first_month)
    assert stored.counts.sum() > 0
    np.testing.assert_array_equal(stored.counts, direct.counts)
    # holders counted on the snapshot's date, per area and age band, add up to the snapshot's
    frame = pl.read_csv(io.BytesIO(text.encode()), infer_schema=False)
    holdings = RegisterHolding.objects.filter(snapshot=snapshot)
    assert sum(h.residents for h in holdings) == 900
    assert sum(h.card_holders for h in holdings) == snapshot.card_holders
    assert {h.area for h in holdings} == {"北町", "南台", ""}
    # the reference: the scalar validity rule, row by row
    holders = 0
    for row in frame.iter_rows(named=True):
        if row["card_issued_on"]:
            expires = card_expiry_date(
                birth_on=dt.date.fromisoformat(row["birth_date"]),
                card_issued_on=dt.date.fromisoformat(row["card_issued_on"]),
            )
            holders += expires >= TODAY
    assert snapshot.card_holders == holders


def test_the_planning_forecast_reads_the_aggregates_not_the_rows(town: Municipality) -> None:
    _import(town, _register(600))
    before = municipality_forecast(town, start=dt.date(2026, 12, 1), months=12)
    RegisterRecord.objects.all().delete()  # the pages never look at the rows
    after = municipality_forecast(town, start=dt.date(2026, 12, 1), months=12)
    assert before.card_renewals.sum() > 0
    np.testing.assert_array_equal(before.card_renewals, after.card_renewals)
    np.testing.assert_array_equal(before.cert_renewals, after.cert_renewals)


def test_the_same_file_twice_changes_nothing(town: Municipality) -> None:
    text = _register(300)
    assert _import(town, text).accepted
    snapshots, events = RegisterSnapshot.objects.count(), AuditEvent.objects.count()
    ids = list(RegisterRecord.objects.order_by("pk").values_list("pk", flat=True))
    again = _import(town, text)
    assert again.accepted and again.unchanged
    assert RegisterSnapshot.objects.count() == snapshots
    assert AuditEvent.objects.count() == events
    assert list(RegisterRecord.objects.order_by("pk").values_list("pk", flat=True)) == ids


def test_a_new_register_keeps_the_previous_snapshots_date_and_counts(town: Municipality) -> None:
    _import(town, _register(300, seed=1), taken_on=dt.date(2026, 4, 1))
    report = _import(town, _register(450, seed=2))
    assert report.accepted
    assert report.previous is not None and report.previous.rows == 300
    assert report.previous.taken_on == dt.date(2026, 4, 1)
    assert RegisterRecord.objects.count() == 450
    assert not RegisterRecord.objects.filter(person_id__startswith="P1-").exists()
    assert "前回（基準日 2026-04-01）: 300人" in "\n".join(report.lines())
    view = holding_view(town)
    assert view.snapshot is not None and view.snapshot.rows == 450
    assert view.previous is not None and view.previous.rows == 300
    assert view.total is not None and view.total.previous_rate is not None
    assert view.total.change_points is not None
    assert {row.label for row in view.by_area} == {"北町", "南台", "（地区なし）"}
    event = AuditEvent.objects.filter(action="register.import").order_by("pk").last()
    assert event is not None and event.before["rows"] == 300 and event.after["rows"] == 450


GOOD = "P-{n},1980-05-05,2020-01-10,,2020-01-10,,北町"


def _with_bad_row(bad: str, at: int = 3) -> str:
    rows = [GOOD.format(n=n) for n in range(6)]
    rows[at] = bad
    return "\n".join([HEADER, *rows]) + "\n"


BAD_FILES = {
    "missing column": (
        "person_id,birth_date,card_issued_on\nP-1,1980-05-05,2020-01-10\n",
        "必須の列がありません: cert_issued_on",
    ),
    "bad date": (_with_bad_row("P-x,1980-13-05,2020-01-10,,2020-01-10,,北町"), "5行目: birth_date"),
    "impossible date": (
        _with_bad_row("P-x,1980-02-30,2020-01-10,,2020-01-10,,北町"),
        "5行目: birth_date",
    ),
    "birth in the future": (
        _with_bad_row("P-x,2030-01-01,,,,,北町"),
        "5行目: birth_date が未来の日付です",
    ),
    "duplicate person_id": (
        _with_bad_row(GOOD.format(n=1)),
        "5行目: person_id が 3行目と重複しています",
    ),
    "duplicate person_id in another chunk": (
        _with_bad_row(GOOD.format(n=0), at=5),
        "7行目: person_id が 2行目と重複しています",
    ),
    "individual number as person_id": (
        _with_bad_row(f"{_individual_number()},1980-05-05,,,,,北町"),
        "5行目: 列「person_id」に個人番号",
    ),
    "individual number in an extra column": (
        HEADER + ",memo\n" + f"P-1,1980-05-05,,,,,北町,{_individual_number()}\n",
        "2行目: 列「memo」に個人番号",
    ),
    "empty person_id": (_with_bad_row(",1980-05-05,,,,,北町"), "5行目: person_id が空です"),
    "wrong number of columns": (_with_bad_row("P-x,1980-05-05"), "5行目: 列の数が見出しと違います"),
    "header only": (HEADER + "\n", "データ行がありません"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_register_is_rejected_whole_and_the_previous_snapshot_kept(
    town: Municipality, case: str
) -> None:
    assert _import(town, _register(120)).accepted
    snapshot = RegisterSnapshot.objects.get()
    rows = sorted(RegisterRecord.objects.values_list("person_id", "birth_date", "area"))
    text, expected = BAD_FILES[case]
    report = _import(town, text, chunk_rows=3)
    assert not report.accepted
    assert any(expected in line for line in report.lines()), report.lines()
    assert _individual_number() not in "\n".join(report.lines())
    assert list(RegisterSnapshot.objects.all()) == [snapshot]
    assert sorted(RegisterRecord.objects.values_list("person_id", "birth_date", "area")) == rows
    assert RegisterExpiryCount.objects.exclude(snapshot=snapshot).count() == 0


def test_a_file_mixing_utf8_and_cp932_is_rejected_with_the_line(town: Municipality) -> None:
    data = (
        (HEADER + "\n").encode()
        + "P-1,1980-05-05,,,,,北町\n".encode()
        + "P-2,1980-05-05,,,,,南台\n".encode("cp932")
    )
    report = _import(town, data)
    assert not report.accepted
    assert "3行目: 文字コードが混在しています" in "\n".join(report.lines())
    assert RegisterSnapshot.objects.count() == 0


def test_a_cp932_register_is_read(town: Municipality) -> None:
    report = _import(town, _register(30).encode("cp932"))
    assert report.accepted, report.lines()
    assert RegisterRecord.objects.filter(area="北町").count() == 10


def test_a_register_with_lines_ending_in_cr_alone_is_read(town: Municipality) -> None:
    report = _import(town, _register(30).replace("\n", "\r").encode("cp932"))
    assert report.accepted, report.lines()
    assert report.rows == 30
    assert RegisterRecord.objects.filter(area="北町").count() == 10


def test_a_parquet_register_gives_the_same_snapshot_as_its_csv(
    town: Municipality, tmp_path: Path
) -> None:
    text = _register(400)
    frame = pl.read_csv(io.BytesIO(text.encode()), infer_schema=False).with_columns(
        pl.col(c).str.to_date()
        for c in ("birth_date", "card_issued_on", "card_expires_on", "cert_issued_on")
    )
    path = tmp_path / "register.parquet"
    frame.write_parquet(path)
    with path.open("rb") as stream:
        report = import_register(
            stream, file_name=path.name, municipality=town, actor=Actor.system("test")
        )
    assert report.accepted, report.lines()
    from_parquet = expiry_cube(town.pk, first_month=dt.date(2026, 11, 1)).counts.copy()
    parquet_rows = sorted(RegisterRecord.objects.values_list("person_id", "birth_date", "area"))
    assert _import(town, text).accepted
    from_csv = expiry_cube(town.pk, first_month=dt.date(2026, 11, 1)).counts
    np.testing.assert_array_equal(from_parquet, from_csv)
    assert sorted(RegisterRecord.objects.values_list("person_id", "birth_date", "area")) == (
        parquet_rows
    )


TRICKY_CELLS = [
    "P-000001",
    "1980-05-05",
    "北町",
    "",
    _individual_number(),
    "１２３４５６７８９０１" + _individual_number()[-1],  # full-width digits
    "1234 5678 901" + _individual_number()[-1],  # grouped by spaces
    "1234－5678－901" + _individual_number()[-1],  # full-width dashes
    "①②③④⑤⑥⑦⑧⑨⑩",  # circled numbers: NFKC gives digits (and ⑩ two of them)
    "12345678901" + str((int(_individual_number()[-1]) + 1) % 10),  # wrong check digit
    "R12345678901234567890123",  # one group of 23 digits: an application id, not a number
    "memo 2020-01-10 " + _individual_number() + " end",
    "北町" + _individual_number(),
]


@pytest.mark.parametrize("copies", [1, 3])
def test_the_vectorised_individual_number_check_agrees_with_the_detector(copies: int) -> None:
    from madoguchi.core.individual_number import contains_individual_number
    from madoguchi.forecasts.register_import import _holding_individual_number

    cells = TRICKY_CELLS * copies
    found = _holding_individual_number(pl.Series(cells, dtype=pl.String))
    assert found.tolist() == [contains_individual_number(cell) for cell in cells]
    assert found.sum() == 6 * copies  # the six cells above that hold one
    ascii_only = [cell for cell in cells if cell.isascii()]
    found = _holding_individual_number(pl.Series(ascii_only, dtype=pl.String))
    assert found.tolist() == [contains_individual_number(cell) for cell in ascii_only]


def test_an_individual_number_in_the_area_column_is_refused_by_row_and_column(
    town: Municipality,
) -> None:
    rows = [GOOD.format(n=n) for n in range(5)]
    rows[2] = f"P-2,1980-05-05,,,,,北町{_individual_number()}"
    report = _import(town, "\n".join([HEADER, *rows]) + "\n")
    assert not report.accepted
    assert "4行目: 列「area」に個人番号" in "\n".join(report.lines())
    assert _individual_number() not in "\n".join(report.lines())
    assert report.problem_count == 1


def test_a_cp932_line_after_the_first_block_is_named_by_its_line(
    town: Municipality, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madoguchi.forecasts import register_import

    monkeypatch.setattr(register_import, "_BLOCK_BYTES", 64)  # many blocks of whole lines
    lines = [GOOD.format(n=n) for n in range(40)]
    data = (HEADER + "\n" + "\n".join(lines[:30]) + "\n").encode()
    data += ("\n".join(lines[30:]) + "\n").encode("cp932")
    report = _import(town, data)
    assert not report.accepted
    assert "32行目: 文字コードが混在しています" in "\n".join(report.lines())


def test_a_register_spanning_many_blocks_and_statements_is_stored_whole(
    town: Municipality, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madoguchi.forecasts import register_import

    monkeypatch.setattr(register_import, "_BLOCK_BYTES", 1000)
    text = _register(2_345)  # two whole INSERTs of 1,000 rows and one of 345 on SQLite
    text = text.replace("P1-000007,", '"P1-000007,\nwith a line break",', 1)
    report = _import(town, text.encode("utf-8-sig"), chunk_rows=2_345)
    assert report.accepted, report.lines()
    stored = dict(RegisterRecord.objects.values_list("person_id", "birth_date"))
    frame = pl.read_csv(io.BytesIO(text.encode()), infer_schema=False)
    assert len(stored) == frame.height == 2_345
    assert stored == {
        row["person_id"]: dt.date.fromisoformat(row["birth_date"])
        for row in frame.iter_rows(named=True)
    }
    assert RegisterRecord.objects.filter(card_issued_on=None).count() == (
        frame.get_column("card_issued_on").is_null().sum()
    )


def test_too_many_areas_in_one_chunk_are_refused(town: Municipality) -> None:
    from madoguchi.forecasts.register_import import MAX_AREAS

    rows = [f"P-{n},1980-05-05,,,,,地区{n}" for n in range(MAX_AREAS + 1)]
    report = _import(town, "\n".join([HEADER, *rows]) + "\n")
    assert not report.accepted
    assert f"地区（area）が多すぎます（{MAX_AREAS}まで）" in "\n".join(report.lines())
    assert not RegisterSnapshot.objects.exists()


def test_holders_are_counted_on_the_snapshot_date(town: Municipality) -> None:
    text = "\n".join(
        [
            HEADER,
            # the 10th / 5th birthday strictly after the issue day
            "A,1990-06-01,2016-03-01,,2016-03-01,,",  # adult: card to 2025-06-01, expired
            "B,1990-06-01,2020-03-01,,2020-03-01,,",  # card to 2029-06-01, cert to 2024-06-01
            "C,1990-06-01,,,,,",  # no card
            "D,2015-06-01,2022-09-01,,2022-09-01,,",  # minor: card and cert to 2027-06-01
        ]
    )
    _import(town, text + "\n")
    view = holding_view(town)
    assert view.total is not None
    assert (view.total.residents, view.total.card_holders, view.total.cert_holders) == (4, 2, 1)
    assert view.total.rate == pytest.approx(0.5)
    bands = {row.label: (row.residents, row.card_holders) for row in view.by_band}
    assert bands == {"35〜39歳": (3, 1), "10〜14歳": (1, 1)}


def test_the_command_exits_2_with_the_report_and_0_when_imported(
    town: Municipality, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(_with_bad_row("P-x,1980-13-05,,,,,"))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_register", str(bad))
    assert exit_info.value.code == 2
    assert "5行目: birth_date" in capsys.readouterr().err
    good = tmp_path / "good.csv"
    good.write_text(_register(50))
    call_command("import_register", str(good), "--taken-on", "2026-10-01")
    assert "50人分の住民台帳を取り込みました（基準日 2026-10-01）" in capsys.readouterr().out
    assert RegisterSnapshot.objects.get().cube_first_on == dt.date(2026, 10, 1)
    assert day_number(dt.date(2026, 10, 1)) > 0


# --- the staff upload page -------------------------------------------------------------------


def _staff(town: Municipality, role: str) -> Client:
    from django.test import Client

    from madoguchi.staff.models import StaffUser

    user = StaffUser.objects.create_user(
        username=f"u-{role}", password="x", role=role, municipality=town
    )
    client = Client()
    login_staff(client, user)
    return client


def _upload(client: Client, text: str, **fields: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("register.csv", text.encode(), content_type="text/csv")
    return client.post("/staff/planning/register/", {"file": upload, **fields})


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("manager", True),
        ("administrator", True),
        ("auditor", False),
        ("official", False),
        ("contractor", False),
    ],
)
def test_only_managers_and_administrators_upload_a_register(
    town: Municipality, role: str, allowed: bool
) -> None:
    client = _staff(town, role)
    assert client.get("/staff/planning/register/").status_code == (200 if allowed else 403)
    response = _upload(client, _register(20))
    assert response.status_code == (200 if allowed else 403)
    assert RegisterSnapshot.objects.exists() == allowed


def test_the_upload_page_imports_a_small_register_and_reports_a_bad_one(
    town: Municipality,
) -> None:
    client = _staff(town, "manager")
    page = _upload(client, _register(40), taken_on="2026-10-01")
    assert page.status_code == 200
    assert "40人分の住民台帳を取り込みました（基準日 2026-10-01）" in page.content.decode()
    bad = _upload(client, _with_bad_row("P-x,1980-13-05,,,,,"))
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "取り込みませんでした" in html and "5行目: birth_date" in html
    assert RegisterRecord.objects.count() == 40
    future = _upload(client, _register(10), taken_on="2027-01-01")
    assert future.status_code == 400
    assert "基準日に未来の日付は指定できません" in future.content.decode()
    assert RegisterRecord.objects.count() == 40


def test_an_individual_number_in_a_parquet_register_is_refused_by_row_and_column(
    town: Municipality, tmp_path: Path
) -> None:
    frame = pl.read_csv(io.BytesIO(_register(50).encode()), infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(pl.lit("１２３４ ５６７８ ９０１" + _individual_number()[-1]))
        .otherwise(pl.col("area"))
        .alias("area")
    )
    path = tmp_path / "register.parquet"
    frame.write_parquet(path)
    with path.open("rb") as stream:
        report = import_register(
            stream, file_name=path.name, municipality=town, actor=Actor.system("test")
        )
    assert not report.accepted
    assert "9行目: 列「area」に個人番号" in "\n".join(report.lines())
    assert not RegisterSnapshot.objects.exists()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_register_saved_as_utf16_or_utf32_is_named_so(town: Municipality, encoding: str) -> None:
    text = HEADER + "\n" + GOOD.format(n=1) + "\n"
    data = ("\ufeff" + text).encode(encoding) if encoding == "utf-16-be" else text.encode(encoding)
    report = _import(town, data)
    assert not report.accepted
    lines = "\n".join(report.lines())
    assert f"1行目: ファイルが {encoding[:6].upper()} で保存されています" in lines, lines
    assert RegisterSnapshot.objects.count() == 0


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _register_frame(people: int) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(_register(people).encode()), infer_schema=False)


def _parquet_problems(town: Municipality, data: bytes, **options: Any) -> list[str]:
    """The report of a refused Parquet file (after its Japanese head line), as the upload page
    shows it (read in the page's chunks: the same report when `options` are the page's)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _staff(town, "manager")
    upload = SimpleUploadedFile("register.parquet", data, content_type="application/octet-stream")
    page = client.post("/staff/planning/register/", {"file": upload})
    assert page.status_code == 400
    report = import_register(
        io.BytesIO(data),
        file_name="register.parquet",
        municipality=town,
        actor=Actor.system("t"),
        **options,
    )
    assert not report.accepted
    html = page.content.decode()
    for problem in report.problems if not options else []:
        assert problem in html  # the page shows the report's own words
    assert not RegisterSnapshot.objects.exists()
    return report.problems


# what pyarrow says of these files, in English: none of it may reach the manager
LIBRARY_WORDS = ("magic", "footer", "corrupt", "bytes", "thrift", "Unsupported", "cast")


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda data: data[: len(data) // 2], "Parquet ファイルが途中で切れています"),
        (lambda data: b"PAR1", "Parquet ファイルが途中で切れています"),
        (lambda data: data[:4] + b"\0" * (len(data) - 12) + data[-8:], "壊れていて読めません"),
        (lambda data: b"\x50\x4b\x03\x04" + data[4:], "Parquet ファイルではありません"),
    ],
    ids=["cut-short", "only-the-magic", "zeroed", "not-parquet"],
)
def test_an_unreadable_parquet_register_is_named_in_japanese_without_the_librarys_words(
    town: Municipality, damage: Any, named: str
) -> None:
    problems = _parquet_problems(town, damage(_parquet_bytes(_register_frame(30))))
    assert len(problems) == 1 and named in problems[0], problems
    assert [w for w in LIBRARY_WORDS if w.lower() in problems[0].lower()] == []


def test_a_parquet_register_damaged_in_its_data_names_the_row_it_stops_at(
    town: Municipality,
) -> None:
    frame = _register_frame(3000)
    buffer = io.BytesIO()
    frame.write_parquet(buffer, row_group_size=1000, compression="uncompressed")
    data = bytearray(buffer.getvalue())
    parquet = pq.ParquetFile(io.BytesIO(bytes(data)))
    person_ids = parquet.metadata.row_group(1).column(0)  # the second 1,000 rows' person_id
    start = person_ids.data_page_offset
    data[start : start + person_ids.total_compressed_size] = (
        b"\xff" * person_ids.total_compressed_size
    )
    problems = _parquet_problems(town, bytes(data), chunk_rows=1000)
    assert problems == [
        "1002行目から先のデータが壊れていて読めません（Parquet）。"
        "元のシステムからもう一度書き出したファイルを取り込んでください。"
    ]


def test_a_parquet_column_that_is_not_text_dates_or_numbers_is_named(town: Municipality) -> None:
    frame = _register_frame(20).with_columns(pl.lit([1, 2]).alias("area"))
    problems = _parquet_problems(town, _parquet_bytes(frame))
    assert len(problems) == 1 and problems[0].startswith("列「area」が文字・日付・数値の列ではない")


def test_a_parquet_register_without_a_required_column_names_it(town: Municipality) -> None:
    problems = _parquet_problems(town, _parquet_bytes(_register_frame(20).drop("cert_issued_on")))
    assert len(problems) == 1 and "必須の列がありません: cert_issued_on" in problems[0], problems
