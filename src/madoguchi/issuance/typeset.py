"""Text on every PDF the project prints: which bundled font draws each character, and a mark
for a character none has — never a silent blank (decision 0033).

reportlab draws a run of text in one font and writes glyph 0 (blank) for a character the font
lacks. `draw()` splits a line into runs by coverage, a character at a time, an ideographic
variation selector kept with its base (a variation sequence IPAex defines drawn from IPAex,
one IPAmj defines from the fallback font): the line's font first (IPAex Gothic, or WenQuanYi Micro
Hei for the guidance lines IPAex cannot write), then IPAex Gothic, then Madoguchi Fallback
Mincho (a subset of IPAmj Mincho holding what IPAex lacks — the characters of the residents'
registers, 文字情報基盤, and every variation sequence IPAmj defines; built by
`fonts/build_fallback_font.py`), then WenQuanYi Micro Hei. A character in none of them is
printed as 〓 (geta, the registers' own mark for a character that cannot be written) and
`missing()` names it, so the staff are warned before printing (`unprintable()`). A line whose
characters the line's font has all — nearly every line — is drawn exactly as before, in one
call; the fallback font is read only when a line needs it.

The fonts are registered through `UnicodeTTFont`, which writes the PDF's text layer (ToUnicode)
right for characters beyond U+FFFF (reportlab writes 𠮷 as "₻7") and for variation sequences,
so `pdftotext`, search and copy read what was printed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, TTFont
from reportlab.pdfgen.canvas import Canvas

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "IPAexGothic"
FONT_FILE = FONTS / "ipaexg.ttf"
WIDE_FONT = "WenQuanYiMicroHei"
WIDE_FONT_FILE = FONTS / "wqy-microhei.ttc"
FALLBACK_FONT = "MadoguchiFallbackMincho"
FALLBACK_FONT_FILE = FONTS / "madoguchi-fallback-mincho.ttf"
FALLBACK_SEQUENCES_FILE = FONTS / "madoguchi-fallback-mincho-ivs.txt"
FALLBACK_PRIVATE_START = 0xF0000  # where the fallback font's variation sequences are mapped
FONT_SEQUENCES_FILE = FONTS / "ipaexg-ivs.txt"
FONT_PRIVATE_START = 0x100000  # where IPAex's own variation sequences are mapped
GETA = "〓"
"""Printed for a character no bundled font has (in IPAex Gothic)."""

_SELECTOR = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_CLUSTER = re.compile(f"[^{_SELECTOR}][{_SELECTOR}]*|[{_SELECTOR}]+")


class UnicodeTTFont(TTFont):  # type: ignore[misc]
    """reportlab's TrueType font with a correct ToUnicode map: UTF-16 (surrogate pairs beyond
    U+FFFF) and a private code point the font maps a variation sequence to written back as the
    sequence."""

    text_of: dict[int, str] = {}  # private code point → the text it stands for

    def addObjects(self, doc: Any) -> None:
        state = self.state.get(doc)
        subsets = [list(subset) for subset in state.subsets] if state is not None else []
        super().addObjects(doc)
        for n, subset in enumerate(subsets):
            name = b"".join((SUBSETN(n), b"+", self.face.name, self.face.subfontNameX))
            base = name.decode("pdfdoc")
            stream = doc.idToObject.get("toUnicodeCMap:" + base)
            if stream is not None:
                stream.content = _to_unicode_cmap(base, subset, self.text_of)


def _to_unicode_cmap(name: str, subset: Sequence[int], text_of: dict[int, str]) -> str:
    pairs = [
        f"<{code:02X}> <{text_of.get(value, chr(value)).encode('utf-16-be').hex().upper()}>"
        for code, value in enumerate(subset)
    ]
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({name})",
            f"/Ordering ({name})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{name} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(pairs)} beginbfchar",
            *pairs,
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


def register_fonts() -> None:
    """IPAex Gothic and WenQuanYi Micro Hei (the fallback font only when a line needs it)."""
    registered = pdfmetrics.getRegisteredFontNames()
    if FONT not in registered:
        font = UnicodeTTFont(FONT, str(FONT_FILE))
        # IPAex's own variation sequences (Adobe-Japan1): reportlab reads no format-14 cmap, so
        # each gets a private code point drawing the sequence's glyph (the file is unchanged).
        face = font.face
        for text, (private, gid) in font_sequences().items():
            face.charToGlyph[ord(private)] = gid
            face.charWidths[ord(private)] = face.charWidths.get(ord(text[0]), face.defaultWidth)
        font.text_of = {ord(private): text for text, (private, _) in font_sequences().items()}
        pdfmetrics.registerFont(font)
    if WIDE_FONT not in registered:
        pdfmetrics.registerFont(UnicodeTTFont(WIDE_FONT, str(WIDE_FONT_FILE), subfontIndex=0))


@functools.cache
def sequences() -> dict[str, str]:
    """Each variation sequence the fallback font draws (base + selector) → its private code
    point there."""
    lines = FALLBACK_SEQUENCES_FILE.read_text(encoding="ascii").splitlines()
    return {
        "".join(chr(int(part, 16)) for part in line.split()): chr(FALLBACK_PRIVATE_START + n)
        for n, line in enumerate(lines)
    }


@functools.cache
def font_sequences() -> dict[str, tuple[str, int]]:
    """Each variation sequence IPAex Gothic defines → (its private code point, its glyph id)."""
    rows = [line.split() for line in FONT_SEQUENCES_FILE.read_text(encoding="ascii").splitlines()]
    return {
        chr(int(base, 16)) + chr(int(selector, 16)): (chr(FONT_PRIVATE_START + n), int(gid))
        for n, (base, selector, gid) in enumerate(rows)
    }


@functools.cache
def covered(font: str) -> frozenset[str]:
    """The characters `font` has a glyph for (the fallback font registered on first use)."""
    register_fonts()
    if font == FALLBACK_FONT and font not in pdfmetrics.getRegisteredFontNames():
        fallback = UnicodeTTFont(FALLBACK_FONT, str(FALLBACK_FONT_FILE))
        fallback.text_of = {ord(private): text for text, private in sequences().items()}
        pdfmetrics.registerFont(fallback)
    return frozenset(map(chr, pdfmetrics.getFont(font).face.charToGlyph))


def clusters(text: str) -> list[str]:
    """`text` as characters, each with the variation selectors that follow it."""
    return _CLUSTER.findall(text)


def _chain(font: str) -> tuple[str, ...]:
    return (font, *(f for f in (FONT, FALLBACK_FONT, WIDE_FONT) if f != font))


def _place(cluster: str, chain: Sequence[str]) -> tuple[str, str] | None:
    """(font, what to draw) for one cluster, or None when no bundled font has it."""
    if len(cluster) > 1:
        own = font_sequences().get(cluster[:2])
        if own is not None:
            return FONT, own[0]
        private = sequences().get(cluster[:2])
        if private is not None and private in covered(FALLBACK_FONT):  # registers it
            return FALLBACK_FONT, private
        # A sequence no font defines: its base in the standard form. A selector alone (a
        # line broken between a character and its selector) draws nothing.
        cluster = cluster[0]
        if cluster in _SELECTORS:
            return chain[0], ""
    for font in chain:
        if cluster in covered(font):
            return font, cluster
    return None


_SELECTORS = frozenset(
    [chr(c) for c in range(0xFE00, 0xFE10)] + [chr(c) for c in range(0xE0100, 0xE01F0)]
)


def runs(text: str, font: str = FONT) -> list[tuple[str, str]]:
    """`text` as (font, text) runs to draw one after the other; one run in `font` when it has
    every character (the common case, without looking at the other fonts)."""
    if covered(font).issuperset(text):
        return [(font, text)]
    chain = _chain(font)
    out: list[tuple[str, str]] = []
    for cluster in clusters(text):
        face, drawn = _place(cluster, chain) or (FONT, GETA)
        if out and out[-1][0] == face:
            out[-1] = (face, out[-1][1] + drawn)
        else:
            out.append((face, drawn))
    return out


def missing(text: str, font: str = FONT) -> list[str]:
    """The characters of `text` that no bundled font has (each printed as 〓)."""
    if covered(font).issuperset(text):
        return []
    chain = _chain(font)
    return [cluster for cluster in clusters(text) if _place(cluster, chain) is None]


def string_width(text: str, font: str, size: float) -> float:
    return float(sum(pdfmetrics.stringWidth(part, face, size) for face, part in runs(text, font)))


def draw(canvas: Canvas, x: float, y: float, text: str, *, right: bool = False) -> None:
    """Draw `text` at (x, y) — its right end at x with `right` — in the canvas's current font
    and size, each character in a font that has it (module docstring); the current font is the
    same afterwards."""
    font, size = canvas._fontname, canvas._fontsize
    if covered(font).issuperset(text):
        (canvas.drawRightString if right else canvas.drawString)(x, y, text)
        return
    parts = runs(text, font)
    if right:
        x -= sum(pdfmetrics.stringWidth(part, face, size) for face, part in parts)
    for face, part in parts:
        canvas.setFont(face, size)
        canvas.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, face, size)
    canvas.setFont(font, size)


@dataclass(frozen=True)
class Unprintable:
    """A card whose printed name, reading or address has characters no bundled font has."""

    application_id: str
    notice_number: str
    characters: tuple[str, ...]

    def describe(self) -> str:
        return "、".join(
            f"{c}（{'+'.join(f'U+{ord(p):04X}' for p in c)}）" for c in self.characters
        )


def unprintable(cards: Iterable[Any]) -> list[Unprintable]:
    """The cards whose name, reading or address would print a 〓 — what staff are told before
    printing (the batch message, the `notices` command)."""
    found = []
    for card in cards:
        text = f"{card.full_name}{card.full_name_kana}{card.address}"
        chars = missing(text)
        if chars:
            found.append(
                Unprintable(
                    application_id=card.application_id,
                    notice_number=card.notice_number or "",
                    characters=tuple(dict.fromkeys(chars)),
                )
            )
    return found
