"""Import of J-LIS delivery lists (docs/contract.md "Deliveries"): all or nothing, idempotent.

The file is streamed line by line (memory stays flat for files of hundreds of MB): the encoding is
decided per line (UTF-8 with or without BOM, or CP932) and a file that mixes them is refused.
Rows are validated and normalised, then inserted in chunks inside one transaction; the first
problem of any kind marks the file rejected and the transaction is rolled back, so a rejected
file leaves nothing behind. Rows whose `application_id` is already stored are compared: equal
rows are skipped (the same file twice changes nothing), a changed row is an error (never
overwritten). Duplicates inside the file are found through the database (rows inserted earlier
in this same transaction carry this import's id), so no id set grows with the file.

A value that looks like a 12-digit Individual Number, in any column, rejects the file at once;
the value itself is never echoed in the report.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import connection, transaction

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.dates import in_range
from madoguchi.core.encodings import lines_ending_in_lf, wide_encoding_refusal
from madoguchi.core.individual_number import contains_individual_number
from madoguchi.issuance.models import ApplicationKind, CardRecord, CardStatus, DeliveryImport
from madoguchi.offices.models import Municipality

REQUIRED_COLUMNS = (
    "application_id",
    "delivered_on",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "postal_code",
    "address",
    "application_kind",
)
OPTIONAL_COLUMNS = ("applied_on", "previous_card_expires_on")
COLUMN_LABELS = {
    "application_id": "申請書ID",
    "delivered_on": "到着日",
    "family_name": "氏",
    "given_name": "名",
    "family_name_kana": "氏（カナ）",
    "given_name_kana": "名（カナ）",
    "birth_date": "生年月日",
    "postal_code": "郵便番号",
    "address": "住所",
    "application_kind": "申請の種類",
    "applied_on": "申請日",
    "previous_card_expires_on": "今のカードの有効期限",
}
COMPARED_FIELDS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
CHUNK_ROWS = 2000
ROWS_PER_INSERT = 500  # 500 × 18 parameters stays under every backend's parameter limit
MAX_REPORTED_PROBLEMS = 200
_MAX_LENGTH = {
    "family_name": 100,
    "given_name": 100,
    "family_name_kana": 100,
    "given_name_kana": 100,
    "address": 200,
}
# ASCII digits only: `\d` alone also matches other scripts' digits (Arabic-Indic, Devanagari…),
# which NFKC leaves as they are and the card's CHECK constraint refuses.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_POSTAL = re.compile(r"^(\d{3})-?(\d{4})$", re.ASCII)
_APPLICATION_ID = re.compile(r"^\d{23}$", re.ASCII)
# Control characters (NUL, which PostgreSQL cannot store; escapes; line breaks inside a quoted
# cell) and the bidirectional overrides that would reorder a printed name or address.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Full-width katakana, the prolonged sound mark, middle dot and spaces (full- and half-width).
_KATAKANA = re.compile(r"^[\u30a1-\u30fa\u30fc\u30fb\u3000 ]+$")
_HALF_WIDTH_KANA = re.compile(r"[\uff61-\uff9f]+")
_FULL_WIDTH_ASCII = re.compile(r"[\uff01-\uff5e]+")
UTF8_BOM = b"\xef\xbb\xbf"


class FileRejected(Exception):
    """Raised inside the import transaction to roll it back; carries the report."""


@dataclass
class ImportReport:
    """The outcome of one file: counts and a row-numbered list of problems (Japanese)."""

    file_name: str
    encoding: str = ""
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    delivery_import_id: int | None = None

    @property
    def accepted(self) -> bool:
        return self.problem_count == 0

    def add(self, line: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(f"{line}行目: {message}" if line else message)

    def lines(self) -> list[str]:
        """The report as printed on stderr and on the upload page."""
        if self.accepted:
            return [
                f"{self.file_name}: {self.rows}行を確認しました。"
                f"新規 {self.created}件、登録済み（変更なし） {self.unchanged}件。"
            ]
        head = [
            f"{self.file_name}: 取り込みませんでした（何も登録・変更していません）。"
            f"問題 {self.problem_count}件:"
        ]
        tail = (
            [f"…ほか {self.problem_count - len(self.problems)}件"]
            if self.problem_count > len(self.problems)
            else []
        )
        return head + self.problems + tail


# --- normalisation -----------------------------------------------------------------------------


_APPLICATION_KINDS = frozenset(ApplicationKind.values)  # built once: `.values` builds a list


def normalize_kana(text: str) -> str:
    """Half-width katakana → full-width (dakuten composed), full-width spaces kept as one."""
    text = _HALF_WIDTH_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return re.sub(r"[ \u3000]+", "\u3000", text.strip(" \u3000"))


def normalize_text(text: str) -> str:
    """Names and addresses: half-width kana → full-width, full-width ASCII (digits, letters,
    hyphens) → ASCII. Kanji are left alone (NFKC would rewrite compatibility ideographs in
    people's names)."""
    text = _HALF_WIDTH_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = _FULL_WIDTH_ASCII.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return text.strip(" \u3000")


def _ascii(text: str) -> str:
    if text.isascii():  # the common case; NFKC leaves ASCII as it is
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


def _date(value: str, column: str) -> tuple[dt.date | None, str | None]:
    value = _ascii(value)
    if not _DATE.match(value):
        return None, f"{COLUMN_LABELS[column]}「{value}」は YYYY-MM-DD の形で入力してください。"
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None, f"{COLUMN_LABELS[column]}「{value}」は存在しない日付です。"
    if not in_range(day):  # 0001-01-01 or 9999-12-31 would overflow the deadlines' arithmetic
        return (
            None,
            f"{COLUMN_LABELS[column]}「{value}」は1900年から2199年までの日付にしてください。",
        )
    return day, None


def normalize_row(raw: dict[str, str], today: dt.date) -> tuple[dict[str, Any], list[str]]:
    """One CSV row → the card's field values, or the list of what is wrong with it."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    application_id = _ascii(raw["application_id"])
    if not _APPLICATION_ID.match(application_id):
        errors.append("申請書IDは23桁の数字で入力してください。")
    values["application_id"] = application_id
    for column in ("delivered_on", "birth_date"):
        values[column], error = _date(raw[column], column)
        if error:
            errors.append(error)
    for column in OPTIONAL_COLUMNS:
        text = _ascii(raw.get(column) or "")
        values[column] = None
        if text:
            values[column], error = _date(text, column)
            if error:
                errors.append(error)
    delivered, born = values["delivered_on"], values["birth_date"]
    if delivered and delivered > today:
        errors.append(f"到着日「{delivered}」が未来の日付です。")
    if born and delivered and born > delivered:
        errors.append("生年月日が到着日より後になっています。")
    for column in ("family_name", "given_name", "address"):
        values[column] = normalize_text(raw[column])
        if _CONTROL.search(values[column]):
            errors.append(
                f"{COLUMN_LABELS[column]}に使えない文字（制御文字や文字の向きを変える記号）が"
                "含まれています。"
            )
    for column in ("family_name_kana", "given_name_kana"):
        kana = normalize_kana(raw[column])
        values[column] = kana
        if kana and not _KATAKANA.match(kana):
            errors.append(f"{COLUMN_LABELS[column]}「{kana}」はカタカナで入力してください。")
    for column in ("family_name", "family_name_kana", "address"):
        if not values[column]:
            errors.append(f"{COLUMN_LABELS[column]}が空です。")
    if bool(values["given_name"]) != bool(values["given_name_kana"]):
        errors.append("名と名（カナ）は両方入力するか、両方空にしてください。")
    for column, limit in _MAX_LENGTH.items():
        if len(values[column]) > limit:
            errors.append(f"{COLUMN_LABELS[column]}が長すぎます（{limit}文字まで）。")
    postal = _POSTAL.match(_ascii(raw["postal_code"]))
    if postal:
        values["postal_code"] = f"{postal.group(1)}-{postal.group(2)}"
    else:
        errors.append(
            f"郵便番号「{_ascii(raw['postal_code'])}」は 123-4567 か 1234567 の形で"
            "入力してください。"
        )
    kind = _ascii(raw["application_kind"]).lower()
    if kind not in _APPLICATION_KINDS:
        errors.append(f"申請の種類「{kind}」は new・renewal・reissue のいずれかです。")
    values["application_kind"] = kind
    return values, errors


# --- decoding ----------------------------------------------------------------------------------


@dataclass
class _Decoder:
    """Decides the file's encoding line by line and refuses a file that mixes two."""

    report: ImportReport
    encoding: str = ""
    line: int = 0
    sha256: Any = field(default_factory=hashlib.sha256)
    ended_with_newline: bool = True

    def lines(self, stream: Iterable[bytes]) -> Iterator[str]:
        for raw in stream:
            self.line += 1
            self.sha256.update(raw)
            self.ended_with_newline = raw.endswith(b"\n")
            if self.line == 1 and (refusal := wide_encoding_refusal(raw)) is not None:
                raise FileRejected(refusal)
            if self.line == 1 and raw.startswith(UTF8_BOM):
                self.encoding = "utf-8-sig"
                raw = raw[len(UTF8_BOM) :]
            yield self._decode(raw)

    def _decode(self, raw: bytes) -> str:
        if raw.isascii():
            return raw.decode("ascii")
        as_utf8 = _try(raw, "utf-8")
        if as_utf8 is not None and self.encoding in ("utf-8", "utf-8-sig"):
            return as_utf8  # the common case: one decode per line
        as_cp932 = _try(raw, "cp932")
        if not self.encoding:
            if as_utf8 is not None:
                self.encoding = "utf-8"
            elif as_cp932 is not None:
                self.encoding = "cp932"
        if self.encoding in ("utf-8", "utf-8-sig"):
            if as_utf8 is not None:
                return as_utf8
            if as_cp932 is not None:
                raise FileRejected(self._mixed("Shift_JIS（CP932）"))
        elif self.encoding == "cp932":
            if as_utf8 is not None:
                raise FileRejected(self._mixed("UTF-8"))
            if as_cp932 is not None:
                return as_cp932
        raise FileRejected(
            f"{self.line}行目: 文字コードを読み取れません"
            "（UTF-8 か Shift_JIS（CP932）で保存してください）。"
        )

    def _mixed(self, other: str) -> str:
        return (
            f"{self.line}行目: 文字コードが混在しています（それまでは {self.encoding}、"
            f"この行は {other}）。1つの文字コードで保存し直してください。"
        )


def _try(raw: bytes, encoding: str) -> str | None:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None


# --- the import --------------------------------------------------------------------------------


def import_deliveries(
    stream: IO[bytes],
    *,
    file_name: str,
    municipality: Municipality,
    actor: Actor,
) -> ImportReport:
    """Import one J-LIS delivery file for `municipality`: every row, or none.

    Returns the report; `report.accepted` tells whether anything was stored. Never raises for
    bad input — a bad file is a report, and the database is left exactly as it was.
    """
    report = ImportReport(file_name=file_name)
    try:
        with transaction.atomic():
            _run(stream, report=report, municipality=municipality, actor=actor)
            if not report.accepted:
                raise FileRejected("")
    except FileRejected as rejected:
        if str(rejected):
            report.add(None, str(rejected))
        report.created = 0
        report.delivery_import_id = None
    except csv.Error as error:
        report.add(
            None, f"CSVとして読めません（{error}）。引用符の閉じ忘れなどを確認してください。"
        )
        report.created = 0
        report.delivery_import_id = None
    return report


def _run(
    stream: IO[bytes], *, report: ImportReport, municipality: Municipality, actor: Actor
) -> None:
    decoder = _Decoder(report)
    reader = csv.reader(decoder.lines(lines_ending_in_lf(stream)), strict=True)
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise FileRejected("ファイルが空です（見出し行がありません）。")
    names = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise FileRejected(
            "必要な列がありません: " + "、".join(f"{c}（{COLUMN_LABELS[c]}）" for c in missing)
        )
    duplicated = sorted({n for n in names if names.count(n) > 1 and n in COMPARED_FIELDS})
    if duplicated:
        raise FileRejected("同じ名前の列が2つあります: " + "、".join(duplicated))
    position = {
        name: names.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in names
    }
    width = len(names)
    today = clock.today()
    delivery = DeliveryImport.objects.create(
        municipality=municipality,
        file_name=report.file_name[:255],
        file_sha256="",
        encoding="",
        imported_at=clock.now(),
        imported_by=actor.label,
    )
    chunk: list[tuple[int, dict[str, Any]]] = []
    for cells in reader:
        line = reader.line_num
        if not cells or not any(cell.strip() for cell in cells):
            continue
        report.rows += 1
        for index, cell in enumerate(cells):
            if index == 0 and not contains_individual_number(",".join(cells)):
                break  # one scan of the whole row; find the column only on a hit
            if contains_individual_number(cell):
                column = names[index] if index < width else f"{index + 1}列目"
                raise FileRejected(
                    f"{line}行目の列「{column}」に個人番号（マイナンバー）と思われる12桁の番号が"
                    "あります。個人番号は取り込めません。ファイル全体を取り込みませんでした。"
                    "個人番号の列を削除してから、もう一度取り込んでください。"
                )
        if len(cells) != width:
            hint = ""
            if len(cells) < width:
                hint = "（ファイルの最後が途中で切れている可能性があります）"
            report.add(
                line, f"列の数が見出しと違います（{len(cells)}列／見出し {width}列）{hint}。"
            )
            continue
        raw = {name: cells[i] for name, i in position.items()}
        values, errors = normalize_row(raw, today)
        for error in errors:
            report.add(line, error)
        if not errors:
            chunk.append((line, values))
        if len(chunk) >= CHUNK_ROWS:
            _flush(chunk, report=report, municipality=municipality, delivery=delivery)
            chunk = []
    _flush(chunk, report=report, municipality=municipality, delivery=delivery)
    if not decoder.ended_with_newline and report.problem_count:
        report.add(
            None, "最後の行に改行がありません。ファイルが途中で切れていないか確認してください。"
        )
    if report.rows == 0 and report.accepted:
        raise FileRejected("データの行がありません（見出し行だけのファイルです）。")
    report.encoding = decoder.encoding or "ascii"
    if not report.accepted:
        return
    if report.created == 0:
        # The same file (or only known rows) again: nothing changes, not even an import record.
        raise _Unchanged()
    delivery.file_sha256 = decoder.sha256.hexdigest()
    delivery.encoding = report.encoding
    delivery.rows = report.rows
    delivery.created_rows = report.created
    delivery.unchanged_rows = report.unchanged
    delivery.save()
    report.delivery_import_id = delivery.pk
    record_audit_event(
        actor=actor,
        action="card.import",
        subject_type="issuance.DeliveryImport",
        subject_id=delivery.pk,
        after={
            "file_name": delivery.file_name,
            "sha256": delivery.file_sha256,
            "rows": report.rows,
            "created": report.created,
            "unchanged": report.unchanged,
            "status": "delivered",
        },
    )


class _Unchanged(FileRejected):
    """Rolls back the empty import record of a file that brought nothing new."""


def _flush(
    chunk: list[tuple[int, dict[str, Any]]],
    *,
    report: ImportReport,
    municipality: Municipality,
    delivery: DeliveryImport,
) -> None:
    if not chunk:
        return
    ids = [values["application_id"] for _, values in chunk]
    known_ids = CardRecord.objects.filter(application_id__in=ids)
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands of placeholders (psycopg binds them
        # client-side, and the server plans a long IN list).
        known_ids = CardRecord.objects.extra(where=["application_id = ANY(%s)"], params=[ids])
    stored = {
        row["application_id"]: row
        for row in known_ids.values(
            "application_id", "municipality_id", "delivery_import_id", *COMPARED_FIELDS[1:]
        )
    }
    new: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, values in chunk:
        application_id = values["application_id"]
        if application_id in seen:
            report.add(
                line,
                f"申請書ID {application_id} がこのファイルの"
                f"{seen[application_id]}行目と重複しています。",
            )
            continue
        seen[application_id] = line
        known = stored.get(application_id)
        if known is None:
            new.append(values)
            continue
        if known["delivery_import_id"] == delivery.pk:
            report.add(line, f"申請書ID {application_id} がこのファイルの前の行と重複しています。")
            continue
        changed = [
            COLUMN_LABELS[c]
            for c in COMPARED_FIELDS[1:]
            if known[c] != values[c] and not (c in OPTIONAL_COLUMNS and values[c] is None)
        ]
        if known["municipality_id"] != municipality.pk:
            changed.insert(0, "自治体")
        if changed:
            report.add(
                line,
                f"申請書ID {application_id} は登録済みで、内容が違います（{'、'.join(changed)}）。"
                "上書きはしません。J-LISに確認してください。",
            )
        else:
            report.unchanged += 1
    if report.accepted and new:
        _insert(new, municipality=municipality, delivery=delivery)
        report.created += len(new)


_INSERT_COLUMNS = (
    *COMPARED_FIELDS,
    "municipality_id",
    "delivery_import_id",
    "status",
    "reservation_code",
    "defect_reason",
    "id_document_class",
    "created_at",
    "updated_at",
)


def _insert(
    rows: list[dict[str, Any]], *, municipality: Municipality, delivery: DeliveryImport
) -> None:
    """One multi-row INSERT per chunk, bypassing model instances (the ORM's per-field work was
    most of the import's time). Values go through the backend's own adapters."""
    ops = connection.ops
    now = ops.adapt_datetimefield_value(clock.now())
    dates = {"delivered_on", "birth_date", "applied_on", "previous_card_expires_on"}
    table = CardRecord._meta.db_table
    columns = ", ".join(ops.quote_name(c) for c in _INSERT_COLUMNS)
    placeholders = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    fixed = (municipality.pk, delivery.pk, CardStatus.DELIVERED.value, "", "", "", now, now)
    params = [
        tuple(ops.adapt_datefield_value(row[c]) if c in dates else row[c] for c in COMPARED_FIELDS)
        + fixed
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams the rows in one command; a multi-row INSERT makes psycopg split and
            # bind thousands of placeholders client-side (most of the import's time there).
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
            return
        for first in range(0, len(params), ROWS_PER_INSERT):
            part = params[first : first + ROWS_PER_INSERT]
            values = ", ".join([f"({placeholders})"] * len(part))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values}",  # noqa: S608 — names come from the model, values are parameters
                [value for row in part for value in row],
            )
