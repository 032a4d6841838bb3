"""The J-LIS delivery import: every bad file is refused whole, with a row-numbered report."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from madoguchi.core.audit import Actor
from madoguchi.core.models import AuditEvent
from madoguchi.issuance.imports import ImportReport, import_deliveries
from madoguchi.issuance.models import CardRecord, DeliveryImport
from madoguchi.offices.models import Municipality
from tests.conftest import example_file
from tests.frozen_clock import CARDS_NOW
from tests.issuance import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.frozen_at(CARDS_NOW),
    pytest.mark.usefixtures("frozen"),
]


HEADER = (
    "application_id,delivered_on,family_name,given_name,family_name_kana,given_name_kana,"
    "birth_date,postal_code,address,application_kind"
)
ROW_1 = (
    "90210358112040000000101,2026-11-20,山田,花子,ヤマダ,ハナコ,1986-04-12,123-4567,"
    "デモ市中央一丁目2番3号,renewal"
)
ROW_2 = (
    "90210358112040000000102,2026-11-20,佐藤,一郎,サトウ,イチロウ,1949-10-30,1234568,"
    "デモ市北町5番地の1,renewal"
)
SYSTEM = Actor.system("test")


def run(data: bytes | str, *, encoding: str = "utf-8") -> ImportReport:
    raw = data.encode(encoding) if isinstance(data, str) else data
    owner = factories.municipality()
    return import_deliveries(io.BytesIO(raw), file_name="t.csv", municipality=owner, actor=SYSTEM)


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def assert_rejected_without_change(report: ImportReport, *expected: str) -> None:
    assert not report.accepted
    text = "\n".join(report.lines())
    for fragment in expected:
        assert fragment in text, text
    assert "取り込みませんでした" in text
    assert CardRecord.objects.count() == 0
    assert DeliveryImport.objects.count() == 0


def test_a_good_file_creates_one_card_per_row_in_status_delivered() -> None:
    report = run(csv_text(ROW_1, ROW_2))
    assert report.accepted, report.lines()
    assert (report.rows, report.created) == (2, 2)
    sato = CardRecord.objects.get(application_id="90210358112040000000102")
    assert sato.status == "delivered"
    assert sato.postal_code == "123-4568"
    assert str(sato.birth_date) == "1949-10-30"
    assert AuditEvent.objects.filter(action="card.import").count() == 1


def test_the_contracts_sample_file_imports() -> None:
    owner = factories.municipality()
    with example_file("deliveries-sample.csv").open("rb") as stream:
        report = import_deliveries(stream, file_name="s.csv", municipality=owner, actor=SYSTEM)
    assert report.accepted, report.lines()
    assert CardRecord.objects.get(family_name="GARCIA").family_name_kana == "ガルシア"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_utf8_with_or_without_bom_and_cp932_are_all_read(encoding: str) -> None:
    report = run(csv_text(ROW_1), encoding=encoding)
    assert report.accepted, report.lines()
    assert CardRecord.objects.get().family_name == "山田"


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_a_file_with_lines_ending_in_cr_alone_is_read(encoding: str) -> None:
    """Excel for Mac's "CSV (Macintosh)" ends each line with CR alone."""
    report = run(csv_text(ROW_1, ROW_2).replace("\n", "\r"), encoding=encoding)
    assert report.accepted, report.lines()
    assert (report.rows, report.created) == (2, 2)
    assert CardRecord.objects.get(application_id="90210358112040000000102").family_name == "佐藤"


def test_half_width_kana_and_full_width_digits_are_normalised() -> None:
    full_width_id = "90210358112040000000101".translate({c: c + 0xFEE0 for c in range(48, 58)})
    row = (
        f"{full_width_id},２０２６-１１-２０,山田,太郎,"
        "ﾔﾏﾀﾞ,ﾀﾛｳ,1986-04-12,１２３－４５６７,デモ市南台３－４－５,RENEWAL"
    )
    report = run(csv_text(row))
    assert report.accepted, report.lines()
    card = CardRecord.objects.get()
    assert (card.family_name_kana, card.given_name_kana) == ("ヤマダ", "タロウ")
    assert card.application_id == "90210358112040000000101"
    assert card.postal_code == "123-4567"
    assert card.address == "デモ市南台3-4-5"
    assert card.application_kind == "renewal"


def test_importing_the_same_file_twice_changes_nothing() -> None:
    data = csv_text(ROW_1, ROW_2)
    run(data)
    events = AuditEvent.objects.count()
    before = list(CardRecord.objects.order_by("pk").values())
    again = run(data)
    assert again.accepted
    assert (again.created, again.unchanged) == (0, 2)
    assert list(CardRecord.objects.order_by("pk").values()) == before
    assert DeliveryImport.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_a_changed_row_for_a_known_id_is_reported_never_overwritten() -> None:
    run(csv_text(ROW_1))
    changed = ROW_1.replace("デモ市中央一丁目2番3号", "デモ市北町1番")
    report = run(csv_text(changed, ROW_2))
    assert not report.accepted
    assert any("2行目" in p and "住所" in p and "上書きはしません" in p for p in report.problems)
    assert CardRecord.objects.get().address == "デモ市中央一丁目2番3号"
    assert CardRecord.objects.count() == 1  # ROW_2 was not imported either


def test_a_file_carrying_an_individual_number_is_rejected_whole() -> None:
    header = HEADER + ",memo"
    rows = [ROW_1 + ",", ROW_2 + ",1234 5678 9018"]  # 123456789018 has a valid check digit
    report = run(csv_text(*rows, header=header))
    assert_rejected_without_change(report, "3行目", "memo", "個人番号")
    assert "123456789018" not in "\n".join(report.lines())


def test_twelve_digit_numbers_without_a_valid_check_digit_are_not_individual_numbers() -> None:
    report = run(csv_text(ROW_1 + ",123456789012", header=HEADER + ",memo"))
    assert report.accepted, report.lines()


def test_extra_columns_are_ignored_and_a_missing_column_rejects_the_file() -> None:
    assert run(csv_text(ROW_1 + ",x", header=HEADER + ",note")).accepted
    CardRecord.objects.all().delete()
    DeliveryImport.objects.all().delete()
    header = HEADER.replace(",postal_code", "")
    row = ROW_1.replace(",123-4567", "")
    assert_rejected_without_change(run(csv_text(row, header=header)), "postal_code（郵便番号）")


@pytest.mark.parametrize(
    ("bad_row", "fragment"),
    [
        (ROW_2.replace("1949-10-30", "1949/10/30"), "YYYY-MM-DD"),
        (ROW_2.replace("1949-10-30", "1949-02-30"), "存在しない日付"),
        (ROW_2.replace("サトウ", "さとう"), "カタカナ"),
        (ROW_2.replace("サトウ", "Sato"), "カタカナ"),
        (ROW_2.replace("1234568", "12345"), "郵便番号"),
        (ROW_2.replace("90210358112040000000102", "9021035811204000000010"), "23桁"),
        (ROW_2.replace(",renewal", ",lost"), "申請の種類"),
        (ROW_2.replace("2026-11-20", "2026-12-20"), "未来"),
        (ROW_1, "重複"),
        # digits of other scripts are digits to `\d` but not to the card's CHECK constraint
        (ROW_2.replace("90210358112040000000102", "٩٠٢١٠٣٥٨١١٢٠٤٠٠٠٠٠٠٠١٠٢"), "23桁"),
        (ROW_2.replace("1234568", "१२३४५६८"), "郵便番号"),
        (ROW_2.replace("1949-10-30", "١٩٤٩-١٠-٣٠"), "YYYY-MM-DD"),
        # NUL (PostgreSQL cannot store it), an escape, a bidirectional override
        (ROW_2.replace("佐藤", "佐\x00藤"), "氏に使えない文字"),
        (ROW_2.replace("一郎", "一\x1b[31m郎"), "名に使えない文字"),
        (ROW_2.replace("北町", "北\u202e町"), "住所に使えない文字"),
    ],
)
def test_a_bad_row_rejects_the_whole_file_with_its_row_number(bad_row: str, fragment: str) -> None:
    assert_rejected_without_change(run(csv_text(ROW_1, bad_row)), "3行目", fragment)


def test_an_empty_file_and_a_header_only_file_are_rejected() -> None:
    assert_rejected_without_change(run(b""), "空です")
    assert_rejected_without_change(run(HEADER + "\n"), "データの行がありません")


def test_a_truncated_last_line_is_reported() -> None:
    data = csv_text(ROW_1) + ROW_2[:40]
    assert_rejected_without_change(run(data), "3行目", "途中で切れている")


def test_an_unterminated_quote_is_reported() -> None:
    data = csv_text(ROW_1) + ROW_2.replace("デモ市北町", '"デモ市北町')
    assert_rejected_without_change(run(data), "CSV")


def test_mixed_encodings_are_refused_with_the_line_where_they_change() -> None:
    data = csv_text(ROW_1).encode("utf-8") + (ROW_2 + "\n").encode("cp932")
    assert_rejected_without_change(run(data), "3行目", "混在")
    data = csv_text(ROW_1).encode("cp932") + (ROW_2 + "\n").encode("utf-8")
    assert_rejected_without_change(run(data), "3行目", "混在")


def test_undecodable_bytes_are_refused() -> None:
    data = csv_text(ROW_1).encode("utf-8") + b"\xff\xfe\xfa,broken\n"
    assert_rejected_without_change(run(data), "文字コード")


def test_a_rejected_file_leaves_already_stored_cards_untouched() -> None:
    run(csv_text(ROW_1))
    before = list(CardRecord.objects.order_by("pk").values())
    report = run(csv_text(ROW_2, ROW_2.replace("1949-10-30", "bad")))
    assert not report.accepted
    assert list(CardRecord.objects.order_by("pk").values()) == before


def test_the_command_exits_0_on_success_and_2_with_the_report_on_stderr(tmp_path: Path) -> None:
    factories.municipality()
    good = tmp_path / "good.csv"
    good.write_text(factories.DELIVERIES_CSV, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_deliveries", str(good), stdout=out, stderr=err)
    assert "新規 4件" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text(ROW_1.replace("2026-11-20", "20261120")), encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        call_command("import_deliveries", str(bad), stdout=out, stderr=err)
    assert exited.value.code == 2
    assert "2行目" in err.getvalue()


def test_the_command_needs_a_municipality_when_there_are_several(tmp_path: Path) -> None:
    sample = tmp_path / "deliveries.csv"
    sample.write_text(factories.DELIVERIES_CSV, encoding="utf-8")
    factories.municipality()
    Municipality.objects.create(code="999997", name="デモ市")
    with pytest.raises(SystemExit) as exited:
        call_command("import_deliveries", str(sample), stderr=io.StringIO())
    assert exited.value.code == 2
    call_command("import_deliveries", str(sample), "--municipality", "999997", stdout=io.StringIO())
    assert CardRecord.objects.filter(municipality__code="999997").count() == 4


class _LineStream(io.RawIOBase):
    """A file that can only be read line by line, and counts how much is held at once."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self.largest_piece = 0

    def readable(self) -> bool:
        return True

    def __iter__(self) -> Iterator[bytes]:
        for line in self._lines:
            self.largest_piece = max(self.largest_piece, len(line))
            yield line

    def read(self, size: int = -1) -> bytes:  # pragma: no cover - failing here is the point
        raise AssertionError("the import must not read the whole file at once")


def test_a_big_file_is_streamed_line_by_line_and_a_bad_last_line_still_rejects_it_whole() -> None:
    rows = 20_000

    def lines() -> Iterator[bytes]:
        yield (HEADER + "\n").encode()
        for n in range(rows):
            yield (
                f"{90210358112040000100000 + n:023d},2026-11-20,山田,花子,ヤマダ,ハナコ,"
                "1986-04-12,123-4567,デモ市中央一丁目2番3号,renewal\n"
            ).encode()
        yield b"90210358112040000099999,2026-11-20,\xe5\xb1\xb1"  # truncated mid-character

    stream = _LineStream(lines())
    report = import_deliveries(
        stream,  # a binary stream that only iterates
        file_name="big.csv",
        municipality=factories.municipality(),
        actor=SYSTEM,
    )
    assert stream.largest_piece < 200  # never more than one line in hand
    assert_rejected_without_change(report, f"{rows + 2}行目")


@pytest.mark.parametrize(
    "address",
    [
        "デモ市中央1.2.3 1234.5678.9018",
        "デモ市中央 1234_5678_9018",
        "デモ市中央 123456-789018",
        "デモ市中央 1234\u20105678\u20109018",
        "デモ市中央 １２３４ー５６７８ー９０１８",
    ],
)
def test_an_individual_number_in_any_spelling_rejects_the_file(address: str) -> None:
    row = ROW_2.replace("デモ市北町5番地の1", address)
    report = run(csv_text(ROW_1, row))
    assert_rejected_without_change(report, "3行目", "address", "個人番号")


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "9999-12-31"])
@pytest.mark.parametrize("column", ["delivered_on", "birth_date"])
def test_edge_dates_reject_the_file_with_the_row(day: str, column: str) -> None:
    cells = ROW_1.split(",")
    cells[HEADER.split(",").index(column)] = day
    report = run(csv_text(",".join(cells)))
    assert_rejected_without_change(report, "2行目", day)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_file_saved_as_utf16_or_utf32_is_named_so_not_as_missing_columns(encoding: str) -> None:
    """Excel's "Unicode text" is UTF-16: every column is there, only the encoding is not one
    the import reads — the report says so instead of listing every column as missing."""
    data = csv_text(ROW_1)
    if encoding == "utf-16-be":
        data = "\ufeff" + data
    report = run(data, encoding=encoding)
    assert_rejected_without_change(report, encoding[:6].upper(), "UTF-8", "CP932")
    assert "必要な列がありません" not in "\n".join(report.lines())
