"""Reading a register file (docs/contract.md "Register") into day-number arrays for the engine.

CSV (UTF-8 with or without BOM, or CP932 — detected) and Parquet with the CONTRACT columns.
Unknown columns are ignored; a missing required column rejects the file. Every row is checked
(vectorised) and all problems are reported together, numbered as a spreadsheet shows them: the
header is row 1, the first data row is row 2 (for Parquet too, so reports read the same).

This module does the I/O; :mod:`madoguchi.planning` stays pure.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from madoguchi.core.encodings import HEAD_BYTES, line_feeds, wide_encoding_refusal
from madoguchi.core.individual_number import (
    INDIVIDUAL_NUMBER_REFUSAL_TEXT,
    contains_individual_number,
)
from madoguchi.planning.demand import RegisterColumns
from madoguchi.planning.rules import FIRST_SUPPORTED_YEAR, NO_DATE, day_number

__all__ = [
    "DATE_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "LoadedRegister",
    "RegisterError",
    "iter_register_chunks",
    "read_register",
]

REQUIRED_COLUMNS: Final = ("person_id", "birth_date", "card_issued_on", "cert_issued_on")
OPTIONAL_COLUMNS: Final = ("card_expires_on", "cert_expires_on")
DATE_COLUMNS: Final = (
    "birth_date",
    "card_issued_on",
    "card_expires_on",
    "cert_issued_on",
    "cert_expires_on",
)
TEXT_COLUMNS: Final = ("area",)
"""Optional free-text columns, checked for Individual Numbers like person_id."""
MAX_REPORTED_ERRORS: Final = 200
DEFAULT_CHUNK_ROWS: Final = 1_000_000

_FIRST_DAY: Final = day_number(dt.date(FIRST_SUPPORTED_YEAR, 1, 1))
_LAST_DAY: Final = day_number(dt.date(2200, 12, 31))
_DATE_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}$"


# What a manager is told when a Parquet file does not read: the library's own message (footers,
# magic bytes, thrift, data pages) is English and names nothing they can act on.
PARQUET_MAGIC: Final = b"PAR1"
NOT_PARQUET: Final = (
    "Parquet ファイルではありません（名前は .parquet ですが、中身が Parquet の形ではありません）。"
    "CSV なら名前を .csv にし、Excel のファイルなら CSV（UTF-8）で保存し直して取り込んでください。"
)


def unreadable_parquet(size: int, tail: bytes) -> str:
    """The problem of a file of `size` bytes that begins as Parquet and does not open; ``tail`` is
    its last bytes (a Parquet file ends with its footer's length and PAR1, so a file without them
    was cut short)."""
    if size < 2 * len(PARQUET_MAGIC) + 4 or not tail.endswith(PARQUET_MAGIC):
        return (
            "Parquet ファイルが途中で切れています（ファイルの終わりがありません）。"
            "書き出しかコピーが途中で止まったようです。もう一度書き出したファイルを取り込んでください。"
        )
    return (
        "Parquet ファイルが壊れていて読めません。"
        "元のシステムからもう一度書き出したファイルを取り込んでください。"
    )


def unreadable_parquet_rows(first_row: int) -> str:
    """The problem of a Parquet file whose data is damaged from `first_row` (header = row 1)."""
    return (
        f"{first_row}行目から先のデータが壊れていて読めません（Parquet）。"
        "元のシステムからもう一度書き出したファイルを取り込んでください。"
    )


def unreadable_parquet_column(name: str) -> str:
    """The problem of a Parquet column that is not text, a date or a number (a list, a map…)."""
    return (
        f"列「{name}」が文字・日付・数値の列ではないため読めません（一覧や入れ子の列です）。"
        "文字列か日付の列として書き出してください。"
    )


def _parquet_problem(path: Path) -> str:
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(len(PARQUET_MAGIC))
        handle.seek(max(0, size - len(PARQUET_MAGIC)))
        tail = handle.read()
    return unreadable_parquet(size, tail) if head == PARQUET_MAGIC else NOT_PARQUET


class RegisterError(Exception):
    """The register file was rejected. ``errors`` holds the (Japanese) row-numbered messages.

    At most :data:`MAX_REPORTED_ERRORS` messages are kept; ``total`` counts them all.
    """

    def __init__(self, errors: list[str], *, total: int | None = None) -> None:
        self.errors = errors[:MAX_REPORTED_ERRORS]
        self.total = len(errors) if total is None else total
        super().__init__("\n".join(self.report_lines()))

    def report_lines(self) -> list[str]:
        """The messages, followed by a count of those left out."""
        lines = list(self.errors)
        if self.total > len(self.errors):
            lines.append(f"…ほか {self.total - len(self.errors)} 件のエラーがあります。")
        return lines


@dataclass(frozen=True)
class LoadedRegister:
    """A whole register: its rows as read (``frame``) and the day-number arrays (``columns``)."""

    frame: pl.DataFrame
    columns: RegisterColumns


class _Errors:
    """Collects row-numbered messages (kept up to the cap, all counted), sorted by row."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, str]] = []
        self.total = 0
        self.malformed_rows: dict[str, npt.NDArray[np.bool_]] = {}  # of the current chunk

    def add_rows(self, rows: npt.NDArray[np.bool_], first_row: int, text: str) -> None:
        """Add ``text`` for every flagged row (row numbers start at ``first_row`` + 2)."""
        flagged = np.flatnonzero(rows)
        self.total += len(flagged)
        room = MAX_REPORTED_ERRORS - len(self.messages)
        for index in flagged[: max(room, 0)]:
            row = first_row + int(index) + 2
            self.messages.append((row, f"{row}行目: {text}"))

    def add(self, row: int, text: str) -> None:
        self.total += 1
        if len(self.messages) < MAX_REPORTED_ERRORS:
            self.messages.append((row, text))

    def raise_if_any(self) -> None:
        if self.total:
            ordered = [text for _, text in sorted(self.messages, key=lambda item: item[0])]
            raise RegisterError(ordered, total=self.total)


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def _decode_csv(data: bytes) -> bytes:
    """Return UTF-8 bytes (without BOM) of a UTF-8 or CP932 file. Raises RegisterError."""
    refusal = wide_encoding_refusal(data[:HEAD_BYTES])
    if refusal is not None:
        raise RegisterError([refusal])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return line_feeds(data.decode("cp932").encode("utf-8"))
        except UnicodeDecodeError:
            raise RegisterError(
                ["文字コードを判別できません。UTF-8 または Shift_JIS（CP932）で保存してください。"]
            ) from None
    return line_feeds(data)


def _read_csv(path: Path) -> pl.DataFrame:
    data = _decode_csv(path.read_bytes())
    if not data.strip():
        raise RegisterError(["ファイルが空です（見出し行がありません）。"])
    try:
        return pl.read_csv(
            io.BytesIO(data),
            infer_schema=False,
            empty_string_is_null=False,
            raise_if_empty=True,
        )
    except (pl.exceptions.PolarsError, ValueError) as error:
        raise RegisterError([f"CSV として読めません: {error}"]) from None


def _parse_text_dates(
    values: pl.Series, column: str, first_row: int, errors: _Errors
) -> npt.NDArray[np.int32]:
    text = values.cast(pl.String).fill_null("").str.strip_chars()
    empty = (text == "").to_numpy()
    well_formed = text.str.contains(_DATE_PATTERN).to_numpy()
    parsed = text.str.to_date("%Y-%m-%d", strict=False)
    bad = ~empty & (~well_formed | parsed.is_null().to_numpy())
    if bad.any():
        flagged = np.flatnonzero(bad)
        for index in flagged[:MAX_REPORTED_ERRORS]:
            row = first_row + int(index) + 2
            errors.add(
                row,
                f"{row}行目: {column} の日付が正しくありません（YYYY-MM-DD）: {text[int(index)]!r}",
            )
        errors.total += max(len(flagged) - MAX_REPORTED_ERRORS, 0)
    days = parsed.cast(pl.Int32).fill_null(int(NO_DATE)).to_numpy().astype(np.int32, copy=False)
    if bad.any():
        # reported once, not again as "empty": the caller sees it through errors.malformed_rows
        errors.malformed_rows.setdefault(column, bad)
    return days


# ---------------------------------------------------------------------------------------------
# Checks shared by CSV and Parquet
# ---------------------------------------------------------------------------------------------


def _check_columns(names: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise RegisterError(
            [f"必須の列がありません: {', '.join(missing)}（見出し行: {', '.join(names)}）"]
        )


def _validate(
    days: dict[str, npt.NDArray[np.int32]], today: dt.date, first_row: int, errors: _Errors
) -> None:
    today_day = day_number(today)
    malformed_birth = errors.malformed_rows.pop(
        "birth_date", np.zeros(len(days["birth_date"]), bool)
    )
    errors.malformed_rows.clear()
    birth = days["birth_date"]
    present = {name: values != NO_DATE for name, values in days.items()}
    for name, values in days.items():
        out_of_range = present[name] & ((values < _FIRST_DAY) | (values > _LAST_DAY))
        errors.add_rows(
            out_of_range, first_row, f"{name} が対応範囲（{FIRST_SUPPORTED_YEAR}〜2200年）外です"
        )
    errors.add_rows(~present["birth_date"] & ~malformed_birth, first_row, "birth_date が空です")
    errors.add_rows(
        present["birth_date"] & (birth > today_day), first_row, "birth_date が未来の日付です"
    )
    has_birth = present["birth_date"]
    for issued in ("card_issued_on", "cert_issued_on"):
        errors.add_rows(
            has_birth & present[issued] & (days[issued] < birth),
            first_row,
            f"{issued} が生年月日より前です",
        )
    for expires, issued in (
        ("card_expires_on", "card_issued_on"),
        ("cert_expires_on", "cert_issued_on"),
    ):
        if expires in days:
            errors.add_rows(
                present[expires] & present[issued] & (days[expires] < days[issued]),
                first_row,
                f"{expires} が {issued} より前です",
            )


def _check_text_column(person_ids: pl.Series, first_row: int, errors: _Errors) -> None:
    """Refuse rows whose cell holds an Individual Number, however its digits are separated.

    Only cells with at least 12 digits (any script) can hold one: polars finds those in one
    vectorised pass, the detector looks at each of them.
    """
    text = person_ids.cast(pl.String).fill_null("")
    candidates = (text.str.count_matches(r"\d") >= 12).to_numpy()
    for index in np.flatnonzero(candidates):
        if contains_individual_number(text[int(index)]):
            row = first_row + int(index) + 2
            name = person_ids.name
            errors.add(row, f"{row}行目: {name}: {INDIVIDUAL_NUMBER_REFUSAL_TEXT}")


def _columns_from_days(days: dict[str, npt.NDArray[np.int32]]) -> RegisterColumns:
    return RegisterColumns(
        birth_day=days["birth_date"],
        card_issued_day=days["card_issued_on"],
        cert_issued_day=days["cert_issued_on"],
        card_expires_day=days.get("card_expires_on"),
        cert_expires_day=days.get("cert_expires_on"),
    )


def _frame_days(
    frame: pl.DataFrame, first_row: int, errors: _Errors
) -> dict[str, npt.NDArray[np.int32]]:
    days: dict[str, npt.NDArray[np.int32]] = {}
    for name in DATE_COLUMNS:
        if name in frame.columns:
            column = frame.get_column(name)
            if column.dtype == pl.Date:
                days[name] = (
                    column.cast(pl.Int32).fill_null(int(NO_DATE)).to_numpy().astype(np.int32)
                )
            elif column.dtype == pl.Datetime:
                days[name] = (
                    column.dt.date()
                    .cast(pl.Int32)
                    .fill_null(int(NO_DATE))
                    .to_numpy()
                    .astype(np.int32)
                )
            else:
                days[name] = _parse_text_dates(column, name, first_row, errors)
    return days


# ---------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() == ".parquet":
        return True
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def read_register(path: Path | str, *, today: dt.date) -> LoadedRegister:
    """Read and check a whole register file (CSV or Parquet).

    Returns the rows as read plus the day-number arrays. ``today`` is the date a birth date may
    not pass. Raises RegisterError with every row-numbered problem (bad dates, birth in the
    future, issue before birth, expiry before issue, an Individual Number as person_id), a
    missing required column, an empty file or an undetectable encoding; OSError when unreadable.
    """
    path = Path(path)
    if _is_parquet(path):
        try:
            frame = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError):
            raise RegisterError([_parquet_problem(path)]) from None
    else:
        frame = _read_csv(path)
    _check_columns(frame.columns)
    if frame.height == 0:
        raise RegisterError(["データ行がありません（見出し行だけです）。"])
    errors = _Errors()
    days = _frame_days(frame, 0, errors)
    _validate(days, today, 0, errors)
    for name in ("person_id", *(c for c in TEXT_COLUMNS if c in frame.columns)):
        _check_text_column(frame.get_column(name), 0, errors)
    errors.raise_if_any()
    return LoadedRegister(frame=frame, columns=_columns_from_days(days))


def _arrow_days(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int32] | None:
    """Day numbers of a date/timestamp Arrow column (None when it holds text)."""
    kind = column.type
    if isinstance(column, pa.Array) and pa.types.is_date32(kind):
        return _date32_days(column)
    if pa.types.is_timestamp(kind):
        column = pc.cast(column, pa.date32())
        kind = column.type
    if pa.types.is_date32(kind):
        as_int = pc.fill_null(column.cast(pa.int32()), int(NO_DATE))
        return np.asarray(as_int, dtype=np.int32)
    if pa.types.is_date64(kind):
        return _arrow_days(pc.cast(column, pa.date32()))
    return None


_FILL_ROWS: Final = 1 << 15  # rows per step of the null fill: temporaries stay in the CPU cache


def _date32_days(column: pa.Array) -> npt.NDArray[np.int32]:
    """Day numbers of a date32 array straight from its buffers (a read-only view without nulls)."""
    buffers = column.buffers()
    values = np.frombuffer(buffers[1], dtype=np.int32, count=len(column), offset=column.offset * 4)
    if column.null_count == 0:
        return values
    bits = np.frombuffer(buffers[0], dtype=np.uint8)
    valid = np.unpackbits(bits, count=column.offset + len(column), bitorder="little")
    valid = valid[column.offset :]
    days = np.empty(len(column), dtype=np.int32)
    for start in range(0, len(days), _FILL_ROWS):
        part = slice(start, start + _FILL_ROWS)
        mask = valid[part].astype(np.int32)
        mask -= 1  # 0 where a date is present, all bits set where it is null
        np.bitwise_and(values[part], ~mask, out=days[part])
        mask &= NO_DATE
        days[part] |= mask
    return days


def _chunk_is_clean(
    days: dict[str, npt.NDArray[np.int32]], nulls: dict[str, int], today: dt.date
) -> bool:
    """True when :func:`_validate` would find nothing in a chunk of the required date columns.

    A few reductions instead of the row masks (``nulls``: empty cells per issue column). Every
    issue date must be empty or on/after a present, supported, not-future birth date: empty cells
    (NO_DATE) and dates before the supported years are then exactly the ones before the birth.
    """
    birth = days["birth_date"]
    if len(days) != 3 or not len(birth):
        return False
    if birth.min() < _FIRST_DAY or birth.max() > min(day_number(today), _LAST_DAY):
        return False
    for name in ("card_issued_on", "cert_issued_on"):
        issued = days[name]
        if issued.max() > _LAST_DAY or np.count_nonzero(issued < birth) != nulls[name]:
            return False
    return True


def _check_arrow_person_ids(column: pa.Array, first_row: int, errors: _Errors) -> None:
    """Reject Individual Numbers in a streamed person_id column (integers or text)."""
    if pa.types.is_integer(column.type):
        # only values in [10^11, 10^12) have 12 digits
        bounds = pc.min_max(column)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is None or high < 10**11 or low >= 10**12:
            return
        candidates = pc.and_(pc.greater_equal(column, 10**11), pc.less(column, 10**12))
        if not pc.any(candidates).as_py():
            return
        text = pc.cast(column, pa.string())
    else:
        text = pc.cast(column, pa.string())
    _check_text_column(pl.Series("person_id", text), first_row, errors)


def iter_register_chunks(
    path: Path | str, *, today: dt.date, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[RegisterColumns]:
    """Yield a register's date columns in chunks of at most ``chunk_rows`` rows, checked.

    Parquet is streamed by record batches (only the date columns are read), so a national
    register fits in memory; CSV is read whole, then sliced. After the first bad chunk no further
    chunks are yielded but the rest is still checked; at the end RegisterError carries every
    problem (see :func:`read_register`).
    """
    path = Path(path)
    if not _is_parquet(path):
        loaded = read_register(path, today=today)
        columns = loaded.columns
        for first in range(0, columns.row_count, chunk_rows):
            yield _slice(columns, first, first + chunk_rows)
        return
    try:
        # memory-mapped: the buffered reader costs several times the decoding on a national file
        parquet = pq.ParquetFile(path, memory_map=True)
    except (pa.ArrowInvalid, OSError):
        raise RegisterError([_parquet_problem(path)]) from None
    names = list(parquet.schema_arrow.names)
    _check_columns(names)
    if parquet.metadata.num_rows == 0:
        raise RegisterError(["データ行がありません。"])
    wanted = ["person_id", *(c for c in DATE_COLUMNS if c in names)]
    texts = [c for c in TEXT_COLUMNS if c in names]
    errors = _Errors()
    first_row = 0
    read = wanted + texts
    for batch in parquet.iter_batches(batch_size=chunk_rows, columns=read, use_threads=True):
        days: dict[str, npt.NDArray[np.int32]] = {}
        nulls: dict[str, int] = {}
        _check_arrow_person_ids(batch.column("person_id"), first_row, errors)
        for name in texts:
            _check_text_column(
                pl.Series(name, pc.cast(batch.column(name), pa.string())), first_row, errors
            )
        for name in wanted[1:]:
            column = batch.column(name)
            converted = _arrow_days(column)
            if converted is None:
                converted = _parse_text_dates(pl.Series(name, column), name, first_row, errors)
            else:
                nulls[name] = column.null_count
            days[name] = converted
        if (
            errors.malformed_rows
            or len(nulls) != len(days)
            or not _chunk_is_clean(days, nulls, today)
        ):
            _validate(days, today, first_row, errors)
        if not errors.total:
            yield _columns_from_days(days)
        first_row += batch.num_rows
    errors.raise_if_any()


def _slice(columns: RegisterColumns, start: int, stop: int) -> RegisterColumns:
    def cut(values: npt.NDArray[np.int32] | None) -> npt.NDArray[np.int32] | None:
        return None if values is None else values[start:stop]

    return RegisterColumns(
        birth_day=columns.birth_day[start:stop],
        card_issued_day=columns.card_issued_day[start:stop],
        cert_issued_day=columns.cert_issued_day[start:stop],
        card_expires_day=cut(columns.card_expires_day),
        cert_expires_day=cut(columns.cert_expires_day),
    )
