"""Booking numbers printed on the issuance notice: 3 letters/digits + 6 digits (`K7Q-482913`).

Drawn with `secrets` (unguessable, non-sequential). The prefix avoids the look-alikes O/0 and
I/1 and always holds at least one letter, so a number is never all digits — and, at 9
characters, never a 12-digit Individual Number. Stored without the hyphen, upper case.
"""

from __future__ import annotations

import re
import secrets

from madoguchi.core.text import compact

PREFIX_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_LETTERS = frozenset(c for c in PREFIX_ALPHABET if c.isalpha())
_SHAPE = re.compile(r"^[2-9A-HJ-NP-Z]{3}[0-9]{6}$")


def generate_notice_number() -> str:
    """A fresh random booking number in stored form (`K7Q482913`); uniqueness is the caller's."""
    while True:
        prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(3))
        if any(c in _LETTERS for c in prefix):
            return f"{prefix}{secrets.randbelow(1_000_000):06d}"


def normalize_notice_number(text: str) -> str:
    """What a resident typed → stored form: full-width to ASCII, separators (spaces, any dash,
    dots …: `core.text.is_separator`) dropped, upper case; "" when the result is not a
    well-formed booking number. THE normaliser of notice numbers: the residents' forms, the
    API, the staff search and the rate-limit keys all use it, so every spelling of one number
    (`KGD-597843`, `KGD59-78-43`, `kgd 597843`, full-width) is one number and one counter."""
    compacted = compact(text)
    return compacted if _SHAPE.fullmatch(compacted) else ""


def format_notice_number(number: str) -> str:
    """Stored form → printed form with the hyphen (`K7Q-482913`)."""
    return f"{number[:3]}-{number[3:]}" if number else ""
