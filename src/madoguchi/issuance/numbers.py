"""Booking numbers printed on the issuance notice: 3 letters/digits + 6 digits (`K7Q-482913`).

Drawn with `secrets` (unguessable, non-sequential). The prefix avoids the look-alikes O/0 and
I/1 and always holds at least one letter, so a number is never all digits — and, at 9
characters, never a 12-digit Individual Number. Stored without the hyphen, upper case.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

PREFIX_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_LETTERS = frozenset(c for c in PREFIX_ALPHABET if c.isalpha())
_SHAPE = re.compile(r"^[2-9A-HJ-NP-Z]{3}[0-9]{6}$")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー]")


def generate_notice_number() -> str:
    """A fresh random booking number in stored form (`K7Q482913`); uniqueness is the caller's."""
    while True:
        prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(3))
        if any(c in _LETTERS for c in prefix):
            return f"{prefix}{secrets.randbelow(1_000_000):06d}"


def normalize_notice_number(text: str) -> str:
    """What a resident typed → stored form: full-width to ASCII, hyphens and spaces dropped,
    upper case. Returns "" when the result is not a well-formed booking number."""
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "")).upper()
    return compact if _SHAPE.fullmatch(compact) else ""


def format_notice_number(number: str) -> str:
    """Stored form → printed form with the hyphen (`K7Q-482913`)."""
    return f"{number[:3]}-{number[3:]}" if number else ""
