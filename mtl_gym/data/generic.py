"""Generic text classification: one folder per task, each with ``train``, optional ``dev``, and
``test`` files in one of three formats.

- ``.tsv``: ``label<TAB>text`` per line, no header.
- ``.csv``: a header row naming at least ``label`` and ``text`` columns.
- ``.jsonl``: one object per line with ``label`` and ``text`` keys.

Labels are names (any string, surrounding whitespace stripped and counted); their order is the
sorted set of train labels. A task without a dev file holds out the last ``dev_size`` train
examples. Task folder names must be safe names (:data:`~mtl_gym.data.task.SAFE_NAME`), so
``tasks=`` cannot reach outside the data root.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError
from .lines import BadLine, Lines, check_bad_lines, label_text_lines, read_lines, require_text, strip_label
from .task import RawSplit, RawTask, TaskKind, check_task_name, drop_dev_overlap, hold_out_dev

FORMATS = ("tsv", "csv", "jsonl")


@dataclass(frozen=True)
class FolderConfig:
    """Options of the generic folder reader."""

    tasks: tuple[str, ...] | None = None
    """Task folders to load, in this order; every sub-folder holding a train file when None."""
    dev_size: int = 200
    """Examples held out from the end of train when a task has no dev file."""
    dedupe_dev: bool = False
    """Drop train examples whose text also appears in dev (counted as dropped_dev_overlap)."""
    bad_lines: str = "error"
    """A malformed line stops the reader ("error") or is skipped and counted per reason ("skip")."""

    def __post_init__(self):
        check_bad_lines(self.bad_lines)


def read_folder(root: Path, config: FolderConfig = FolderConfig()) -> list[RawTask]:
    root = Path(root)
    if not root.is_dir():
        raise DataError("not a folder", root)
    names = (
        list(config.tasks)
        if config.tasks
        else sorted(p.name for p in root.iterdir() if p.is_dir() and _find(p, "train") is not None)
    )
    if not names:
        raise DataError("no task folders with a train.tsv, train.csv or train.jsonl file", root)
    for name in names:
        check_task_name(name, root)
    return [read_task(root / name, config) for name in names]


def read_task(folder: Path, config: FolderConfig) -> RawTask:
    lines = Lines(config.bad_lines)
    rows = {}
    for split in ("train", "dev", "test"):
        path = _find(folder, split)
        if path is None:
            if split == "dev":
                continue
            raise DataError(f"task {folder.name!r} has no {split} file ({', '.join(FORMATS)})", folder)
        rows[split] = (path, _read_rows(path, lines))
    train_path, train_rows = rows["train"]
    label_names = sorted({label for label, _, _ in train_rows})
    index = {name: i for i, name in enumerate(label_names)}
    splits = {}
    for split, (path, split_rows) in rows.items():
        texts, labels = [], []
        for label, text, line in split_rows:
            if label not in index:
                lines.bad(
                    BadLine("unknown_label", f"unknown label {label!r}; train labels are {label_names}"),
                    path,
                    line,
                )
                continue
            texts.append(text)
            labels.append(index[label])
        splits[split] = RawSplit(texts, labels, str(path))
    if "dev" not in splits:
        splits["train"], splits["dev"] = hold_out_dev(splits["train"], config.dev_size, lines.counts)
    if config.dedupe_dev:
        splits["train"] = drop_dev_overlap(splits["train"], splits["dev"], lines.counts)
    return RawTask(folder.name, TaskKind.CLASSIFICATION, label_names, splits, lines.counts)


def _find(folder: Path, split: str) -> Path | None:
    found = [folder / f"{split}.{ext}" for ext in FORMATS if (folder / f"{split}.{ext}").is_file()]
    if len(found) > 1:
        raise DataError(f"more than one {split} file: {[p.name for p in found]}", folder)
    return found[0] if found else None


def _read_rows(path: Path, lines: Lines) -> list[tuple[str, str, int]]:
    """``(label, text, line)`` triples of one file."""
    reader = {"tsv": label_text_lines, "csv": _csv_rows, "jsonl": _jsonl_rows}[path.suffix[1:]]
    rows = []
    for label, text, line in reader(path, lines):
        try:
            if not label.strip():
                raise BadLine("empty_label", "empty label")
            rows.append((strip_label(label, lines.counts), require_text(text), line))
        except BadLine as err:
            lines.bad(err, path, line)
    if not rows:
        raise DataError("file holds no examples", path)
    return rows


def _csv_rows(path: Path, lines: Lines):
    numbered = read_lines(path, lines)
    number, header_line = next(numbered)
    if header_line is None:
        raise DataError("the CSV header line is malformed", path, number)
    header = next(csv.reader([header_line]))
    missing = {"label", "text"} - set(header)
    if missing:
        raise DataError(f"CSV header {header} lacks column(s) {sorted(missing)}", path, 1)
    label_at, text_at = header.index("label"), header.index("text")
    # A quoted CSV field may span lines, so parse the decoded lines as one stream, keeping numbers.
    # Lines skipped as bad (already counted) are left out of the stream.
    numbered = [(n, text) for n, text in numbered if text is not None]
    reader = csv.reader(text for _, text in numbered)
    for row in reader:
        number = numbered[reader.line_num - 1][0]
        if not row:
            lines.counts["blank_lines"] += 1
            continue
        if len(row) != len(header):
            lines.bad(
                BadLine("columns", f"expected {len(header)} CSV columns, found {len(row)}"), path, number
            )
            continue
        yield row[label_at], row[text_at], number


def _jsonl_rows(path: Path, lines: Lines):
    for number, line in read_lines(path, lines):
        if line is None:
            continue
        if not line.strip():
            lines.counts["blank_lines"] += 1
            continue
        try:
            label, text = _json_record(line)
        except BadLine as err:
            lines.bad(err, path, number)
            continue
        yield label, text, number


def _json_record(line: str) -> tuple[str, str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise BadLine("invalid_json", f"invalid JSON: {err.msg}") from None
    if not isinstance(record, dict) or "label" not in record or "text" not in record:
        raise BadLine("missing_keys", "expected an object with 'label' and 'text' keys")
    if not isinstance(record["text"], str):
        raise BadLine("bad_text", f"text must be a string, got {record['text']!r}")
    return str(record["label"]), record["text"]
