"""Detection of the 12-digit Individual Number (マイナンバー), so that no input can carry one in.

madoguchi never stores an Individual Number, nor any hash or encoding of one (invariant 2).
This module exists only to *reject* such input; it is the one detector every text input goes
through (forms, the JSON API's schemas, the admin, imports).

What counts as "a number" here: digits (ASCII, full-width or any other Unicode decimal digit)
in groups joined by separators (`core.text.is_separator`): any whitespace (U+3000 included),
dots, middle dots, underscores, hyphens, every Unicode dash (category Pd: U+2010–2015, U+FF0D,
U+301C …), the minus sign U+2212, the long-vowel mark U+30FC (typed as a dash in Japanese) and
invisible format characters (zero-width space, soft hyphen …). Any run of consecutive whole
groups holding exactly 12 digits whose last digit is the check digit of the first 11 is an
Individual Number. A single group of more than 12 digits without any separator (a 23-digit
J-LIS application id) is not.

Nothing here translates at import time: the refusal is a lazy string, so importing this module
(the register reader in a benchmark, say) needs no configured Django.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

from django.utils.translation import gettext_lazy

from madoguchi.core.text import is_separator

DIGITS = 12


@functools.lru_cache(maxsize=1024)
def _only_separators(text: str) -> bool:
    """Kept per text: the gaps between digit groups are mostly the same few (a comma, a
    hyphen, a space), asked again for every line of an import."""
    return all(is_separator(char) for char in text)


_DIGIT_GROUP = re.compile(r"\d+")
_NOT_DIGITS = re.compile(r"\D+")


def individual_number_check_digit(first_eleven: str) -> int:
    """Check digit of an Individual Number from its first 11 digits.

    The formula of 行政手続における特定の個人を識別するための番号の利用等に関する法律施行令
    第8条 (the 総務省令 on the check digit): with P_n the n-th digit counted from the right
    of the 11 (n = 1 … 11) and Q_n = n + 1 for n ≤ 6, n − 5 for n ≥ 7, the check digit is
    11 − (Σ P_n × Q_n mod 11), or 0 when that remainder is 0 or 1.
    """
    if len(first_eleven) != DIGITS - 1 or not first_eleven.isascii() or not first_eleven.isdigit():
        raise ValueError("11 digits expected")
    total = 0
    for n in range(1, 12):
        p = int(first_eleven[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def _ascii_digits(text: str) -> str:
    if text.isascii():  # the only ASCII decimal digits are 0–9
        return text
    return "".join(str(unicodedata.digit(ch)) for ch in text)


def is_individual_number(text: str) -> bool:
    """True when `text` is, apart from separators around and between digits, exactly 12 digits
    with a valid check digit (full-width and other Unicode digits allowed)."""
    normalized = unicodedata.normalize("NFKC", text)
    digits = "".join(_DIGIT_GROUP.findall(normalized))
    if len(digits) != DIGITS or not _only_separators(_DIGIT_GROUP.sub("", normalized)):
        return False
    return _valid(_ascii_digits(digits))


def _valid(digits: str) -> bool:
    return individual_number_check_digit(digits[:11]) == int(digits[11])


def _runs(normalized: str) -> Iterator[list[str]]:
    """Runs of digit groups joined only by separators, each as its list of groups."""
    run: list[str] = []
    previous_end = -1
    for match in _DIGIT_GROUP.finditer(normalized):
        gap = normalized[previous_end : match.start()] if run else ""
        if run and not _only_separators(gap):
            yield run
            run = []
        run.append(_ascii_digits(match.group()))
        previous_end = match.end()
    if run:
        yield run


def find_individual_number(text: str) -> bool:
    """True when `text` holds an Individual Number anywhere (see the module docstring)."""
    normalized = unicodedata.normalize("NFKC", text)
    if len(_NOT_DIGITS.sub("", normalized)) < DIGITS:
        return False  # fewer than 12 digits in all: no run can hold 12
    for groups in _runs(normalized):
        if sum(len(g) for g in groups) < DIGITS:
            continue
        for start in range(len(groups)):
            collected = ""
            for group in groups[start:]:
                collected += group
                if len(collected) >= DIGITS:
                    break
            if len(collected) == DIGITS and _valid(collected):
                return True
    return False


def contains_individual_number(text: str) -> bool:
    """True when `text` holds an Individual Number anywhere, however its digits are separated."""
    if not text:
        return False
    return find_individual_number(str(text))


def gettext_noop(message: str) -> str:
    """Marks a msgid for makemessages (which finds calls by this name) without Django's
    `gettext_noop`, which reads settings and so fails when nothing configured them."""
    return message


INDIVIDUAL_NUMBER_REFUSAL_TEXT = gettext_noop(
    "個人番号（マイナンバー）と思われる12桁の番号が含まれています。"
    "この窓口では個人番号をお預かりしません。入力内容をご確認ください。"
)
"""The refusal's msgid, untranslated (Japanese): for reports that are Japanese anyway and may be
written without Django configured (the register reader)."""

INDIVIDUAL_NUMBER_REFUSAL = gettext_lazy(INDIVIDUAL_NUMBER_REFUSAL_TEXT)
"""The refusal in the active language, translated when it is used (a lazy string)."""
