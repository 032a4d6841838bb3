"""The one refusal of an imported CSV saved in UTF-16 or UTF-32.

Every import reads UTF-8 (with or without BOM) or CP932, decided line by line. A file saved as
Excel's "Unicode text" (UTF-16) or in UTF-32 holds every column, but decoded as either it reads
as NUL bytes between letters — which the imports would report as missing columns or an unknown
encoding. `wide_encoding_refusal` names the encoding instead, from the file's first bytes: a
byte order mark, or (without one) a NUL beside each of the first eight ASCII letters.

A file whose lines end in CR alone (Excel for Mac's "CSV (Macintosh)", old Mac editors) is
one endless line to a reader that splits at LF: `lines_ending_in_lf` (for an import that
iterates a stream's lines), `with_line_feeds` (one that reads blocks) and `line_feeds` (bytes
in memory) give every import the same file with LF line ends instead.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterable, Iterator
from typing import IO, Final

__all__ = [
    "HEAD_BYTES",
    "line_feeds",
    "lines_ending_in_lf",
    "wide_encoding_refusal",
    "with_line_feeds",
]

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


_LOOK_AHEAD: Final = 1 << 16
"""How much of a file's start decides whether its lines end in CR alone."""


def _cr_only(head: bytes) -> bool:
    """Whether `head` has CR line ends and no LF at all (the Macintosh CSV). Neither UTF-8's
    nor CP932's multi-byte characters hold the byte 0x0D, so each CR ends a line."""
    return b"\r" in head and b"\n" not in head


def line_feeds(data: bytes) -> bytes:
    """`data` with each CR turned into LF when its lines end in CR alone; else unchanged."""
    return data.replace(b"\r", b"\n") if _cr_only(data[:_LOOK_AHEAD]) else data


class _Replayed(io.RawIOBase):
    """The already-read `head`, then the rest of `stream`; CRs turned into LFs if `convert`."""

    def __init__(self, head: bytes, stream: IO[bytes], *, convert: bool) -> None:
        super().__init__()
        self._head = head
        self._stream = stream
        self._convert = convert

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        if self._head:
            chunk, self._head = self._head[:want], self._head[want:]
        else:
            chunk = self._stream.read(want)
        if self._convert:
            chunk = chunk.replace(b"\r", b"\n")
        buffer[: len(chunk)] = chunk
        return len(chunk)


def with_line_feeds(stream: IO[bytes]) -> IO[bytes]:
    """`stream` read with LF line ends (`line_feeds`), decided from its first 64 KiB; read as
    it comes, never whole."""
    head = stream.read(_LOOK_AHEAD)
    return io.BufferedReader(_Replayed(head, stream, convert=_cr_only(head)))


def lines_ending_in_lf(stream: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a binary stream iterated at LF, as they come; a piece without LF holding a
    CR (a file whose lines end in CR alone comes as one such piece — the stream cannot split
    it) is split at its CRs, each line given an LF but a last one that had no line end."""
    for raw in stream:
        if b"\n" in raw or b"\r" not in raw:
            yield raw
            continue
        *ended, last = raw.split(b"\r")
        for line in ended:
            yield line + b"\n"
        if last:
            yield last
