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
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Final

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
from madoguchi.core.individual_number import contains_individual_number
from madoguchi.forecasts.models import (
    RegisterExpiryCount,
    RegisterHolding,
    RegisterRecord,
    RegisterSnapshot,
)
from madoguchi.forecasts.register_io import (
    DATE_COLUMNS,
    REQUIRED_COLUMNS,
    _Errors,
    _parse_text_dates,
    _validate,
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
_ROWS_PER_INSERT: Final = 100  # 100 × 8 parameters: under SQLite's limit of 999 on old builds
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
    """Rows ``first_row`` … of one chunk: stripped text per column ("" = empty)."""

    first_row: int
    cells: dict[str, list[str]]

    @property
    def size(self) -> int:
        return len(self.cells["person_id"])


class _Decoder:
    """Decides the encoding line by line (UTF-8 with or without BOM, or CP932); a mix is refused."""

    def __init__(self) -> None:
        self.encoding = ""
        self.line = 0

    def lines(self, stream: IO[bytes]) -> Iterator[str]:
        for raw in stream:
            self.line += 1
            if self.line == 1 and raw.startswith(_UTF8_BOM):
                raw = raw[len(_UTF8_BOM) :]
                self.encoding = "utf-8"
            yield self._decode(raw)

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


def _refuse_individual_number(
    row: int, names: Sequence[str], values: Sequence[str], errors: _Errors
) -> None:
    for index, value in enumerate(values):
        if contains_individual_number(value):
            column = names[index] if index < len(names) else f"{index + 1}列目"
            errors.add(
                row,
                f"{row}行目: 列「{column}」に個人番号（マイナンバー）と思われる12桁の番号が"
                "あります。個人番号は取り込めません。その列を削除してから取り込んでください。",
            )
            return


def _csv_chunks(stream: IO[bytes], errors: _Errors, chunk_rows: int) -> Iterator[_Chunk]:
    decoder = _Decoder()
    reader = csv.reader(decoder.lines(stream), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise _Rejected("ファイルが空です（見出し行がありません）。")
        names = _header(header)
        wanted = [n for n in ("person_id", *DATE_COLUMNS, AREA) if n in names]
        position = [names.index(n) for n in wanted]
        width = len(names)
        row = 1
        cells: dict[str, list[str]] = {n: [] for n in wanted}
        first = 2
        for record in reader:
            row += 1
            if not any(cell.strip() for cell in record):
                if cells["person_id"]:
                    yield _Chunk(first, cells)
                cells = {n: [] for n in wanted}
                first = row + 1
                continue
            if contains_individual_number(",".join(record)):
                _refuse_individual_number(row, names, record, errors)
            if len(record) != width:
                errors.add(
                    row, f"{row}行目: 列の数が見出しと違います（{len(record)}列／見出し {width}列）"
                )
                record = (record + [""] * width)[:width]
            for name, index in zip(wanted, position, strict=True):
                cells[name].append(record[index].strip())
            if len(cells["person_id"]) >= chunk_rows:
                yield _Chunk(first, cells)
                cells = {n: [] for n in wanted}
                first = row + 1
        if cells["person_id"]:
            yield _Chunk(first, cells)
        elif row == 1:
            raise _Rejected("データ行がありません（見出し行だけです）。")
    except csv.Error as error:
        raise _Rejected(
            f"{decoder.line}行目: CSVとして読めません（{error}）。"
            "引用符の閉じ忘れなどを確認してください。"
        ) from None


def _parquet_chunks(stream: IO[bytes], errors: _Errors, chunk_rows: int) -> Iterator[_Chunk]:
    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowInvalid, OSError) as error:
        raise _Rejected(f"Parquet として読めません: {error}") from None
    names = _header(list(parquet.schema_arrow.names))
    original = dict(zip(names, parquet.schema_arrow.names, strict=True))
    if parquet.metadata.num_rows == 0:
        raise _Rejected("データ行がありません。")
    wanted = [n for n in ("person_id", *DATE_COLUMNS, AREA) if n in names]
    first = 2
    for batch in parquet.iter_batches(batch_size=chunk_rows, columns=[original[n] for n in wanted]):
        cells: dict[str, list[str]] = {}
        for name, column in zip(wanted, batch.columns, strict=True):
            if pa.types.is_timestamp(column.type) or pa.types.is_date64(column.type):
                column = pc.cast(column, pa.date32())
            text = pc.fill_null(pc.utf8_trim_whitespace(pc.cast(column, pa.string())), "")
            cells[name] = text.to_pylist()
        for index, values in enumerate(zip(*(cells[n] for n in wanted), strict=True)):
            if contains_individual_number(",".join(values)):
                _refuse_individual_number(first + index, wanted, list(values), errors)
        yield _Chunk(first, cells)
        first += batch.num_rows


def _is_parquet(stream: IO[bytes]) -> bool:
    magic = stream.read(4)
    stream.seek(0)
    return magic == b"PAR1"


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

    def area_index(self, areas: list[str]) -> npt.NDArray[np.int32]:
        index = self.areas
        codes = np.fromiter(
            (index.setdefault(a, len(index)) for a in areas), dtype=np.int32, count=len(areas)
        )
        while len(self.cubes) < len(index):
            self.cubes.append(ExpiryCubeBuilder(first_day=self.first_day, last_day=self.last_day))
        return codes

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


def _insert_rows(rows: list[tuple[Any, ...]]) -> None:
    table = RegisterRecord._meta.db_table
    ops = connection.ops
    columns = ", ".join(ops.quote_name(c) for c in _INSERT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # the raw COPY bypasses Django's cursor: map psycopg's errors to Django's (a unique
            # violation must arrive as django.db.IntegrityError)
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        statement = (
            f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 — names from the model
            + ", ".join(["(" + ", ".join(["%s"] * len(_INSERT_COLUMNS)) + ")"] * _ROWS_PER_INSERT)
        )
        whole = len(rows) - len(rows) % _ROWS_PER_INSERT
        cursor.executemany(
            statement,
            [
                [value for row in rows[start : start + _ROWS_PER_INSERT] for value in row]
                for start in range(0, whole, _ROWS_PER_INSERT)
            ],
        )
        for row in rows[whole:]:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 — names from the model
                f"({', '.join(['%s'] * len(_INSERT_COLUMNS))})",
                row,
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
) -> tuple[RegisterColumns, dict[str, list[str | None]]]:
    """Check one chunk; return its day numbers and its values as stored (None = empty)."""
    offset = chunk.first_row - 2  # register_io numbers rows as offset + index + 2
    days: dict[str, npt.NDArray[np.int32]] = {}
    stored: dict[str, list[str | None]] = {}
    for name in DATE_COLUMNS:
        if name in chunk.cells:
            series = pl.Series(name, chunk.cells[name], dtype=pl.String)
            days[name] = _parse_text_dates(series, name, offset, errors)
            stored[name] = [value or None for value in chunk.cells[name]]
    _validate(days, today, offset, errors)
    ids = pl.Series("person_id", chunk.cells["person_id"], dtype=pl.String)
    lengths = ids.str.len_chars().to_numpy()
    errors.add_rows(lengths == 0, offset, "person_id が空です")
    errors.add_rows(lengths > MAX_TEXT, offset, f"person_id が長すぎます（{MAX_TEXT}文字まで）")
    fingerprints.add(ids, chunk.first_row)
    areas = [unicodedata.normalize("NFKC", a) for a in chunk.cells.get(AREA, [])]
    if areas:
        too_long = np.fromiter((len(a) > MAX_TEXT for a in areas), dtype=bool, count=len(areas))
        errors.add_rows(too_long, offset, f"area が長すぎます（{MAX_TEXT}文字まで）")
    stored[AREA] = areas or [""] * chunk.size  # type: ignore[assignment]  # str ⊂ str | None
    columns = RegisterColumns(
        birth_day=days["birth_date"],
        card_issued_day=days["card_issued_on"],
        cert_issued_day=days["cert_issued_on"],
        card_expires_day=days.get("card_expires_on"),
        cert_expires_day=days.get("cert_expires_on"),
    )
    return columns, stored


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
    chunks = (
        _parquet_chunks(stream, errors, chunk_rows)
        if _is_parquet(stream)
        else _csv_chunks(stream, errors, chunk_rows)
    )
    writing = True
    for chunk in chunks:
        report.rows += chunk.size
        columns, stored = _chunk_columns(chunk, today, errors, fingerprints)
        if len(aggregates.areas) > MAX_AREAS:
            raise _Rejected(f"地区（area）が多すぎます（{MAX_AREAS}まで）。")
        if errors.total:
            writing = False
        if writing:
            codes = aggregates.area_index(stored[AREA])  # type: ignore[arg-type]  # no None
            aggregates.add(columns, codes)
            rows = list(
                zip(
                    [municipality.pk] * chunk.size,
                    chunk.cells["person_id"],
                    stored["birth_date"],
                    stored["card_issued_on"],
                    stored.get("card_expires_on") or [None] * chunk.size,
                    stored["cert_issued_on"],
                    stored.get("cert_expires_on") or [None] * chunk.size,
                    stored[AREA],
                    strict=True,
                )
            )
            try:
                with transaction.atomic():
                    _insert_rows(rows)
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
