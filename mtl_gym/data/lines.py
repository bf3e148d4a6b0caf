"""Line-level reading shared by every text reader.

Lines are split on ``b"\\n"`` only, never with ``str.splitlines()``: copies of the FDU-MTL data
hold cp1252 bytes such as 0x85, which ``splitlines`` would treat as a line break after a
latin-1 decode. Each line is decoded on its own, UTF-8 first with a cp1252 fallback, so one
odd line neither breaks nor re-encodes the rest of the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .errors import DataError

BOM = "\ufeff"


def read_lines(path: Path, counts: Counter) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every line of ``path``, 1-based.

    ``counts["cp1252_lines"]`` counts the lines that needed the fallback. The empty piece after
    a final newline is not a line. A stray byte-order mark is removed from any line.
    """
    data = path.read_bytes()
    if not data.strip():
        raise DataError("file is empty", path)
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    for number, raw in enumerate(pieces, start=1):
        raw = raw.removesuffix(b"\r")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError as err:
                raise DataError(
                    f"undecodable byte 0x{raw[err.start]:02x} at column {err.start + 1} "
                    "(neither UTF-8 nor cp1252)",
                    path,
                    number,
                ) from None
            counts["cp1252_lines"] += 1
        if BOM in text:
            text = text.replace(BOM, "")
            counts["bom_removed"] += 1
        yield number, text


def require_text(text: str, path: Path, line: int) -> str:
    """The stripped text of an example; an empty one is an error, never a silent zero-length input."""
    text = text.strip()
    if not text:
        raise DataError("empty text", path, line)
    return text


def label_text_lines(path: Path, counts: Counter) -> Iterator[tuple[str, str, int]]:
    """``(label, text, line_number)`` of a ``label<TAB>text`` file; blank lines are counted and skipped."""
    for number, line in read_lines(path, counts):
        if not line.strip():
            counts["blank_lines"] += 1
            continue
        columns = line.split("\t")
        if len(columns) != 2:
            raise DataError(
                f"expected 2 tab-separated columns (label, text), found {len(columns)}", path, number
            )
        yield columns[0], columns[1], number
