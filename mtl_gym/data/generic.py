"""Generic text classification: one folder per task, each with ``train``, optional ``dev``, and
``test`` files in one of three formats.

- ``.tsv``: ``label<TAB>text`` per line, no header.
- ``.csv``: a header row naming at least ``label`` and ``text`` columns.
- ``.jsonl``: one object per line with ``label`` and ``text`` keys.

Labels are names (any string); their order is the sorted set of train labels. A task without a
dev file holds out the last ``dev_size`` train examples.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError
from .lines import label_text_lines, read_lines, require_text
from .task import RawSplit, RawTask, TaskKind, hold_out_dev

FORMATS = ("tsv", "csv", "jsonl")


@dataclass(frozen=True)
class FolderConfig:
    """Options of the generic folder reader."""

    tasks: tuple[str, ...] | None = None
    """Task folders to load, in this order; every sub-folder holding a train file when None."""
    dev_size: int = 200
    """Examples held out from the end of train when a task has no dev file."""


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
    return [read_task(root / name, config) for name in names]


def read_task(folder: Path, config: FolderConfig) -> RawTask:
    counts: Counter = Counter()
    rows = {}
    for split in ("train", "dev", "test"):
        path = _find(folder, split)
        if path is None:
            if split == "dev":
                continue
            raise DataError(f"task {folder.name!r} has no {split} file ({', '.join(FORMATS)})", folder)
        rows[split] = (path, _read_rows(path, counts))
    train_path, train_rows = rows["train"]
    label_names = sorted({label for label, _, _ in train_rows})
    index = {name: i for i, name in enumerate(label_names)}
    splits = {}
    for split, (path, split_rows) in rows.items():
        labels = []
        for label, _, line in split_rows:
            if label not in index:
                raise DataError(f"unknown label {label!r}; train labels are {label_names}", path, line)
            labels.append(index[label])
        splits[split] = RawSplit([text for _, text, _ in split_rows], labels, str(path))
    if "dev" not in splits:
        splits["train"], splits["dev"] = hold_out_dev(splits["train"], config.dev_size)
    return RawTask(folder.name, TaskKind.CLASSIFICATION, label_names, splits, counts)


def _find(folder: Path, split: str) -> Path | None:
    found = [folder / f"{split}.{ext}" for ext in FORMATS if (folder / f"{split}.{ext}").is_file()]
    if len(found) > 1:
        raise DataError(f"more than one {split} file: {[p.name for p in found]}", folder)
    return found[0] if found else None


def _read_rows(path: Path, counts: Counter) -> list[tuple[str, str, int]]:
    """``(label, text, line)`` triples of one file."""
    reader = {"tsv": label_text_lines, "csv": _csv_rows, "jsonl": _jsonl_rows}[path.suffix[1:]]
    rows = []
    for label, text, line in reader(path, counts):
        if not label.strip():
            raise DataError("empty label", path, line)
        rows.append((label.strip(), require_text(text, path, line), line))
    if not rows:
        raise DataError("file holds no examples", path)
    return rows


def _csv_rows(path: Path, counts: Counter):
    lines = read_lines(path, counts)
    _, header_line = next(lines)
    header = next(csv.reader([header_line]))
    missing = {"label", "text"} - set(header)
    if missing:
        raise DataError(f"CSV header {header} lacks column(s) {sorted(missing)}", path, 1)
    label_at, text_at = header.index("label"), header.index("text")
    # A quoted CSV field may span lines, so parse the decoded lines as one stream, keeping numbers.
    numbered = list(lines)
    reader = csv.reader(text for _, text in numbered)
    for row in reader:
        number = numbered[reader.line_num - 1][0]
        if not row:
            counts["blank_lines"] += 1
            continue
        if len(row) != len(header):
            raise DataError(f"expected {len(header)} CSV columns, found {len(row)}", path, number)
        yield row[label_at], row[text_at], number


def _jsonl_rows(path: Path, counts: Counter):
    for number, line in read_lines(path, counts):
        if not line.strip():
            counts["blank_lines"] += 1
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"invalid JSON: {err.msg}", path, number) from None
        if not isinstance(record, dict) or "label" not in record or "text" not in record:
            raise DataError("expected an object with 'label' and 'text' keys", path, number)
        if not isinstance(record["text"], str):
            raise DataError(f"text must be a string, got {record['text']!r}", path, number)
        yield str(record["label"]), record["text"], number
