"""Validators shared by models and forms; messages in Japanese."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from madoguchi.core.individual_number import INDIVIDUAL_NUMBER_REFUSAL, contains_individual_number


def municipality_code_check_digit(first_five: str) -> int:
    """Check digit of a 全国地方公共団体コード: weights 6,5,4,3,2, then (11 − sum mod 11) mod 10."""
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def validate_municipality_code(value: str) -> None:
    """Six digits whose last is the check digit of the first five."""
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise ValidationError(
            gettext("地方公共団体コードは6桁の数字で入力してください。"), code="format"
        )
    if municipality_code_check_digit(value[:5]) != int(value[5]):
        raise ValidationError(
            gettext("地方公共団体コードの検査数字（6桁目）が正しくありません。"),
            code="check_digit",
        )


def validate_no_individual_number(value: str) -> None:
    """Refuse any text that carries a 12-digit Individual Number."""
    if value and contains_individual_number(str(value)):
        raise ValidationError(INDIVIDUAL_NUMBER_REFUSAL, code="individual_number")


def validate_phone_number(value: str) -> None:
    """A Japanese phone number as printed: 0 then 9 or 10 more digits, hyphens allowed."""
    digits = value.replace("-", "")
    if not (digits.isascii() and digits.isdigit() and digits.startswith("0")) or not (
        10 <= len(digits) <= 11
    ):
        raise ValidationError(
            gettext("電話番号は0から始まる10桁または11桁の数字（ハイフン可）で入力してください。"),
            code="phone",
        )
