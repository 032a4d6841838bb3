import datetime as dt
import io
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from django.core.management import call_command

from madoguchi.forecasts.management.commands import forecast as forecast_command
from madoguchi.planning.synthetic import generate_synthetic_register

HEADER = "person_id,birth_date,card_issued_on,card_expires_on,cert_issued_on,cert_expires_on\n"
ROWS = (
    "R1,1989-03-31,2016-02-15,,2016-02-15,\n"  # card 2025-03-31 (cert 2020-03-31: before)
    "R2,1989-03-31,2016-02-15,,2021-04-10,\n"  # card 2025-03-31, cert capped: counted once
    "R3,1970-05-20,2020-06-01,,2020-06-01,\n"  # cert 2025-05-20, card 2030
    "R4,1990-01-01,2016-03-01,2025-04-15,,\n"  # printed card expiry
    "R5,1975-04-04,,,,\n"  # no card
)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("forecast", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def register(tmp_path: Path) -> Path:
    path = tmp_path / "register.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    return path


def test_monthly_forecast_counts_each_expiry_in_its_month(register: Path) -> None:
    status, out, err = run("--register", str(register), "--start", "2025-03", "--months", "4")
    assert status == 0, err
    assert out == (
        "period,card_renewals,cert_renewals\n2025-03,2,0\n2025-04,1,0\n2025-05,0,1\n2025-06,0,0\n"
    )


def test_weekly_forecast_uses_iso_mondays(register: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "weekly.csv"
    args = ["--register", str(register), "--start", "2025-03", "--months", "3", "--by", "week"]
    status, out, _ = run(*args, "--out", str(out_file))
    assert status == 0 and out == ""
    lines = out_file.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "period,card_renewals,cert_renewals"
    assert lines[1].startswith("2025-02-24,")  # the Monday of the week holding 1 March
    assert "2025-03-31,2,0" in lines  # 31 March is a Monday
    assert "2025-04-14,1,0" in lines  # 15 April
    assert "2025-05-19,0,1" in lines  # 20 May


def test_options_take_up_early_renewal_and_post_office(register: Path) -> None:
    status, out, err = run(
        "--register", str(register), "--start", "2025-02", "--months", "4",
        "--take-up", "0.5", "--early-renewal", "0.5,0.5", "--post-office-share", "1",
    )  # fmt: skip
    assert status == 0, err
    assert out.splitlines() == [
        "period,card_renewals,cert_renewals,cert_renewals_post_office",
        "2025-02,0,0,0",  # 2 March expiries x 0.5 early x 0.5 take-up = 0.5 → rounds to 0
        "2025-03,1,0,0",
        "2025-04,0,0,0",
        "2025-05,0,0,0",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2025-3", "--months", "3"], "YYYY-MM"),
        (["--start", "2025-03", "--months", "0"], "--months"),
        (["--start", "2025-03", "--months", "3", "--early-renewal", "0.5,0.4"], "合計 1"),
        (["--start", "2025-03", "--months", "3", "--early-renewal", "a,b"], "--early-renewal"),
        (["--start", "2025-03", "--months", "3", "--take-up", "1.5"], "--take-up"),
    ],
)
def test_bad_options_exit_2(register: Path, args: list[str], message: str) -> None:
    status, out, err = run("--register", str(register), *args)
    assert status == 2 and out == ""
    assert message in err


def test_bad_register_exits_2_with_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "A,1990-01-01,2016-01-01,2015-12-31,,\nB,x,,,,\n", encoding="utf-8")
    status, out, err = run("--register", str(path), "--start", "2025-03", "--months", "3")
    assert status == 2 and out == ""
    assert "2行目: card_expires_on が card_issued_on より前です" in err
    assert "3行目: birth_date の日付が正しくありません" in err
    status, _, err = run(
        "--register", str(tmp_path / "nope.csv"), "--start", "2025-03", "--months", "1"
    )
    assert status == 2 and "nope.csv" in err


def test_parquet_and_csv_give_the_same_forecast_with_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synthetic = generate_synthetic_register(people=30_000, seed=11, as_of=dt.date(2025, 1, 1))
    frame = pl.DataFrame({"person_id": np.arange(synthetic.person_count), **synthetic.dates()})
    parquet = tmp_path / "register.parquet"
    frame.write_parquet(parquet, row_group_size=7_000)
    csv_path = tmp_path / "register.csv"
    frame.write_csv(csv_path)
    args = ["--start", "2025-04", "--months", "36", "--early-renewal", "0.7,0.2,0.1"]
    monkeypatch.setattr(forecast_command, "PROGRESS_MIN_ROWS", 10)
    status, from_parquet, err = run("--register", str(parquet), *args)
    assert status == 0, err
    status, from_csv, err = run("--register", str(csv_path), *args)
    assert status == 0, err
    assert from_parquet == from_csv
    totals = np.array([line.split(",")[1:] for line in from_csv.splitlines()[1:]], dtype=int)
    assert totals[:, 0].sum() > 1_000 and totals[:, 1].sum() > 1_000


def test_bad_parquet_rows_are_reported(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "person_id": ["A", "B"],
            "birth_date": [dt.date(1990, 1, 1), dt.date(2099, 1, 1)],
            "card_issued_on": [dt.date(1980, 1, 1), None],
            "cert_issued_on": [None, None],
        }
    )
    path = tmp_path / "bad.parquet"
    frame.write_parquet(path)
    status, _, err = run("--register", str(path), "--start", "2025-03", "--months", "3")
    assert status == 2
    assert "2行目: card_issued_on が生年月日より前です" in err
    assert "3行目: birth_date が未来の日付です" in err
