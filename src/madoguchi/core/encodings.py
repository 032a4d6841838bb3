"""The one refusal of an imported CSV saved in UTF-16 or UTF-32.

Every import reads UTF-8 (with or without BOM) or CP932, decided line by line. A file saved as
Excel's "Unicode text" (UTF-16) or in UTF-32 holds every column, but decoded as either it reads
as NUL bytes between letters — which the imports would report as missing columns or an unknown
encoding. `wide_encoding_refusal` names the encoding instead, from the file's first bytes: a
byte order mark, or (without one) a NUL beside each of the first eight ASCII letters.
"""

from __future__ import annotations

import codecs
from typing import Final

__all__ = ["HEAD_BYTES", "wide_encoding_refusal"]

HEAD_BYTES: Final = 16
"""How many of the file's first bytes `wide_encoding_refusal` needs."""

_MARKS: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16's: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_NULS: Final = b"\x00" * (HEAD_BYTES // 2)


def wide_encoding_refusal(head: bytes) -> str | None:
    """The sentence refusing a file whose first bytes `head` show UTF-16 or UTF-32, else None."""
    name = next((name for mark, name in _MARKS if head.startswith(mark)), None)
    wide = len(head) >= HEAD_BYTES and _NULS in (head[1:HEAD_BYTES:2], head[0:HEAD_BYTES:2])
    if name is None and wide:
        name = "UTF-16"
    if name is None:
        return None
    return (
        f"1行目: ファイルが {name} で保存されています。UTF-8 か Shift_JIS（CP932）の CSV で"
        "保存し直してください（Excel では「CSV UTF-8（コンマ区切り）」）。"
        "ファイル全体を取り込みませんでした。"
    )
