"""Build `madoguchi-fallback-mincho.ttf`, the notices' fallback font, from IPAmj Mincho.

    .venv/bin/python src/madoguchi/issuance/fonts/build_fallback_font.py ipamjm.ttf
    .venv/bin/python src/madoguchi/issuance/fonts/build_fallback_font.py --primary-sequences

IPAmj Mincho 005.01 (IPA Font License v1.0, Debian's `fonts-ipamj-mincho`; `apt-get download
fonts-ipamj-mincho` and `dpkg-deb -x` give `usr/share/fonts/truetype/ipamj/ipamjm.ttf`) holds the
characters of the residents' registers (文字情報基盤, MJ). The derived font keeps only what IPAex
Gothic (`ipaexg.ttf`, beside this file) cannot write — the characters IPAex has no glyph for, and
every ideographic variation sequence (base + IVS) IPAmj defines, with the glyph of its base —
without hinting (the notices are printed, not shown on screens at small sizes). reportlab reads
one cmap and knows no variation sequences, so each sequence also gets a code point of its own in
Supplementary Private Use Area-A (U+F0000 on, in the order of the lines of
`madoguchi-fallback-mincho-ivs.txt`, one `BASE SELECTOR` pair of hex numbers a line), which
`issuance.typeset` draws in its place and writes back as the base and its selector into the
PDF's text layer.

The IPA Font License (Article 3.1) forbids the original's name in a derived font's names and file
name: the derived font is named "Madoguchi Fallback Mincho"; its copyright notice and licence
stay. Needs fontTools (a development dependency).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

HERE = Path(__file__).resolve().parent
PRIMARY = HERE / "ipaexg.ttf"
OUT = HERE / "madoguchi-fallback-mincho.ttf"
SEQUENCES = HERE / "madoguchi-fallback-mincho-ivs.txt"
PRIMARY_SEQUENCES = HERE / "ipaexg-ivs.txt"
FAMILY = "Madoguchi Fallback Mincho"
POSTSCRIPT = "MadoguchiFallbackMincho"
PRIVATE_START = 0xF0000


def build(original: Path) -> None:
    font = TTFont(original)
    primary = set(TTFont(PRIMARY, lazy=True).getBestCmap())
    cmap = font.getBestCmap()
    variations = next(t for t in font["cmap"].tables if t.format == 14).uvsDict
    sequences = sorted(
        (base, selector, glyph or cmap[base])
        for selector, entries in variations.items()
        for base, glyph in entries
        if base in cmap
    )
    keep = {code for code in cmap if code not in primary} | {base for base, _, _ in sequences}
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=keep, glyphs={glyph for _, _, glyph in sequences})
    subsetter.subset(font)
    private = {PRIVATE_START + n: glyph for n, (_, _, glyph) in enumerate(sequences)}
    full = CmapSubtable.newSubtable(12)
    full.platformID, full.platEncID, full.language = 3, 10, 0
    full.cmap = {**font.getBestCmap(), **private}
    font["cmap"].tables = [t for t in font["cmap"].tables if t.format == 14] + [full]
    _rename(font)
    font.save(OUT)
    SEQUENCES.write_text(
        "".join(f"{base:04X} {selector:04X}\n" for base, selector, _ in sequences),
        encoding="ascii",
    )
    print(f"{OUT.name}: {len(keep)} characters, {len(sequences)} variation sequences")
    write_primary_sequences()


def write_primary_sequences() -> None:
    """`ipaexg-ivs.txt`: the variation sequences IPAex Gothic itself defines (Adobe-Japan1, e.g.
    葛 U+845B U+E0100), `BASE SELECTOR GLYPH-ID` a line — reportlab cannot read them from the
    font, so `issuance.typeset` gives each a private code point of the font (U+100000 on, in
    this order) drawing that glyph. The font file is not changed."""
    font = TTFont(PRIMARY, lazy=True)
    cmap = font.getBestCmap()
    variations = next(t for t in font["cmap"].tables if t.format == 14).uvsDict
    rows = sorted(
        (base, selector, font.getGlyphID(glyph or cmap[base]))
        for selector, entries in variations.items()
        for base, glyph in entries
        if base in cmap
    )
    PRIMARY_SEQUENCES.write_text(
        "".join(f"{base:04X} {selector:04X} {gid}\n" for base, selector, gid in rows),
        encoding="ascii",
    )


def _rename(font: TTFont) -> None:
    """Every name record naming the font gets the derived font's name (IPA licence 3.1(4))."""
    names = {1: FAMILY, 3: f"{POSTSCRIPT};{font['head'].fontRevision:.2f}", 4: FAMILY}
    names |= {6: POSTSCRIPT, 16: FAMILY, 17: "Regular"}
    table = font["name"]
    for record in list(table.names):
        if record.nameID in names:
            table.removeNames(nameID=record.nameID)
    for name_id, text in names.items():
        table.setName(text, name_id, 3, 1, 0x409)
    for record in table.names:
        assert "IPA" not in record.toUnicode() or record.nameID in (0, 7, 13, 14), record


if __name__ == "__main__":
    if sys.argv[1:] == ["--primary-sequences"]:
        write_primary_sequences()
    else:
        build(Path(sys.argv[1]))
