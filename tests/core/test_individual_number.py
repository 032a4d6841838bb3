"""The one Individual Number detector: every spelling of a valid number is found, anywhere in a
text; numbers whose check digit is wrong are not (the negative control)."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.core.individual_number import (
    contains_individual_number,
    individual_number_check_digit,
    is_individual_number,
)

DASHES = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Pd"]
SEPARATORS = [
    "",
    " ",
    "  ",
    "\u3000",
    "\t",
    "\n",
    "\u00a0",
    ".",
    "\uff0e",
    "・",
    "_",
    "\uff3f",
    "-",
    "\u2212",
    "\u30fc",
    "\uff70",
    "\u200b",
    "\u00ad",
    " - ",
    *DASHES,
]


def _check_digit_by_the_published_formula(first_eleven: str) -> int:
    """The formula as the ordinance writes it, independently of the module: P_n is the n-th
    digit from the right, Q_n = n + 1 (n ≤ 6) or n − 5 (n ≥ 7)."""
    digits = [int(d) for d in reversed(first_eleven)]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(digits, start=1))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


eleven_digits = st.text(alphabet="0123456789", min_size=11, max_size=11)


@st.composite
def spelled(draw: st.DrawFn, *, valid: bool) -> str:
    """A 12-digit number, valid or not, each digit ASCII or full-width, any separators between."""
    first = draw(eleven_digits)
    check = individual_number_check_digit(first)
    last = check if valid else draw(st.sampled_from([d for d in range(10) if d != check]))
    digits = first + str(last)
    out = []
    for index, digit in enumerate(digits):
        if index:
            out.append(draw(st.sampled_from(SEPARATORS)))
        out.append(chr(ord(digit) + 0xFEE0) if draw(st.booleans()) else digit)
    return "".join(out)


def _no_digit_at(text: str, index: int) -> bool:
    normalized = unicodedata.normalize("NFKC", text)
    return not normalized or not normalized[index].isdigit()


surrounding = st.text(max_size=30)
digit_free = st.text(
    alphabet=st.characters(exclude_categories=("Nd", "No", "Nl", "Cs")), max_size=30
).filter(lambda t: not any(c.isdigit() for c in unicodedata.normalize("NFKC", t)))


def test_check_digit_of_the_published_example() -> None:
    assert individual_number_check_digit("12345678901") == 8


@given(eleven_digits)
def test_check_digit_follows_the_published_formula(first: str) -> None:
    assert individual_number_check_digit(first) == _check_digit_by_the_published_formula(first)


@settings(max_examples=4 * settings().max_examples)  # 200; 4,000 deep
@given(spelled(valid=True), surrounding, surrounding)
def test_a_valid_number_is_found_whatever_separates_and_surrounds_it(
    number: str, before: str, after: str
) -> None:
    before = before if _no_digit_at(before, -1) else before + "x"
    after = after if _no_digit_at(after, 0) else "x" + after
    assert contains_individual_number(f"{before}{number}{after}")


@settings(max_examples=4 * settings().max_examples)  # 200; 4,000 deep
@given(spelled(valid=False), digit_free, digit_free)
def test_negative_control_a_wrong_check_digit_passes(number: str, before: str, after: str) -> None:
    assert not contains_individual_number(f"{before}{number}{after}")


@given(spelled(valid=True))
def test_a_number_alone_is_recognised_exactly(number: str) -> None:
    assert is_individual_number(number)
    assert is_individual_number(f" {number}\u3000")


@pytest.mark.parametrize("dash", [*DASHES, "\u2212", "\u30fc", "\uff70", "\u2043"])
def test_every_unicode_dash_separates(dash: str) -> None:
    assert contains_individual_number(f"1234{dash}5678{dash}9018")


@pytest.mark.parametrize(
    "text",
    [
        "1234.5678.9018@example.jp",
        "1234_5678_9018@example.jp",
        "123456-789018@example.jp",
        "1234\u20105678\u20109018@example.jp",
        "東京都千代田区1.2.3 1234.5678.9018号",
        "番号 1234 5678 9018 です",
        "１２３４－５６７８－９０１８",
        "090 1234 5678 123456789018",  # after a phone number, separated by a space
        "123456789018 5",  # a stray digit after a space does not hide it
    ],
)
def test_spellings_seen_in_the_field_are_refused(text: str) -> None:
    assert contains_individual_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "123456789017",  # wrong check digit
        "12345678901",  # 11 digits
        "90210358112040000000101",  # a 23-digit application ID is not one
        "K7Q482913",  # a notice number
        "KGD-597843",
        "03-1234-5678 / 090-1234-5678",  # two phone numbers
        "東京都千代田区霞が関1-2-3 ハイツ101号",
        "",
    ],
)
def test_other_numbers_are_not_mistaken_for_one(text: str) -> None:
    assert not contains_individual_number(text)


def test_exact_match_requires_twelve_digits() -> None:
    assert is_individual_number("123456789018")
    assert not is_individual_number("1234567890180")
    assert not is_individual_number("番号123456789018")


def test_importing_the_detector_needs_no_configured_django() -> None:
    """The register reader (and its national benchmark) import it without settings."""
    code = (
        "import os; os.environ.pop('DJANGO_SETTINGS_MODULE', None);"
        "from madoguchi.core import individual_number as m;"
        "from madoguchi.forecasts import register_io;"
        "assert m.contains_individual_number('1234.5678.9018')"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
