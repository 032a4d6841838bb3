"""Detection of the 12-digit Individual Number (マイナンバー), so that no input can carry one in.

madoguchi never stores an Individual Number, nor any hash or encoding of one (DESIGN.md
invariant 2). These helpers exist only to *reject* such input.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext_noop

_TWELVE_DIGITS = re.compile(r"(?<!\d)(\d{4})[\s\-]?(\d{4})[\s\-]?(\d{4})(?!\d)")


def individual_number_check_digit(first_eleven: str) -> int:
    """Check digit of an Individual Number from its first 11 digits (the published formula)."""
    if len(first_eleven) != 11 or not first_eleven.isdigit():
        raise ValueError("11 digits expected")
    total = 0
    for n in range(1, 12):
        p = int(first_eleven[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_individual_number(text: str) -> bool:
    """True when `text` is exactly 12 digits (full-width allowed) with a valid check digit."""
    digits = unicodedata.normalize("NFKC", text).strip()
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    return individual_number_check_digit(digits[:11]) == int(digits[11])


def contains_individual_number(text: str) -> bool:
    """True when `text` holds a 12-digit run (optionally grouped 4-4-4) with a valid check digit."""
    normalized = unicodedata.normalize("NFKC", text)
    for match in _TWELVE_DIGITS.finditer(normalized):
        if is_individual_number("".join(match.groups())):
            return True
    return False


INDIVIDUAL_NUMBER_REFUSAL = gettext_noop(
    "個人番号（マイナンバー）と思われる12桁の番号が含まれています。"
    "この窓口では個人番号をお預かりしません。入力内容をご確認ください。"
)
