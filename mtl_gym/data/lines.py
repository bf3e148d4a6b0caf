"""Line-level reading shared by every text reader.

Lines are split on ``b"\\n"`` only, never with ``str.splitlines()``: copies of the FDU-MTL data
hold cp1252 bytes such as 0x85, which ``splitlines`` would treat as a line break after a
latin-1 decode. Each line is decoded on its own, UTF-8 first with a cp1252 fallback, so one
odd line neither breaks nor re-encodes the rest of the file.

A file in UTF-16 or UTF-32 (with or without a byte-order mark) is refused as a whole, naming the
encoding: decoding it line by line would yield NUL-laden text. A malformed line is handled by the
:class:`Lines` policy: a :class:`DataError` naming the file and line (``bad_lines="error"``), or
skipped and counted per reason (``bad_lines="skip"``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError

BOM = "\ufeff"
BAD_LINES = ("error", "skip")
SKIPPED = "skipped_"
"""Prefix of the per-reason counts of skipped lines, e.g. ``skipped_empty_text``."""

# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe", "UTF-16LE"),
    (b"\xfe\xff", "UTF-16BE"),
)


class BadLine(Exception):
    """A malformed line: ``reason`` keys its skip count, ``message`` says what is wrong."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def check_bad_lines(mode: str) -> str:
    if mode not in BAD_LINES:
        raise ValueError(f"bad_lines must be one of {BAD_LINES}, got {mode!r}")
    return mode


@dataclass
class Lines:
    """What one task's readers count, and what they do with a malformed line."""

    bad_lines: str = "error"
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self):
        check_bad_lines(self.bad_lines)

    def bad(self, err: BadLine, path: Path, line: int) -> None:
        """Raise a DataError at ``path:line`` ("error"), or count the skipped line ("skip")."""
        if self.bad_lines == "error":
            raise DataError(f'{err.message} (bad_lines="skip" skips and counts such lines)', path, line)
        self.counts[SKIPPED + err.reason] += 1


def skipped_counts(counts: dict) -> dict[str, int]:
    """The per-reason counts of skipped lines, keyed by reason."""
    return {k.removeprefix(SKIPPED): v for k, v in sorted(counts.items()) if k.startswith(SKIPPED)}


def check_encoding(data: bytes, path: Path) -> None:
    """Refuse UTF-16/UTF-32 data, which per-line UTF-8/cp1252 decoding would silently garble."""
    for mark, encoding in WIDE_BOMS:
        if data.startswith(mark):
            raise DataError(
                f"file is {encoding} (byte-order mark {mark.hex(' ')}), not UTF-8; convert it to UTF-8, "
                f"e.g. iconv -f {encoding} -t UTF-8",
                path,
            )
    sample = data[:4096]
    nuls = sample.count(0)
    if len(sample) < 4 or nuls * 4 < len(sample):
        return
    encoding = None
    if nuls * 10 >= len(sample) * 6:  # ASCII in UTF-32: three NULs in every four bytes
        units = sample[0::4]
        encoding = "UTF-32LE" if units.count(0) * 2 < len(units) else "UTF-32BE"
    else:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > 2 * even:
            encoding = "UTF-16LE"
        elif even > 2 * odd:
            encoding = "UTF-16BE"
    if encoding:
        raise DataError(
            f"file looks like {encoding} without a byte-order mark ({nuls} of its first {len(sample)} "
            f"bytes are NUL), not UTF-8; convert it to UTF-8, e.g. iconv -f {encoding} -t UTF-8",
            path,
        )


def read_lines(path: Path, lines: Lines) -> Iterator[tuple[int, str | None]]:
    """Yield ``(line_number, text)`` for every line of ``path``, 1-based.

    ``text`` is None for a line skipped under ``bad_lines="skip"`` (already counted), so that a
    reader of multi-line records can drop the record it belongs to. ``counts["cp1252_lines"]``
    counts the lines that needed the fallback. The empty piece after a final newline is not a
    line. A stray UTF-8 byte-order mark is removed from any line and counted; a NUL byte is a
    bad line.
    """
    counts = lines.counts
    data = path.read_bytes()
    check_encoding(data, path)
    if not data.strip():
        raise DataError("file is empty", path)
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    for number, raw in enumerate(pieces, start=1):
        raw = raw.removesuffix(b"\r")
        try:
            text = _decode(raw, counts)
        except BadLine as err:
            lines.bad(err, path, number)
            yield number, None
            continue
        if BOM in text:
            text = text.replace(BOM, "")
            counts["bom_removed"] += 1
        yield number, text


def _decode(raw: bytes, counts: Counter) -> str:
    if b"\x00" in raw:
        raise BadLine("nul_byte", f"NUL byte at column {raw.index(0) + 1}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as err:
        raise BadLine(
            "undecodable",
            f"undecodable byte 0x{raw[err.start]:02x} at column {err.start + 1} (neither UTF-8 nor cp1252)",
        ) from None
    counts["cp1252_lines"] += 1
    return text


def require_text(text: str) -> str:
    """The stripped text of an example; an empty one is a bad line, never a zero-length input."""
    text = text.strip()
    if not text:
        raise BadLine("empty_text", "empty text")
    return text


def strip_label(label: str, counts: Counter) -> str:
    """A label without surrounding whitespace; each label that had some is counted."""
    stripped = label.strip()
    if stripped != label:
        counts["labels_stripped"] += 1
    return stripped


def label_text_lines(path: Path, lines: Lines) -> Iterator[tuple[str, str, int]]:
    """``(label, text, line_number)`` of a ``label<TAB>text`` file; blank lines are counted and skipped."""
    for number, line in read_lines(path, lines):
        if line is None:
            continue
        if not line.strip():
            lines.counts["blank_lines"] += 1
            continue
        columns = line.split("\t")
        if len(columns) != 2:
            lines.bad(
                BadLine("columns", f"expected 2 tab-separated columns (label, text), found {len(columns)}"),
                path,
                number,
            )
            continue
        yield columns[0], columns[1], number
