from __future__ import annotations

import pytest

from madoguchi.core.individual_number import (
    contains_individual_number,
    individual_number_check_digit,
    is_individual_number,
)


def test_check_digit_of_the_published_example() -> None:
    assert individual_number_check_digit("12345678901") == 8


@pytest.mark.parametrize(
    "text",
    ["123456789018", "１２３４５６７８９０１８", "1234-5678-9018", "番号 1234 5678 9018 です"],
)
def test_individual_numbers_are_recognised_in_any_spelling(text: str) -> None:
    assert contains_individual_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "123456789017",  # wrong check digit
        "12345678901",  # 11 digits
        "90210358112040000000101",  # a 23-digit application ID is not one
        "K7Q482913",  # a notice number
        "",
    ],
)
def test_other_numbers_are_not_mistaken_for_one(text: str) -> None:
    assert not contains_individual_number(text)


def test_exact_match_requires_twelve_digits() -> None:
    assert is_individual_number("123456789018")
    assert not is_individual_number("1234567890180")
