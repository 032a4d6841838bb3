"""What separates characters in what people type: the one definition the identifier
normalisers (notice numbers, booking codes) and the Individual Number detector share.

Pure Python (no Django), so the register reader can use it without configured settings.
"""

from __future__ import annotations

import unicodedata

_EXTRA_SEPARATORS = frozenset(
    "._\u00b7\u2022\u2027\u30fb\uff65"  # dots and middle dots (NFKC maps the full-width ones)
    "\u2212\u2043\u02d7\u2796\u30fc\uff70"  # minus, hyphen bullet, modifier minus, long-vowel marks
    "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"  # soft hyphen and zero-width characters
)


def is_separator(char: str) -> bool:
    """True for a character people put between the parts of a number: any whitespace (U+3000
    included), every dash (Unicode category Pd), the minus sign, dots and middle dots,
    underscores, the long-vowel mark ー typed as a dash, and invisible format characters."""
    if char.isspace() or char in _EXTRA_SEPARATORS:
        return True
    return unicodedata.category(char) in ("Pd", "Zs", "Cf")


def compact(text: str) -> str:
    """`text` in NFKC (full-width letters and digits to ASCII), separators dropped, upper case:
    the first step of every identifier's normaliser."""
    normalized = unicodedata.normalize("NFKC", text or "")
    return "".join(char for char in normalized if not is_separator(char)).upper()
