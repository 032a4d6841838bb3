"""Importing another deployment's signed municipality report for the roll-up.

A file (the JSON or the CSV form, `forecasts.report`) is refused whole, with one clear message,
when it cannot be read, is not a report, names a schema or version this code does not know,
carries anything about a person (a key such as a name, birth date, address or notice number, an
Individual Number or a notice number in any value), does not fit the schema, has a municipality
code whose check digit is wrong, or is not signed by a key the roll-up trusts for that code.
Nothing is stored then. A report accepted is stored once (`ImportedReport`, keyed by the
SHA-256 of the signed bytes; the same file twice changes nothing) with one audit event.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import ValidationError as SchemaError

from madoguchi.core import clock
from madoguchi.core.audit import Actor, record_audit_event
from madoguchi.core.csvsafe import as_written
from madoguchi.core.individual_number import contains_individual_number
from madoguchi.core.validators import validate_municipality_code
from madoguchi.forecasts import report_signing
from madoguchi.forecasts.models import ImportedReport
from madoguchi.forecasts.report import SCHEMA, SCHEMA_VERSION, ReportV1, canonical_bytes
from madoguchi.offices.models import Municipality

MAX_REPORT_BYTES = 2_000_000

PERSONAL_KEY_PARTS = (
    "birth",
    "kana",
    "individual",
    "my_number",
    "mynumber",
    "notice_number",
    "notice_no",
    "address",
    "phone",
    "email",
    "person",
    "gender",
    "氏名",
    "名前",
    "生年月日",
    "住所",
    "個人番号",
    "マイナンバー",
    "通知書番号",
    "電話",
)
PERSONAL_KEYS = frozenset({"name", "names", "full_name", "first_name", "last_name", "sex"})
ALLOWED_NAME_PATHS = frozenset({"report.municipality.name"})
NOTICE_NUMBER_LIKE = re.compile(r"(?<![0-9A-Za-z])([2-9A-HJ-NP-Z]{3})[-‐－ ]?[0-9]{6}(?![0-9])")


class ReportRefused(Exception):
    """The file is refused whole; `message` says why (in the active language: the msgids are
    Japanese, the English catalogue translates them for the staff pages)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CheckedReport:
    report: ReportV1
    data: dict[str, Any]
    public_key: str
    signature: str
    sha256: str


def too_large() -> str:
    return _("ファイルが大きすぎます（2 MB まで）。自治体の報告書ではありません。")


# --- reading ----------------------------------------------------------------------------------


def _from_csv(text: str) -> dict[str, Any]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [cell.strip() for cell in rows[0]] != ["key", "value"]:
        raise ReportRefused(_("CSVの1行目は「key,value」の見出しにしてください。"))
    document: dict[str, Any] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 2 or not row[0]:
            raise ReportRefused(
                _("CSVの%(line)s行目が「キー,値」の2列ではありません。") % {"line": number}
            )
        key, value = row
        value = as_written(value)  # written spreadsheet-safe by core.csvsafe
        _place(document, key.split("."), None if value == "" else value, number)
    rebuilt: dict[str, Any] = _lists(document)
    return rebuilt


def _place(node: dict[str, Any], parts: list[str], value: Any, number: int) -> None:
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ReportRefused(
                _("CSVの%(line)s行目のキーが、前の行の値と重なっています。") % {"line": number}
            )
        node = child
    if parts[-1] in node:
        raise ReportRefused(
            _("CSVの%(line)s行目のキー「%(key)s」が2回あります。")
            % {"line": number, "key": ".".join(parts)}
        )
    node[parts[-1]] = value


def _lists(node: Any) -> Any:
    """Dicts keyed 0, 1, 2 … (the CSV's list items) back into lists."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        indices = sorted(int(key) for key in converted)
        if indices == list(range(len(indices))):
            return [converted[str(index)] for index in indices]
    return converted


def read_document(content: bytes, file_name: str = "") -> dict[str, Any]:
    """The file's {"report": …, "signature": …}, from the JSON or the CSV form."""
    if len(content) > MAX_REPORT_BYTES:
        raise ReportRefused(too_large())
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReportRefused(_("ファイルが UTF-8 の文字として読めません。")) from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ReportRefused(
                _("JSONとして読めません（%(line)s行目 %(column)s文字目）。")
                % {"line": error.lineno, "column": error.colno}
            ) from None
    elif stripped.startswith("key,") or file_name.lower().endswith(".csv"):
        document = _from_csv(text)
    else:
        raise ReportRefused(
            _(
                "自治体の報告書（JSON または CSV）として読めません。"
                "madoguchi の報告書の出力をそのまま取り込んでください。"
            )
        )
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("report"), dict)
        or not isinstance(document.get("signature"), dict)
    ):
        raise ReportRefused(_("報告書（report）と署名（signature）の両方が必要です。"))
    return document


# --- checking ---------------------------------------------------------------------------------


PERSONAL_KEY, INDIVIDUAL_NUMBER, NOTICE_NUMBER = "key", "individual_number", "notice_number"


def personal_refusal(kind: str, path: str) -> str:
    """The refusal for personal data of `kind` found at `path` (one whole sentence per kind)."""
    if kind == PERSONAL_KEY:
        text = _(
            "個人に関する項目「%(path)s」が含まれているため、取り込みません（何も登録していません）。"
            "報告書には個人の情報を入れず、集計値だけにしてください。"
        )
    elif kind == INDIVIDUAL_NUMBER:
        text = _(
            "「%(path)s」の個人番号（マイナンバー）と思われる数字が含まれているため、"
            "取り込みません（何も登録していません）。"
            "報告書には個人の情報を入れず、集計値だけにしてください。"
        )
    else:
        text = _(
            "「%(path)s」の交付通知書番号と思われる文字列が含まれているため、"
            "取り込みません（何も登録していません）。"
            "報告書には個人の情報を入れず、集計値だけにしてください。"
        )
    return text % {"path": path}


def _personal_data(path: str, node: Any) -> tuple[str, str] | None:
    """(kind, path) of the first personal data in `node` (at `path`), or None."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            lowered = str(key).lower()
            personal = lowered in PERSONAL_KEYS or any(p in lowered for p in PERSONAL_KEY_PARTS)
            if personal and here not in ALLOWED_NAME_PATHS:
                return PERSONAL_KEY, here
            found = _personal_data(here, value)
            if found:
                return found
        return None
    if isinstance(node, list):
        for index, item in enumerate(node):
            found = _personal_data(f"{path}.{index}", item)
            if found:
                return found
        return None
    if node is None or isinstance(node, bool):
        return None
    text = str(node)
    if contains_individual_number(text):
        return INDIVIDUAL_NUMBER, path
    if isinstance(node, str):
        for match in NOTICE_NUMBER_LIKE.finditer(text.upper()):
            if any(c.isalpha() for c in match.group(1)):
                return NOTICE_NUMBER, path
    return None


def check_document(document: dict[str, Any]) -> CheckedReport:
    """The report if every check passes (module docstring); ReportRefused otherwise."""
    raw = document["report"]
    schema, version = raw.get("schema"), raw.get("schema_version")
    if schema != SCHEMA or str(version) != str(SCHEMA_VERSION):
        raise ReportRefused(
            _(
                "報告書の様式「%(schema)s」第「%(version)s」版は扱えません"
                "（扱えるのは %(known)s 第%(known_version)s版）。"
                "送り元の madoguchi の版を確かめてください。"
            )
            % {
                "schema": schema,
                "version": version,
                "known": SCHEMA,
                "known_version": SCHEMA_VERSION,
            }
        )
    personal = _personal_data("report", raw)
    if personal:
        raise ReportRefused(personal_refusal(*personal))
    try:
        report = ReportV1.load(raw)
    except SchemaError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]).replace("schema_", "schema")
        raise ReportRefused(
            _("報告書の形が様式（第%(version)s版）と合いません：「report.%(where)s」（%(why)s）。")
            % {"version": SCHEMA_VERSION, "where": where, "why": first["msg"]}
        ) from None
    code = report.municipality.code
    try:
        validate_municipality_code(code)
    except ValidationError as error:
        raise ReportRefused(
            _("地方公共団体コード「%(code)s」: %(why)s") % {"code": code, "why": error.messages[0]}
        ) from None
    signature = document["signature"]
    algorithm = signature.get("algorithm")
    public_key, value = signature.get("public_key"), signature.get("value")
    if algorithm != report_signing.ALGORITHM:
        raise ReportRefused(
            _("署名の方式「%(algorithm)s」は扱えません（Ed25519 だけです）。")
            % {"algorithm": algorithm}
        )
    if not isinstance(public_key, str) or not isinstance(value, str):
        raise ReportRefused(_("署名に公開鍵（public_key）と署名値（value）が必要です。"))
    data = report.dump()
    message = canonical_bytes(data)
    if not report_signing.signature_holds(public_key, value, message):
        raise ReportRefused(
            _(
                "署名が報告書の内容と合いません。送られる途中で書き換えられたか、"
                "壊れています。送り元から出力し直してもらってください。"
            )
        )
    if public_key not in _trusted_for(code):
        raise ReportRefused(
            _(
                "この報告書の公開鍵は、%(name)s（%(code)s）の鍵として"
                "登録されていません。送り元の `madoguchi report-public-key` の出力を、"
                "別の経路で確かめてから登録してください。"
            )
            % {"name": report.municipality.name, "code": code}
        )
    return CheckedReport(
        report=report,
        data=data,
        public_key=public_key,
        signature=value,
        sha256=hashlib.sha256(message).hexdigest(),
    )


def _trusted_for(code: str) -> frozenset[str]:
    try:
        return report_signing.trusted_keys().for_code(code)
    except report_signing.KeyFileError as error:
        raise ReportRefused(str(error)) from None


# --- storing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    imported: ImportedReport
    created: bool


def import_report(content: bytes, *, file_name: str, actor: Actor) -> ImportResult:
    """Check and store one report file (all or nothing; the same file twice changes nothing)."""
    checked = check_document(read_document(content, file_name))
    code = checked.report.municipality.code
    if Municipality.objects.filter(code=code).exists():
        raise ReportRefused(
            _(
                "%(name)s（%(code)s）はこのシステムで運用している自治体です。"
                "集計には運用中のデータを使うので、報告書の取り込みは要りません。"
            )
            % {"name": checked.report.municipality.name, "code": code}
        )
    with transaction.atomic():
        existing = ImportedReport.objects.select_for_update().filter(sha256=checked.sha256).first()
        if existing is not None:
            return ImportResult(existing, created=False)
        municipality = checked.report.municipality
        imported = ImportedReport.objects.create(
            municipality_code=code,
            municipality_name=municipality.name,
            municipality_class=municipality.municipality_class,
            population=municipality.population,
            as_of=checked.report.as_of,
            schema_version=checked.report.schema_version,
            report=checked.data,
            public_key=checked.public_key,
            signature=checked.signature,
            sha256=checked.sha256,
            file_name=file_name[:255],
            imported_at=clock.now(),
        )
        record_audit_event(
            actor=actor,
            action="report.imported",
            subject_type="ImportedReport",
            subject_id=imported.pk,
            after={
                "municipality_code": code,
                "as_of": checked.report.as_of.isoformat(),
                "sha256": checked.sha256,
                "file_name": file_name,
            },
        )
    return ImportResult(imported, created=True)
