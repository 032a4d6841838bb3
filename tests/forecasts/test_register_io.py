import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from madoguchi.forecasts.register_io import (
    RegisterError,
    _chunk_is_clean,
    _date32_days,
    _Errors,
    _validate,
    iter_register_chunks,
    read_register,
)
from madoguchi.planning.rules import NO_DATE, day_number

N = int(NO_DATE)
TODAY = dt.date(2025, 3, 31)


def test_date32_days_reads_the_buffers_with_offsets_and_nulls() -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(-40_000, 80_000, 100_003).astype(np.int32)
    nulls = rng.random(len(values)) < 0.3
    column = pa.array(values, type=pa.int32(), mask=nulls).cast(pa.date32())
    for start, stop in ((0, len(values)), (5, 99_990), (13, 13), (70_001, 70_009)):
        part = column.slice(start, stop - start)
        expected = np.where(nulls[start:stop], N, values[start:stop])
        assert np.array_equal(_date32_days(part), expected)
    whole = pa.array(values, type=pa.int32()).cast(pa.date32()).slice(3)
    assert np.array_equal(_date32_days(whole), values[3:])


def test_quick_check_agrees_with_the_row_checks() -> None:
    rng = np.random.default_rng(2)
    rows = 2_000
    clean = 0
    for trial in range(200):
        birth = rng.integers(day_number(dt.date(1900, 1, 1)), day_number(TODAY), rows)
        days = {
            "birth_date": birth.astype(np.int32),
            "card_issued_on": (birth + rng.integers(0, 30_000, rows)).astype(np.int32),
            "cert_issued_on": (birth + rng.integers(0, 30_000, rows)).astype(np.int32),
        }
        for name in ("card_issued_on", "cert_issued_on"):
            days[name][rng.random(rows) < 0.2] = N
        # one kind of trouble per trial (or none)
        row = int(rng.integers(rows))
        name = ("birth_date", "card_issued_on", "cert_issued_on")[trial % 3]
        kind = trial % 7
        if kind == 1:
            days[name][row] = day_number(dt.date(1849, 12, 31))
        elif kind == 2:
            days[name][row] = day_number(dt.date(2201, 1, 1))
        elif kind == 3:
            days["birth_date"][row] = day_number(TODAY) + 1
        elif kind == 5:
            days["birth_date"][row] = N
        elif kind == 4 and name != "birth_date":
            days["birth_date"][row] = day_number(dt.date(1990, 1, 1))
            days[name][row] = day_number(dt.date(1989, 12, 31))
        nulls = {name: int(np.count_nonzero(days[name] == N)) for name in days}
        errors = _Errors()
        _validate(days, TODAY, 0, errors)
        assert _chunk_is_clean(days, nulls, TODAY) == (errors.total == 0), (trial, errors.messages)
        clean += errors.total == 0
    assert 50 < clean < 150


def test_parquet_person_ids_holding_individual_numbers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "register.parquet"
    birth = pa.array([day_number(dt.date(1990, 1, 1))] * 3, type=pa.int32()).cast(pa.date32())
    empty = pa.array([None] * 3, type=pa.date32())
    # 123456789018 is a valid Individual Number (check digit 8); 123456789012 is not
    person_ids = pa.array([1, 123456789018, 123456789012], type=pa.int64())
    pq.write_table(
        pa.table(
            {
                "person_id": person_ids,
                "birth_date": birth,
                "card_issued_on": empty,
                "cert_issued_on": empty,
            }
        ),
        path,
    )
    with pytest.raises(RegisterError) as caught:
        list(iter_register_chunks(path, today=TODAY))
    assert [line.split(":")[0] for line in caught.value.errors] == ["3行目"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("person_id", "1234-5678-9018"),
        ("person_id", "1234.5678.9018"),
        ("person_id", "ID 1234\u20105678\u20109018"),
        ("area", "中央 1234_5678_9018"),
    ],
)
def test_csv_cells_holding_individual_numbers_in_any_spelling_are_refused(
    tmp_path: Path, column: str, value: str
) -> None:
    from madoguchi.forecasts.register_io import read_register

    row = {"person_id": "P1", "area": "中央"}
    row[column] = value
    path = tmp_path / "register.csv"
    path.write_text(
        "person_id,birth_date,card_issued_on,cert_issued_on,area\n"
        "P0,1990-01-01,2020-01-01,2020-01-01,北\n"
        f"{row['person_id']},1990-01-01,2020-01-01,2020-01-01,{row['area']}\n",
        encoding="utf-8",
    )
    with pytest.raises(RegisterError) as caught:
        read_register(path, today=TODAY)
    assert [line.split(":")[0] for line in caught.value.errors] == ["3行目"]
    assert "個人番号" in caught.value.errors[0]
    assert "9018" not in caught.value.errors[0]


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_a_register_with_lines_ending_in_cr_alone_is_read(tmp_path: Path, encoding: str) -> None:
    from madoguchi.forecasts.register_io import read_register

    path = tmp_path / "register.csv"
    path.write_bytes(
        "person_id,birth_date,card_issued_on,cert_issued_on,area\r"
        "P0,1990-01-01,2020-01-01,2020-01-01,北\r"
        "P1,1991-02-03,2021-01-01,2021-01-01,南\r".encode(encoding)
    )
    register = read_register(path, today=TODAY)
    assert register.frame["person_id"].to_list() == ["P0", "P1"]
    assert register.frame["area"].to_list() == ["北", "南"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_register_saved_as_utf16_or_utf32_is_named_so(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "register.csv"
    path.write_bytes(
        "person_id,birth_date,card_issued_on,cert_issued_on\nP-1,1980-05-05,,\n".encode(encoding)
    )
    with pytest.raises(RegisterError) as caught:
        list(iter_register_chunks(path, today=TODAY))
    assert encoding[:6].upper() in caught.value.errors[0]


@pytest.mark.parametrize("read", [read_register, iter_register_chunks], ids=["whole", "chunks"])
def test_a_cut_short_or_mislabelled_parquet_register_is_named_in_japanese(
    tmp_path: Path, read: Any
) -> None:
    path = tmp_path / "register.parquet"
    table = pa.table({"person_id": ["P1"], "birth_date": [dt.date(1980, 1, 1)]})
    pq.write_table(table, path)
    whole = path.read_bytes()
    for data, named in (
        (whole[: len(whole) // 2], "Parquet ファイルが途中で切れています"),
        (b"person_id,birth_date\n", "Parquet ファイルではありません"),
    ):
        path.write_bytes(data)
        with pytest.raises(RegisterError) as caught:
            result = read(path, today=TODAY)
            list(result) if read is iter_register_chunks else result
        assert len(caught.value.errors) == 1 and named in caught.value.errors[0]
        assert "magic" not in caught.value.errors[0] and "footer" not in caught.value.errors[0]
