"""`import_register`: a register file replaces the municipality's register snapshot.

One transaction: the previous rows are deleted, the file's rows streamed in (COPY on
PostgreSQL, multi-row statements on SQLite) and the aggregates the planning pages read are
written beside them — the expiry cube per area, kind and age band, and the holders per area and
age band. A bad file rolls everything back (the previous snapshot stays, whole) and is reported
row by row; the same file again (same SHA-256 as the current snapshot) changes nothing.

The file is read once, in chunks of :data:`CHUNK_ROWS` rows: memory grows with the chunk, not the
file — except for a 20-byte fingerprint per row that finds a person_id given twice (two 64-bit
hashes; the database's unique constraint is the backstop). Row numbers are those a spreadsheet
shows: the header is row 1, the first data row row 2.

Checks: a missing required column, a date that is not ``YYYY-MM-DD`` (or impossible), a birth in
the future, an issue before the birth, an expiry before the issue, an empty or too long
person_id, a person_id given twice, an Individual Number in any column (never echoed), a file
that mixes UTF-8 and CP932, more than :data:`MAX_AREAS` areas.

Speed (`bench/bench_register_import.py`): the CSV is decoded in blocks of whole lines, each chunk
becomes one polars frame, every check runs on whole columns (the Individual Number detector sees
only the cells that could hold 12 digits, each distinct value once), and a chunk is written with
one COPY (PostgreSQL) or INSERTs of a thousand rows (SQLite). Python touches a row only in
``csv.reader`` and one length test.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import sqlite3
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Final

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import IntegrityError, connection, transaction

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.dates import month_start
from madoguchi.core.encodings import wide_encoding_refusal, with_line_feeds
from madoguchi.core.individual_number import DIGITS, contains_individual_number
from madoguchi.forecasts.models import (
    RegisterExpiryCount,
    RegisterHolding,
    RegisterRecord,
    RegisterSnapshot,
)
from madoguchi.forecasts.register_io import (
    DATE_COLUMNS,
    NOT_PARQUET,
    PARQUET_MAGIC,
    REQUIRED_COLUMNS,
    _Errors,
    _parse_text_dates,
    _validate,
    unreadable_parquet,
    unreadable_parquet_column,
    unreadable_parquet_rows,
)
from madoguchi.offices.models import Municipality
from madoguchi.planning.demand import (
    AGE_BAND_COUNT,
    CARD,
    CERT,
    ExpiryCubeBuilder,
    RegisterColumns,
)
from madoguchi.planning.holding import HoldingCounts, count_holders
from madoguchi.planning.rules import day_number

__all__ = [
    "CHUNK_ROWS",
    "CUBE_MONTHS",
    "MAX_AREAS",
    "RegisterImportReport",
    "import_register",
]

CHUNK_ROWS: Final = 50_000
MAX_AREAS: Final = 300
CUBE_MONTHS: Final = 60
"""The stored expiry cube covers five years from the first of the snapshot's month."""
MAX_TEXT: Final = 40
AREA: Final = "area"
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_INSERT_COLUMNS: Final = (
    "municipality_id",
    "person_id",
    "birth_date",
    "card_issued_on",
    "card_expires_on",
    "cert_issued_on",
    "cert_expires_on",
    "area",
)
_BLOCK_BYTES: Final = 1 << 20
"""CSV bytes decoded at a time (then completed to the end of the line)."""
_ROWS_PER_INSERT: Final = 1000
"""Rows per SQLite INSERT statement (fewer when the build allows fewer parameters)."""
Progress = Callable[[int], None]


@dataclass
class RegisterImportReport:
    """What happened to one file (Japanese lines for the terminal and the upload page)."""

    file_name: str
    rows: int = 0
    accepted: bool = False
    unchanged: bool = False
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    snapshot: RegisterSnapshot | None = None
    previous: RegisterSnapshot | None = None

    def lines(self) -> list[str]:
        if self.unchanged:
            return [f"{self.file_name}: 現在の住民台帳と同じファイルです。何も変更していません。"]
        if not self.accepted or self.snapshot is None:
            head = [
                f"{self.file_name}: 取り込みませんでした（住民台帳は前のままです）。"
                f"問題 {self.problem_count}件:"
            ]
            more = self.problem_count - len(self.problems)
            return head + self.problems + ([f"…ほか {more}件"] if more > 0 else [])
        snapshot = self.snapshot
        lines = [
            f"{self.file_name}: {snapshot.rows:,}人分の住民台帳を取り込みました"
            f"（基準日 {snapshot.taken_on}）。カード保有 {snapshot.card_holders:,}人"
            f"（{_percent(snapshot.card_holders, snapshot.rows)}）、"
            f"電子証明書保有 {snapshot.cert_holders:,}人。"
        ]
        if self.previous is not None:
            previous = self.previous
            lines.append(
                f"前回（基準日 {previous.taken_on}）: {previous.rows:,}人、カード保有 "
                f"{previous.card_holders:,}人（{_percent(previous.card_holders, previous.rows)}）。"
                f"住民 {snapshot.rows - previous.rows:+,}人、"
                f"カード保有 {snapshot.card_holders - previous.card_holders:+,}人。"
            )
        return lines


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


class _Rejected(Exception):
    """Rolls the import back; the report already holds the problems (or the message does)."""


# --- reading -----------------------------------------------------------------------------------


@dataclass
class _Chunk:
    """Rows ``first_row`` … of one chunk: the wanted columns as stripped text ("" = empty)."""

    first_row: int
    frame: pl.DataFrame

    @property
    def size(self) -> int:
        return self.frame.height

    def text(self, name: str) -> pl.Series:
        return self.frame.get_column(name)


class _Decoder:
    """Decides the encoding (UTF-8 with or without BOM, or CP932); a mix is refused.

    The file is read in blocks of whole lines: a block that is ASCII, or UTF-8 in a file not
    already seen to be CP932, is decoded at once; any other block line by line, which names the
    line where the encodings mix."""

    def __init__(self) -> None:
        self.encoding = ""
        self.line = 0

    def lines(self, stream: IO[bytes]) -> Iterator[str]:
        """The file's lines, decoded (``line`` counts the lines before the current block)."""
        return itertools.chain.from_iterable(self._blocks(stream))

    def _blocks(self, stream: IO[bytes]) -> Iterator[Iterable[str]]:
        first = True
        while block := stream.read(_BLOCK_BYTES):
            if not block.endswith(b"\n"):
                block += stream.readline()
            if first and (refusal := wide_encoding_refusal(block)) is not None:
                raise _Rejected(refusal)
            if first and block.startswith(_UTF8_BOM):
                block = block[len(_UTF8_BOM) :]
                self.encoding = "utf-8"
            first = False
            text = self._block(block)
            if text is None:
                yield self._line_by_line(block)
            else:
                yield io.StringIO(text, newline="\n")
                self.line += text.count("\n") + (not text.endswith("\n"))

    def _line_by_line(self, block: bytes) -> Iterator[str]:
        for raw in io.BytesIO(block):
            self.line += 1
            yield self._decode(raw)

    def _block(self, block: bytes) -> str | None:
        if block.isascii():
            return block.decode("ascii")
        if self.encoding == "cp932":
            return None
        text = _try(block, "utf-8")
        if text is not None:
            self.encoding = "utf-8"
        return text

    def _decode(self, raw: bytes) -> str:
        if raw.isascii():
            return raw.decode("ascii")
        as_utf8 = _try(raw, "utf-8")
        if as_utf8 is not None and self.encoding != "cp932":
            self.encoding = "utf-8"
            return as_utf8
        as_cp932 = _try(raw, "cp932")
        if as_cp932 is not None and self.encoding != "utf-8":
            if as_utf8 is not None:  # valid as both: keep the file's own encoding
                raise _Rejected(self._mixed("UTF-8"))
            self.encoding = "cp932"
            return as_cp932
        if as_cp932 is not None:
            raise _Rejected(self._mixed("Shift_JIS（CP932）"))
        raise _Rejected(
            f"{self.line}行目: 文字コードを読み取れません"
            "（UTF-8 か Shift_JIS（CP932）で保存してください）。"
        )

    def _mixed(self, other: str) -> str:
        before = "Shift_JIS（CP932）" if self.encoding == "cp932" else "UTF-8"
        return (
            f"{self.line}行目: 文字コードが混在しています"
            f"（それまでは {before}、この行は {other}）。"
            "1つの文字コードで保存し直してください。ファイル全体を取り込みませんでした。"
        )


def _try(raw: bytes, encoding: str) -> str | None:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None


def _header(names: list[str]) -> list[str]:
    cleaned = [unicodedata.normalize("NFKC", n).strip().lstrip("\ufeff").lower() for n in names]
    missing = [c for c in REQUIRED_COLUMNS if c not in cleaned]
    if missing:
        raise _Rejected(
            f"1行目: 必須の列がありません: {', '.join(missing)}（見出し行: {', '.join(cleaned)}）"
        )
    wanted = {*DATE_COLUMNS, "person_id", AREA}
    twice = sorted({n for n in cleaned if n in wanted and cleaned.count(n) > 1})
    if twice:
        raise _Rejected(f"1行目: 同じ名前の列が2つあります: {', '.join(twice)}")
    return cleaned


def _individual_number_text(row: int, column: str) -> str:
    return (
        f"{row}行目: 列「{column}」に個人番号（マイナンバー）と思われる12桁の番号が"
        "あります。個人番号は取り込めません。その列を削除してから取り込んでください。"
    )


def _refuse_individual_number(
    row: int, names: Sequence[str], values: Sequence[str], errors: _Errors
) -> None:
    for index, value in enumerate(values):
        if contains_individual_number(value):
            column = names[index] if index < len(names) else f"{index + 1}列目"
            errors.add(row, _individual_number_text(row, column))
            return


def _holding_individual_number(text: pl.Series) -> npt.NDArray[np.bool_]:
    """The cells of a text column that hold an Individual Number (the one detector decides).

    Vectorised first: a cell can hold one only when its NFKC form has at least 12 decimal
    digits (the detector reads digits of the NFKC form, and the 12 must be in the one cell: a
    comma never separates a number's groups). Only those cells, each distinct value once, go to
    :func:`contains_individual_number`."""
    if not (text.str.len_bytes() == text.str.len_chars()).all():
        text = text.str.normalize("NFKC")  # ASCII needs none: NFKC changes nothing there
    # 12 digits need 12 characters: most cells (dates, short keys) stop at the length
    candidates = (text.str.len_chars() >= DIGITS).to_numpy()
    if candidates.any():
        candidates[candidates] = (
            text.filter(pl.Series(candidates)).str.count_matches(r"\d") >= DIGITS
        ).to_numpy()
    if not candidates.any():
        return candidates
    values = text.filter(pl.Series(candidates)).unique().to_list()
    found = [value for value in values if contains_individual_number(value)]
    if not found:
        return np.zeros(len(text), dtype=bool)
    holding: npt.NDArray[np.bool_] = text.is_in(pl.Series(found, dtype=pl.String)).to_numpy()
    holding &= candidates
    return holding


def _refuse_individual_numbers(
    columns: Sequence[tuple[str, pl.Series]],
    first_row: int,
    errors: _Errors,
    reported: Collection[int] = (),
) -> None:
    """Report each row that holds an Individual Number once, naming its first such column."""
    flagged: dict[int, str] = {}
    for name, text in columns:
        for index in np.flatnonzero(_holding_individual_number(text)).tolist():
            flagged.setdefault(first_row + index, name)
    for row in sorted(flagged):
        if row not in reported:
            errors.add(row, _individual_number_text(row, flagged[row]))


def _stripped(values: Sequence[str]) -> pl.Series:
    return pl.Series(values, dtype=pl.String).str.strip_chars()


def _csv_chunks(stream: IO[bytes], errors: _Errors, chunk_rows: int) -> Iterator[_Chunk]:
    decoder = _Decoder()
    reader = csv.reader(decoder.lines(with_line_feeds(stream)), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise _Rejected("ファイルが空です（見出し行がありません）。")
        names = _header(header)
        wanted = [n for n in ("person_id", *DATE_COLUMNS, AREA) if n in names]
        width = len(names)
        positions = [f"column_{index}" for index in range(width)]  # header names may repeat
        row = 1
        records: list[list[str]] = []
        reported: set[int] = set()  # rows whose Individual Number was found while reading
        first = 2

        def chunk() -> _Chunk:
            frame = pl.DataFrame(records, orient="row", schema=positions)
            texts = list(zip(names, frame.get_columns(), strict=True))
            _refuse_individual_numbers(texts, first, errors, reported)
            return _Chunk(
                first,
                frame.select(
                    pl.col(positions[names.index(n)]).str.strip_chars().alias(n) for n in wanted
                ),
            )

        for record in reader:
            row += 1
            if len(record) != width or not record[0].strip():  # a rare row: look closer
                if not any(cell.strip() for cell in record):  # blank: it ends the chunk
                    if records:
                        yield chunk()
                    records = []
                    first = row + 1
                    continue
                if len(record) != width:
                    if contains_individual_number(",".join(record)):
                        _refuse_individual_number(row, names, record, errors)
                        reported.add(row)
                    errors.add(
                        row,
                        f"{row}行目: 列の数が見出しと違います（{len(record)}列／見出し {width}列）",
                    )
                    record = (record + [""] * width)[:width]
            records.append(record)
            if len(records) >= chunk_rows:
                yield chunk()
                records = []
                first = row + 1
        if records:
            yield chunk()
        elif row == 1:
            raise _Rejected("データ行がありません（見出し行だけです）。")
    except csv.Error as error:
        raise _Rejected(
            f"{reader.line_num}行目: CSVとして読めません（{error}）。"
            "引用符の閉じ忘れなどを確認してください。"
        ) from None


def _parquet_chunks(stream: IO[bytes], errors: _Errors, chunk_rows: int) -> Iterator[_Chunk]:
    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError):
        size = stream.seek(0, io.SEEK_END)
        stream.seek(max(0, size - len(PARQUET_MAGIC)))
        tail = stream.read()
        stream.seek(0)
        raise _Rejected(unreadable_parquet(size, tail)) from None
    names = _header(list(parquet.schema_arrow.names))
    original = dict(zip(names, parquet.schema_arrow.names, strict=True))
    if parquet.metadata.num_rows == 0:
        raise _Rejected("データ行がありません。")
    wanted = [n for n in ("person_id", *DATE_COLUMNS, AREA) if n in names]
    first = 2
    batches = parquet.iter_batches(batch_size=chunk_rows, columns=[original[n] for n in wanted])
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError):
            raise _Rejected(unreadable_parquet_rows(first)) from None
        if batch is None:
            return
        texts: list[tuple[str, pl.Series]] = []
        for name, column in zip(wanted, batch.columns, strict=True):
            try:
                if pa.types.is_timestamp(column.type) or pa.types.is_date64(column.type):
                    column = pc.cast(column, pa.date32())
                text = pc.fill_null(pc.utf8_trim_whitespace(pc.cast(column, pa.string())), "")
            except pa.ArrowException:
                raise _Rejected(unreadable_parquet_column(original[name])) from None
            texts.append((name, pl.Series(name, text, dtype=pl.String)))
        _refuse_individual_numbers(texts, first, errors)
        yield _Chunk(first, pl.DataFrame([text for _, text in texts]))
        first += batch.num_rows


def _is_parquet(stream: IO[bytes]) -> bool:
    magic = stream.read(4)
    stream.seek(0)
    return magic == PARQUET_MAGIC


# --- aggregating -------------------------------------------------------------------------------


@dataclass
class _Aggregates:
    """The expiry cube per area and the holders per area, built chunk by chunk."""

    first_day: int
    last_day: int
    on_day: int
    areas: dict[str, int] = field(default_factory=dict)
    cubes: list[ExpiryCubeBuilder] = field(default_factory=list)
    holding: npt.NDArray[np.int64] = field(
        default_factory=lambda: HoldingCounts.empty(0).counts.copy()
    )

    def area_index(self, areas: pl.Series) -> npt.NDArray[np.int32]:
        index = self.areas
        for area in areas.unique(maintain_order=True).to_list():
            index.setdefault(area, len(index))
        if len(index) > MAX_AREAS:
            raise _Rejected(f"地区（area）が多すぎます（{MAX_AREAS}まで）。")
        while len(self.cubes) < len(index):
            self.cubes.append(ExpiryCubeBuilder(first_day=self.first_day, last_day=self.last_day))
        codes = areas.replace_strict(index, return_dtype=pl.Int32)
        return codes.to_numpy().astype(np.int32, copy=False)

    def add(self, columns: RegisterColumns, codes: npt.NDArray[np.int32]) -> None:
        present = np.unique(codes)
        for code in present.tolist():
            part = columns if len(present) == 1 else _take(columns, codes == code)
            self.cubes[code].add(part)
        counts = count_holders(
            columns, area_index=codes, areas=len(self.areas), on_day=self.on_day
        ).counts
        if self.holding.shape[0] < counts.shape[0]:
            grown = np.zeros_like(counts)
            grown[: self.holding.shape[0]] = self.holding
            self.holding = grown
        self.holding += counts


def _take(columns: RegisterColumns, mask: npt.NDArray[np.bool_]) -> RegisterColumns:
    def cut(values: npt.NDArray[np.int32] | None) -> npt.NDArray[np.int32] | None:
        return None if values is None else values[mask]

    return RegisterColumns(
        birth_day=columns.birth_day[mask],
        card_issued_day=columns.card_issued_day[mask],
        cert_issued_day=columns.cert_issued_day[mask],
        card_expires_day=cut(columns.card_expires_day),
        cert_expires_day=cut(columns.cert_expires_day),
    )


def _cube_range(taken_on: dt.date) -> tuple[int, int]:
    first = month_start(taken_on)
    after = month_start(first, CUBE_MONTHS)
    return day_number(first), day_number(after) - 1


# --- writing -----------------------------------------------------------------------------------


def _insert_rows(frame: pl.DataFrame) -> None:
    """Append ``frame`` (the columns of :data:`_INSERT_COLUMNS`, dates as ISO text or null) to
    the register table: one COPY of the chunk as CSV on PostgreSQL, one ``executemany`` of a
    one-row INSERT on SQLite (its loop runs in C)."""
    table = RegisterRecord._meta.db_table
    ops = connection.ops
    columns = ", ".join(ops.quote_name(c) for c in _INSERT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # CSV: an unquoted empty field is NULL, a quoted one ("") the empty string. The raw
            # COPY bypasses Django's cursor: map psycopg's errors to Django's (a unique
            # violation must arrive as django.db.IntegrityError)
            data = frame.write_csv(include_header=False).encode()
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy,
            ):
                copy.write(data)
            return
        width = len(_INSERT_COLUMNS)
        per_statement = min(_ROWS_PER_INSERT, _sqlite_variable_limit() // width)
        values = list(
            itertools.chain.from_iterable(
                zip(*(c.to_list() for c in frame.iter_columns()), strict=True)
            )
        )
        step = per_statement * width
        whole = len(values) - len(values) % step
        one_row = "(" + ", ".join(["%s"] * width) + ")"
        insert = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 — names from the model
        if whole:
            cursor.executemany(
                insert + ", ".join([one_row] * per_statement),
                [values[start : start + step] for start in range(0, whole, step)],
            )
        if rest := (len(values) - whole) // width:
            cursor.execute(insert + ", ".join([one_row] * rest), values[whole:])


def _sqlite_variable_limit() -> int:
    """How many parameters one SQLite statement may carry (999 on old builds)."""
    raw = connection.connection
    limit = getattr(raw, "getlimit", None)
    return int(limit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) if limit else 999


def _insert_frame(municipality_id: int, chunk: _Chunk, areas: pl.Series) -> pl.DataFrame:
    """The chunk's rows as stored: empty dates as null, the area in NFKC ("" = none)."""
    present = set(chunk.frame.columns)
    return chunk.frame.with_columns(areas.alias(AREA)).select(
        pl.lit(municipality_id, dtype=pl.Int64).alias("municipality_id"),
        pl.col("person_id"),
        *(
            pl.when(pl.col(name) != "").then(pl.col(name)).alias(name)
            if name in present
            else pl.lit(None, dtype=pl.String).alias(name)
            for name in DATE_COLUMNS
        ),
        pl.col(AREA),
    )


@dataclass
class _Fingerprints:
    """Two 64-bit hashes and the row number of every person_id, to find one given twice."""

    first: list[npt.NDArray[np.uint64]] = field(default_factory=list)
    second: list[npt.NDArray[np.uint64]] = field(default_factory=list)
    rows: list[npt.NDArray[np.int64]] = field(default_factory=list)

    def add(self, ids: pl.Series, first_row: int) -> None:
        self.first.append(ids.hash(seed=1).to_numpy())
        self.second.append(ids.hash(seed=2).to_numpy())
        self.rows.append(np.arange(first_row, first_row + len(ids), dtype=np.int64))

    def report(self, errors: _Errors) -> None:
        if not self.rows:
            return
        first, second = np.concatenate(self.first), np.concatenate(self.second)
        rows = np.concatenate(self.rows)
        order = np.lexsort((rows, second, first))
        first, second, rows = first[order], second[order], rows[order]
        same = (first[1:] == first[:-1]) & (second[1:] == second[:-1])
        if not same.any():
            return
        positions = np.arange(len(rows))
        starts = np.maximum.accumulate(np.where(np.r_[True, ~same], positions, 0))
        for at in np.flatnonzero(same) + 1:
            row, earlier = int(rows[at]), int(rows[starts[at]])
            errors.add(row, f"{row}行目: person_id が {earlier}行目と重複しています")


def _chunk_columns(
    chunk: _Chunk, today: dt.date, errors: _Errors, fingerprints: _Fingerprints
) -> tuple[RegisterColumns, pl.Series]:
    """Check one chunk; return its day numbers and its areas in NFKC ("" = none)."""
    offset = chunk.first_row - 2  # register_io numbers rows as offset + index + 2
    days: dict[str, npt.NDArray[np.int32]] = {}
    for name in DATE_COLUMNS:
        if name in chunk.frame.columns:
            days[name] = _parse_text_dates(chunk.text(name), name, offset, errors)
    _validate(days, today, offset, errors)
    ids = chunk.text("person_id")
    lengths = ids.str.len_chars().to_numpy()
    errors.add_rows(lengths == 0, offset, "person_id が空です")
    errors.add_rows(lengths > MAX_TEXT, offset, f"person_id が長すぎます（{MAX_TEXT}文字まで）")
    fingerprints.add(ids, chunk.first_row)
    if AREA in chunk.frame.columns:
        areas = chunk.text(AREA).str.normalize("NFKC")
        too_long = (areas.str.len_chars() > MAX_TEXT).to_numpy()
        errors.add_rows(too_long, offset, f"area が長すぎます（{MAX_TEXT}文字まで）")
    else:
        areas = pl.repeat("", chunk.size, dtype=pl.String, eager=True)
    columns = RegisterColumns(
        birth_day=days["birth_date"],
        card_issued_day=days["card_issued_on"],
        cert_issued_day=days["cert_issued_on"],
        card_expires_day=days.get("card_expires_on"),
        cert_expires_day=days.get("cert_expires_on"),
    )
    return columns, areas


def _run(
    stream: IO[bytes],
    *,
    report: RegisterImportReport,
    municipality: Municipality,
    actor: Actor,
    taken_on: dt.date,
    digest: str,
    chunk_rows: int,
    progress: Progress | None,
) -> None:
    today = clock.today()
    errors = _Errors()
    fingerprints = _Fingerprints()
    first_day, last_day = _cube_range(taken_on)
    aggregates = _Aggregates(first_day=first_day, last_day=last_day, on_day=day_number(taken_on))
    RegisterRecord.objects.filter(municipality=municipality).delete()
    parquet = _is_parquet(stream)
    if not parquet and report.file_name.lower().endswith(".parquet"):
        raise _Rejected(NOT_PARQUET)
    chunks = (
        _parquet_chunks(stream, errors, chunk_rows)
        if parquet
        else _csv_chunks(stream, errors, chunk_rows)
    )
    writing = True
    for chunk in chunks:
        report.rows += chunk.size
        columns, areas = _chunk_columns(chunk, today, errors, fingerprints)
        if errors.total:
            writing = False
        if writing:
            aggregates.add(columns, aggregates.area_index(areas))
            try:
                with transaction.atomic():
                    _insert_rows(_insert_frame(municipality.pk, chunk, areas))
            except IntegrityError:
                writing = False  # a person_id given twice: the fingerprints name the rows
        if progress is not None:
            progress(report.rows)
    fingerprints.report(errors)
    if not errors.total and not writing:
        errors.add(0, "person_id が重複しています")
    if errors.total:
        report.problems = [text for _, text in sorted(errors.messages, key=lambda m: m[0])]
        report.problem_count = errors.total
        raise _Rejected("")
    _store_snapshot(
        report=report,
        municipality=municipality,
        actor=actor,
        taken_on=taken_on,
        digest=digest,
        aggregates=aggregates,
    )


def _store_snapshot(
    *,
    report: RegisterImportReport,
    municipality: Municipality,
    actor: Actor,
    taken_on: dt.date,
    digest: str,
    aggregates: _Aggregates,
) -> None:
    holding = aggregates.holding
    snapshot = RegisterSnapshot.objects.create(
        municipality=municipality,
        taken_on=taken_on,
        imported_at=clock.now(),
        imported_by=actor.label[:150],
        file_name=report.file_name[:255],
        file_sha256=digest,
        rows=report.rows,
        card_holders=int(holding[:, :, 1].sum()),
        cert_holders=int(holding[:, :, 2].sum()),
        cube_first_on=taken_on.replace(day=1),
        cube_days=aggregates.last_day - aggregates.first_day + 1,
    )
    counts: list[RegisterExpiryCount] = []
    holdings: list[RegisterHolding] = []
    for area, code in aggregates.areas.items():
        cube = aggregates.cubes[code].cube().counts  # (days, kinds, bands)
        for kind in (CARD, CERT):
            for band in range(AGE_BAND_COUNT):
                daily = cube[:, kind, band]
                total = int(daily.sum())
                if total:
                    counts.append(
                        RegisterExpiryCount(
                            snapshot=snapshot,
                            area=area,
                            kind=kind,
                            age_band=band,
                            total=total,
                            counts=daily.astype("<i4").tobytes(),
                        )
                    )
        for band in range(AGE_BAND_COUNT):
            residents, cards, certs = (int(v) for v in holding[code, band])
            if residents:
                holdings.append(
                    RegisterHolding(
                        snapshot=snapshot,
                        area=area,
                        age_band=band,
                        residents=residents,
                        card_holders=cards,
                        cert_holders=certs,
                    )
                )
    RegisterExpiryCount.objects.bulk_create(counts, batch_size=500)
    RegisterHolding.objects.bulk_create(holdings, batch_size=500)
    previous = report.previous
    record_audit_event(
        actor=actor,
        action="register.import",
        subject_type="forecasts.RegisterSnapshot",
        subject_id=snapshot.pk,
        before=None
        if previous is None
        else {
            "snapshot": previous.pk,
            "taken_on": previous.taken_on,
            "rows": previous.rows,
            "card_holders": previous.card_holders,
        },
        after={
            "file_name": snapshot.file_name,
            "sha256": digest,
            "taken_on": taken_on,
            "rows": snapshot.rows,
            "card_holders": snapshot.card_holders,
            "cert_holders": snapshot.cert_holders,
            "areas": len(aggregates.areas),
        },
    )
    report.snapshot = snapshot


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


def current_snapshot(municipality_id: int) -> RegisterSnapshot | None:
    """The municipality's newest register snapshot (None before the first import)."""
    return RegisterSnapshot.objects.filter(municipality_id=municipality_id).order_by("-pk").first()


def import_register(
    stream: IO[bytes],
    *,
    file_name: str,
    municipality: Municipality,
    actor: Actor,
    taken_on: dt.date | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> RegisterImportReport:
    """Replace `municipality`'s register snapshot with a CSV or Parquet register file.

    ``stream`` must be seekable (it is read twice: its SHA-256 first). ``taken_on`` is the date
    the extract was taken (default today): holders are counted on it and the expiry cube starts
    on the first of its month. All-or-nothing: returns the report, never raises for a bad file —
    when ``report.accepted`` is False the database is exactly as it was. The same file as the
    current snapshot changes nothing (``report.unchanged``). ``progress`` is called with the rows
    read so far after each chunk.
    """
    report = RegisterImportReport(file_name=file_name)
    taken_on = taken_on or clock.today()
    digest = _sha256(stream)
    current = current_snapshot(municipality.pk)
    if current is not None and current.file_sha256 == digest:
        report.accepted = report.unchanged = True
        report.rows = current.rows
        report.snapshot = current
        return report
    report.previous = current
    try:
        with transaction.atomic():
            _run(
                stream,
                report=report,
                municipality=municipality,
                actor=actor,
                taken_on=taken_on,
                digest=digest,
                chunk_rows=chunk_rows,
                progress=progress,
            )
    except _Rejected as rejected:
        if str(rejected):
            report.problems.insert(0, str(rejected))
            report.problem_count += 1
        report.snapshot = None
        return report
    report.accepted = True
    return report
