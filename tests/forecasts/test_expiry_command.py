import csv
import io
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command

HEADER = "person_id,birth_date,card_issued_on,card_expires_on,cert_issued_on,cert_expires_on,memo\n"
ROWS = (
    "R1,1989-03-31,2016-02-15,,2016-02-15,,adult 2016\n"
    "R2,2003-05-05,2021-06-01,,2021-06-01,,minor before 2022-04\n"
    "R3,1975-04-04,,,,,no card\n"
    "R4,1990-01-01,2016-03-01,2025-12-31,,,printed card expiry\n"
)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("expiry", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_adds_expiry_dates_and_keeps_the_input_columns(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text(HEADER + ROWS, encoding="utf-8")
    status, out, err = run("--register", str(register))
    assert status == 0, err
    rows = rows_of(out)
    assert list(rows[0]) == HEADER.strip().split(",")
    assert [(r["card_expires_on"], r["cert_expires_on"]) for r in rows] == [
        ("2025-03-31", "2020-03-31"),
        ("2026-05-05", "2026-05-05"),  # 18 before 2022-04: 5-year card; cert capped by it
        ("", ""),
        ("2025-12-31", ""),
    ]
    assert rows[1]["memo"] == "minor before 2022-04"
    assert "R3,1975-04-04,,,,,no card\n" in out


def test_cp932_and_bom_files_and_out_file(tmp_path: Path) -> None:
    sjis = tmp_path / "sjis.csv"
    sjis.write_bytes(
        "person_id,birth_date,card_issued_on,cert_issued_on,氏名\nA,1980-05-05,2016-05-05,,山田\n".encode(
            "cp932"
        )
    )
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS).encode("utf-8"))
    out_file = tmp_path / "out.csv"
    assert run("--register", str(sjis), "--out", str(out_file))[0] == 0
    rows = rows_of(out_file.read_text(encoding="utf-8"))
    assert rows == [
        {
            "person_id": "A",
            "birth_date": "1980-05-05",
            "card_issued_on": "2016-05-05",
            "cert_issued_on": "",
            "氏名": "山田",
            "card_expires_on": "2026-05-05",
            "cert_expires_on": "",
        }
    ]
    status, out, _ = run("--register", str(bom))
    assert status == 0 and rows_of(out)[0]["person_id"] == "R1"


def test_parquet_register(tmp_path: Path) -> None:
    path = tmp_path / "register.parquet"
    pl.read_csv(io.StringIO(HEADER + ROWS), infer_schema=False).with_columns(
        pl.col("birth_date", "card_issued_on").str.to_date()
    ).write_parquet(path)
    status, out, err = run("--register", str(path))
    assert status == 0, err
    assert rows_of(out)[0]["card_expires_on"] == "2025-03-31"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "person_id,birth_date,card_issued_on,cert_issued_on\n"
            "A,2099-01-01,,\n"
            "B,1990-01-01,1989-12-31,\n"
            "C,1990-02-30,,\n"
            "D,1990-01-01,2016-01-01,\n"
            "E,1990-01-01,2016-01-01,2016-01-01\n",
            [
                "2行目: birth_date が未来の日付です",
                "3行目: card_issued_on が生年月日より前です",
                "4行目: birth_date の日付が正しくありません",
            ],
        ),
        (
            "person_id,birth_date,card_issued_on,card_expires_on,cert_issued_on\n"
            "A,1990-01-01,2016-01-01,2015-01-01,\n",
            ["2行目: card_expires_on が card_issued_on より前です"],
        ),
        (
            "person_id,birth_date,card_issued_on\nA,1990-01-01,\n",
            ["必須の列がありません: cert_issued_on"],
        ),
        ("", ["ファイルが空です"]),
        ("person_id,birth_date,card_issued_on,cert_issued_on\n", ["データ行がありません"]),
        (
            "person_id,birth_date,card_issued_on,cert_issued_on\n123456789018,1990-01-01,,\n",
            ["個人番号"],
        ),
    ],
)
def test_bad_input_exits_2_with_a_row_numbered_report(
    tmp_path: Path, content: str, expected: list[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    status, out, err = run("--register", str(path))
    assert status == 2
    assert out == ""
    for text in expected:
        assert text in err
    assert "5行目" not in err and "6行目" not in err  # good rows are not reported


def test_undecodable_and_missing_files_exit_2(tmp_path: Path) -> None:
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"person_id,birth_date\n\xff\xfe\xfa\x80\x81\n")
    status, _, err = run("--register", str(binary))
    assert status == 2 and "文字コード" in err
    status, _, err = run("--register", str(tmp_path / "missing.csv"))
    assert status == 2 and "missing.csv" in err
