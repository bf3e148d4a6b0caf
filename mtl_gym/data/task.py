"""Tasks and suites: what every reader produces and every higher layer consumes.

A reader returns :class:`RawTask` objects (text plus label indices, with counts of everything
it skipped). :func:`build_suite` checks them, builds one shared vocabulary from the training
splits, and encodes every split once into pre-padded id tensors.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import torch

from .errors import DataError, DataWarning
from .lines import skipped_counts
from .vocab import PAD_ID, VocabConfig, Vocabulary

IGNORE_INDEX = -100
"""Label of padding positions in tagging tasks; ``torch.nn.functional.cross_entropy`` skips it."""

SPLITS = ("train", "dev", "test")

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
"""What a task name may hold: it names a folder or file inside the data root and is printed."""


def check_task_name(name: str, where=None) -> str:
    """``name`` if it matches :data:`SAFE_NAME`, else a DataError showing it with ``ascii()``, so
    that neither a path outside the data root nor control or bidi characters get through."""
    if isinstance(name, str) and SAFE_NAME.fullmatch(name):
        return name
    hint = ""
    if isinstance(name, str) and ("/" in name or "\\" in name or name.startswith(".")):
        hint = "; a task name is a folder or file name inside the data root, not a path"
    raise DataError(
        f"unsafe task name {ascii(name)}: use only letters, digits and '_.+-', first a letter or digit{hint}",
        where,
    )


class TaskKind(str, Enum):
    CLASSIFICATION = "classification"
    TAGGING = "tagging"


@dataclass
class RawSplit:
    """One split as read: a text per example (classification) or a word list (tagging)."""

    examples: list
    labels: list
    source: str
    """Where it came from, for error messages: a file, or a file and line range."""

    def __len__(self) -> int:
        return len(self.examples)


@dataclass
class RawTask:
    name: str
    kind: TaskKind
    label_names: list[str]
    splits: dict[str, RawSplit]
    counts: Counter = field(default_factory=Counter)
    """What the reader skipped, repaired or noticed: nothing is dropped without a count here."""


def hold_out_dev(train: RawSplit, dev_size: int, counts: Counter) -> tuple[RawSplit, RawSplit]:
    """Split the last ``dev_size`` examples off ``train`` as the dev split.

    ``counts["dev_held_out"]`` records the cut. Taking more than a quarter of the train file
    warns (:class:`DataWarning`) and sets ``counts["dev_size_warning"]``.
    """
    if not 0 < dev_size < len(train):
        raise DataError(
            f"cannot hold out {dev_size} dev examples from a train split of {len(train)}",
            train.source,
        )
    counts["dev_held_out"] = dev_size
    if dev_size * 4 > len(train):
        counts["dev_size_warning"] = 1
        warnings.warn(
            f"{train.source}: dev_size={dev_size} takes {dev_size} of its {len(train)} train examples "
            f"({dev_size / len(train):.0%}) as dev, more than a quarter; pass a smaller dev_size or "
            "give the task a dev file",
            DataWarning,
            stacklevel=3,
        )
    cut = len(train) - dev_size
    return (
        RawSplit(train.examples[:cut], train.labels[:cut], train.source),
        RawSplit(train.examples[cut:], train.labels[cut:], f"{train.source} (last {dev_size})"),
    )


def example_key(example) -> str | tuple[str, ...]:
    """What makes two examples the same input: the text, or the word sequence."""
    return example if isinstance(example, str) else tuple(example)


def drop_dev_overlap(train: RawSplit, dev: RawSplit, counts: Counter) -> RawSplit:
    """``train`` without the examples whose text also occurs in ``dev`` (``dedupe_dev=True``),
    so that dev is held out; counted as ``dropped_dev_overlap``."""
    dev_keys = {example_key(e) for e in dev.examples}
    keep = [i for i, e in enumerate(train.examples) if example_key(e) not in dev_keys]
    counts["dropped_dev_overlap"] = len(train) - len(keep)
    return RawSplit([train.examples[i] for i in keep], [train.labels[i] for i in keep], train.source)


@dataclass(frozen=True)
class Batch:
    """A minibatch of one task, trimmed to its longest example."""

    tokens: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor
    index: torch.Tensor
    """Positions of the examples in their split (for per-example targets such as KD soft labels)."""

    def __len__(self) -> int:
        return self.tokens.shape[0]


@dataclass(frozen=True)
class Split:
    """Pre-padded ids ``[N, L]``, lengths ``[N]`` and labels ``[N]`` or ``[N, L]``."""

    tokens: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def batch(self, index: torch.Tensor) -> Batch:
        lengths = self.lengths[index]
        width = int(lengths.max())
        labels = self.labels[index]
        if labels.dim() == 2:
            labels = labels[:, :width]
        return Batch(self.tokens[index, :width], lengths, labels, index)


@dataclass(frozen=True)
class Task:
    name: str
    kind: TaskKind
    label_names: tuple[str, ...]
    train: Split
    dev: Split
    test: Split
    counts: dict[str, int]

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def split(self, name: str) -> Split:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {SPLITS}")
        return getattr(self, name)


@dataclass(frozen=True)
class TaskSuite:
    """K tasks over one shared vocabulary."""

    name: str
    tasks: tuple[Task, ...]
    vocab: Vocabulary

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self):
        return iter(self.tasks)

    def __getitem__(self, key: int | str) -> Task:
        return self.tasks[self.index(key) if isinstance(key, str) else key]

    @property
    def names(self) -> list[str]:
        return [task.name for task in self.tasks]

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"suite {self.name!r} has no task {name!r}; it has {self.names}") from None

    def subset(self, names: Sequence[str]) -> TaskSuite:
        """The named tasks, in that order, over this suite's vocabulary (so one model's token ids
        mean the same words in both), e.g. to hold a task out of training."""
        tasks = tuple(self[name] for name in names)
        if not tasks:
            raise ValueError(f"a subset of suite {self.name!r} needs at least one task")
        return TaskSuite(f"{self.name}[{','.join(names)}]", tasks, self.vocab)

    def summary(self) -> dict:
        """The JSON printed by ``mtl-gym info``."""
        return {
            "suite": self.name,
            "vocab_size": len(self.vocab),
            "tasks": [
                {
                    "name": t.name,
                    "kind": t.kind.value,
                    "num_labels": t.num_labels,
                    "train": len(t.train),
                    "dev": len(t.dev),
                    "test": len(t.test),
                    "train_duplicates": t.counts.get("train_duplicates", 0),
                    "train_test_overlap": t.counts.get("train_test_overlap", 0),
                    "dev_in_train": t.counts.get("dev_in_train", 0),
                    "test_in_train": t.counts.get("test_in_train", 0),
                    "dev_held_out": t.counts.get("dev_held_out", 0),
                    "dev_size_warning": bool(t.counts.get("dev_size_warning", 0)),
                    "labels_stripped": t.counts.get("labels_stripped", 0),
                    "skipped_lines": sum(skipped_counts(t.counts).values()),
                    "skipped": skipped_counts(t.counts),
                    "counts": dict(sorted(t.counts.items())),
                }
                for t in self.tasks
            ],
        }


def build_suite(
    name: str,
    raw_tasks: list[RawTask],
    vocab_config: VocabConfig = VocabConfig(),
    max_len: int = 128,
) -> TaskSuite:
    """Check raw tasks, build the shared vocabulary from their train splits, encode every split.

    ``max_len`` truncates long examples (the QLS paper's LSTM length is 128); each truncation
    is counted in the task's ``counts["truncated"]``.
    """
    if not raw_tasks:
        raise DataError(f"suite {name!r} has no tasks")
    seen = Counter(t.name for t in raw_tasks)
    if clashes := [n for n, c in seen.items() if c > 1]:
        raise DataError(f"suite {name!r} has more than one task named {clashes}")
    for raw in raw_tasks:
        check_task_name(raw.name)
        _check_task(raw)
    vocab = Vocabulary.build(_train_words(raw_tasks), vocab_config)
    if vocab_config.eval_words:
        vocab = vocab.extended(_eval_words(raw_tasks))
    tasks = tuple(_encode_task(raw, vocab, max_len) for raw in raw_tasks)
    return TaskSuite(name, tasks, vocab)


def _check_task(raw: RawTask) -> None:
    for split_name in SPLITS:
        split = raw.splits.get(split_name)
        if split is None or len(split) == 0:
            raise DataError(
                f"task {raw.name!r} has an empty {split_name} split", getattr(split, "source", None)
            )
    if raw.kind is TaskKind.CLASSIFICATION:
        present = {s: set(raw.splits[s].labels) for s in SPLITS}
        if len(present["train"]) < 2:
            names = sorted(raw.label_names[i] for i in present["train"])
            raise DataError(
                f"task {raw.name!r} has {len(names)} label in train ({names}); classification needs "
                "at least 2",
                raw.splits["train"].source,
            )
        if len({frozenset(v) for v in present.values()}) > 1:
            detail = "; ".join(
                f"{s} ({raw.splits[s].source}): {sorted(raw.label_names[i] for i in present[s])}"
                for s in SPLITS
            )
            raise DataError(f"task {raw.name!r}: label sets differ between splits: {detail}")


def _train_words(raw_tasks: list[RawTask]):
    for raw in raw_tasks:
        for example in raw.splits["train"].examples:
            yield example if isinstance(example, str) else " ".join(example)


def _eval_words(raw_tasks: list[RawTask]):
    for raw in raw_tasks:
        for split_name in ("dev", "test"):
            for example in raw.splits[split_name].examples:
                yield from example.split() if isinstance(example, str) else example


def _encode_task(raw: RawTask, vocab: Vocabulary, max_len: int) -> Task:
    counts = Counter(raw.counts)
    # Examples of dev and test whose text (or word sequence) also occurs in train, each counted.
    train_keys = {example_key(e) for e in raw.splits["train"].examples}
    for split_name in ("dev", "test"):
        examples = raw.splits[split_name].examples
        counts[f"{split_name}_in_train"] = sum(example_key(e) in train_keys for e in examples)
    encoded = {}
    for split_name in SPLITS:
        split = raw.splits[split_name]
        if raw.kind is TaskKind.TAGGING:
            ids = vocab.encode_words(split.examples, max_len)
            counts["truncated"] += sum(len(words) > max_len for words in split.examples)
        else:
            ids = vocab.encode(split.examples, max_len)
            counts["truncated"] += sum(len(text.split()) > max_len for text in split.examples)
        encoded[split_name] = _pad(ids, split.labels, raw.kind)
    return Task(
        raw.name,
        raw.kind,
        tuple(raw.label_names),
        encoded["train"],
        encoded["dev"],
        encoded["test"],
        {k: int(v) for k, v in counts.items()},
    )


def _pad(ids: list[list[int]], labels: list, kind: TaskKind) -> Split:
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    width = int(lengths.max())
    tokens = np.full((len(ids), width), PAD_ID, dtype=np.int64)
    tagging = kind is TaskKind.TAGGING
    label_array = (
        np.full((len(ids), width), IGNORE_INDEX, dtype=np.int64)
        if tagging
        else np.asarray(labels, dtype=np.int64)
    )
    for row, (seq, n) in enumerate(zip(ids, lengths, strict=True)):
        tokens[row, :n] = seq
        if tagging:
            label_array[row, :n] = labels[row][:n]
    return Split(torch.from_numpy(tokens), torch.from_numpy(lengths), torch.from_numpy(label_array))
