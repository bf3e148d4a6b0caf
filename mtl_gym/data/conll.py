"""CoNLL column files for tagging: one token per line, whitespace-separated columns, a blank
line between sentences. Each tag column can become its own task, so CoNLL-2000 (``word POS
chunk``) yields a POS task and a chunking task over the same sentences, and WNUT-17
(``token<TAB>tag``) yields one NER task.

Under ``bad_lines="skip"`` a malformed token line is counted per reason and the sentence holding
it is dropped as a whole (``bad_sentences_dropped``), so that no sentence loses a word silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError
from .lines import BadLine, Lines, check_bad_lines, read_lines
from .task import RawSplit, RawTask, TaskKind, drop_dev_overlap, hold_out_dev


@dataclass
class Sentence:
    words: list[str]
    columns: list[list[str]]
    """``columns[c][i]`` is column ``c + 1`` of word ``i`` (column 0 is the word)."""


def read_conll(path: Path, lines: Lines) -> list[Sentence]:
    """Sentences of one column file; every token line must have as many columns as the first."""
    counts = lines.counts
    sentences: list[Sentence] = []
    width = None
    current: list[list[str]] = []
    bad = False  # the current sentence holds a skipped line

    def end_sentence():
        nonlocal current, bad
        if bad:
            counts["bad_sentences_dropped"] += 1
        elif current:
            sentences.append(_sentence(current))
        current, bad = [], False

    for number, line in read_lines(path, lines):
        if line is None:
            bad = True
            continue
        fields = line.split()
        if fields and fields[0] == "-DOCSTART-":
            counts["docstart_lines"] += 1
            continue
        if not fields:
            end_sentence()
            continue
        try:
            width = _check_width(fields, width)
        except BadLine as err:
            lines.bad(err, path, number)
            bad = True
            continue
        current.append(fields)
    end_sentence()
    if not sentences:
        raise DataError("file holds no sentences", path)
    return sentences


def _check_width(fields: list[str], width: int | None) -> int:
    """The column count of the file: set by its first token line, which needs a tag column."""
    if width is None:
        if len(fields) < 2:
            raise BadLine(
                "columns", f"expected a token and at least one tag column, found {len(fields)} column"
            )
        return len(fields)
    if len(fields) != width:
        raise BadLine("columns", f"expected {width} columns like the first token line, found {len(fields)}")
    return width


def _sentence(rows: list[list[str]]) -> Sentence:
    return Sentence([r[0] for r in rows], [list(col) for col in zip(*(r[1:] for r in rows), strict=True)])


@dataclass(frozen=True)
class ConllConfig:
    """Options of a CoNLL tagging suite."""

    dev_size: int = 1000
    """Sentences held out from the end of train when the suite has no dev file."""
    dev_file: str | None = None
    """Use this file of the folder as dev instead (CoNLL-2000 has none officially)."""
    dedupe_dev: bool = False
    """Drop train sentences whose word sequence also appears in dev (counted as dropped_dev_overlap)."""
    bad_lines: str = "error"
    """A malformed token line stops the reader ("error"), or its sentence is dropped and counted ("skip")."""

    def __post_init__(self):
        check_bad_lines(self.bad_lines)


def tagging_tasks(
    files: dict[str, Path], columns: dict[str, int], config: ConllConfig = ConllConfig()
) -> list[RawTask]:
    """One tagging task per entry of ``columns`` (task name → tag column index, 1-based).

    ``files`` maps ``train``, ``test`` and optionally ``dev`` to column files. The tag inventory
    of a task is every tag seen in any split: a tag that appears only in dev or test (CoNLL-2000
    test has I-LST, train does not) can never be predicted, and is counted in
    ``labels_only_in_eval`` rather than rejected.
    """
    lines = Lines(config.bad_lines)
    read = {split: read_conll(path, lines) for split, path in files.items()}
    for split, sentences in read.items():
        widest = len(sentences[0].columns)
        for name, column in columns.items():
            if not 1 <= column <= widest:
                raise DataError(
                    f"task {name!r} wants tag column {column}, the file has 1..{widest}", files[split]
                )
    tasks = []
    for name, column in columns.items():
        splits = {
            split: RawSplit(
                [s.words for s in sents], [s.columns[column - 1] for s in sents], str(files[split])
            )
            for split, sents in read.items()
        }
        task_counts = Counter(lines.counts)
        if "dev" not in splits:
            splits["train"], splits["dev"] = hold_out_dev(splits["train"], config.dev_size, task_counts)
        if config.dedupe_dev:
            splits["train"] = drop_dev_overlap(splits["train"], splits["dev"], task_counts)
        train_tags = {tag for tags in splits["train"].labels for tag in tags}
        all_tags = {tag for split in splits.values() for tags in split.labels for tag in tags}
        label_names = sorted(all_tags)
        index = {tag: i for i, tag in enumerate(label_names)}
        for split in splits.values():
            split.labels = [[index[tag] for tag in tags] for tags in split.labels]
        task_counts["labels_only_in_eval"] = len(all_tags - train_tags)
        tasks.append(RawTask(name, TaskKind.TAGGING, label_names, splits, task_counts))
    return tasks
