"""Writing CSV that a spreadsheet opens safely: the one helper every CSV writer goes through.

A cell starting with `=`, `+`, `-`, `@`, a TAB or a CR (or their full-width forms, which
Japanese spreadsheet software may read the same way) is taken as a formula by Excel and
LibreOffice when the file is opened — formula injection, e.g. an address typed as
`=HYPERLINK(…)` in a delivery list ending up in the mailing house's spreadsheet. Such cells are
written with a leading apostrophe (OWASP "CSV Injection"): shown as text, never evaluated.
Numbers (int, float) are written as they are; only text can carry a formula.

Text of 16 digits or more (a card's 23-digit application ID) gets the same apostrophe: a
spreadsheet reads such a cell as a number, keeps 15 significant digits and shows and saves
99999700000000000000308 as 9.99997E+22 — the identifier is lost (decision 0038).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
FORMULA_PATTERN = r"^[=+\-@\t\r＝＋－＠]"
"""The same leads as a regular expression (for polars' vectorised check)."""
LONG_DIGITS = re.compile(r"[0-9]{16,}")
"""Text a spreadsheet would read as a number it cannot hold (more than 15 significant digits)."""
LONG_DIGITS_PATTERN = r"^[0-9]{16,}$"
"""The same as a regular expression for polars."""


def needs_apostrophe(text: str) -> bool:
    """True for text a spreadsheet would run as a formula or turn into a number it cannot hold."""
    return text.startswith(FORMULA_LEADS) or LONG_DIGITS.fullmatch(text) is not None


def neutralise(value: Any) -> Any:
    """`value` with an apostrophe in front when it is text a spreadsheet would run as a formula
    or read as a number of more digits than it keeps."""
    if isinstance(value, str) and needs_apostrophe(value):
        return "'" + value
    return value


def as_written(cell: str) -> str:
    """The text `neutralise` was given for a cell read back from a file it wrote."""
    if cell.startswith("'") and needs_apostrophe(cell[1:]):
        return cell[1:]
    return cell


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of `row` through `neutralise`."""
    return [neutralise(cell) for cell in row]


class SafeWriter:
    """`csv.writer` whose rows are neutralised cell by cell."""

    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(out: IO[str], **options: Any) -> SafeWriter:
    """A CSV writer for `out` (options as for `csv.writer`) that neutralises formula cells."""
    return SafeWriter(out, **options)


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every text cell neutralised, for `DataFrame.write_csv` (vectorised)."""
    import polars as pl

    return frame.with_columns(
        pl.when(
            pl.col(pl.String).str.contains(FORMULA_PATTERN)
            | pl.col(pl.String).str.contains(LONG_DIGITS_PATTERN)
        )
        .then(pl.lit("'") + pl.col(pl.String))
        .otherwise(pl.col(pl.String))
        .name.keep()
    )
