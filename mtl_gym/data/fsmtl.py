"""FDU-MTL / FS-MTL multi-domain sentiment files: ``<domain>.task.train`` and ``<domain>.task.test``.

Each line is ``label<TAB>text`` with label 0 (negative) or 1 (positive). There is no dev file:
by convention dev is the last 200 lines of the (shuffled) train file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError
from .lines import BadLine, Lines, check_bad_lines, label_text_lines, require_text, strip_label
from .task import RawSplit, RawTask, TaskKind, check_task_name, drop_dev_overlap, hold_out_dev

LABEL_NAMES = ["negative", "positive"]


@dataclass(frozen=True)
class FsmtlConfig:
    """Options of the FDU-MTL reader."""

    domains: tuple[str, ...] | None = None
    """Domains to load, in this order; all ``*.task.train`` files of the folder when None."""
    dev_size: int = 200
    """The last this-many lines of each train file become the dev split."""
    drop_test_overlap: bool = False
    """Drop train-file lines whose text also appears in the test file, before dev is held out
    (counted as dropped_test_overlap)."""
    dedupe_dev: bool = False
    """After dev is held out, drop train lines whose text also appears in dev (counted as
    dropped_dev_overlap), so that dev is a clean held-out set."""
    bad_lines: str = "error"
    """A malformed line (wrong columns, bad label, empty text, NUL byte...) stops the reader with
    a DataError ("error"), or is skipped and counted per reason as ``skipped_<reason>`` ("skip")."""

    def __post_init__(self):
        check_bad_lines(self.bad_lines)


def list_domains(folder: Path) -> list[str]:
    return sorted(p.name.removesuffix(".task.train") for p in folder.glob("*.task.train"))


def read_fsmtl(folder: Path, config: FsmtlConfig = FsmtlConfig()) -> list[RawTask]:
    folder = Path(folder)
    domains = list(config.domains) if config.domains else list_domains(folder)
    for domain in domains:
        check_task_name(domain, folder)
    if not domains:
        raise DataError("no *.task.train files found", folder)
    return [read_domain(folder, domain, config) for domain in domains]


def read_domain(folder: Path, domain: str, config: FsmtlConfig) -> RawTask:
    lines = Lines(config.bad_lines)
    counts = lines.counts
    train_path = folder / f"{domain}.task.train"
    test_path = folder / f"{domain}.task.test"
    for path in (train_path, test_path):
        if not path.is_file():
            raise DataError(f"missing file for domain {domain!r}", path)
    train_lines = _read_labelled(train_path, lines)
    test_lines = _read_labelled(test_path, lines)

    # Counted as in the data's DATA_SOURCE.md: repeated lines, and distinct texts shared with test.
    seen: set[tuple[int, str]] = set()
    for row in train_lines:
        counts["train_duplicates"] += row in seen
        seen.add(row)
    shared_texts = {text for _, text in train_lines} & {text for _, text in test_lines}
    counts["train_test_overlap"] = len(shared_texts)
    kept = train_lines
    if config.drop_test_overlap:
        kept = [row for row in train_lines if row[1] not in shared_texts]
        counts["dropped_test_overlap"] = len(train_lines) - len(kept)

    train = _as_split(kept, str(train_path))
    train, dev = hold_out_dev(train, config.dev_size, counts)
    if config.dedupe_dev:
        train = drop_dev_overlap(train, dev, counts)
    splits = {"train": train, "dev": dev, "test": _as_split(test_lines, str(test_path))}
    return RawTask(domain, TaskKind.CLASSIFICATION, list(LABEL_NAMES), splits, counts)


def _read_labelled(path: Path, lines: Lines) -> list[tuple[int, str]]:
    rows = []
    for label, text, number in label_text_lines(path, lines):
        try:
            rows.append((parse_label(label, len(LABEL_NAMES), lines.counts), require_text(text)))
        except BadLine as err:
            lines.bad(err, path, number)
    if not rows:
        raise DataError("file holds no examples", path)
    return rows


def parse_label(field: str, num_labels: int, counts: Counter) -> int:
    """An integer label in ``range(num_labels)``, or a BadLine naming the value."""
    try:
        label = int(strip_label(field, counts))
    except ValueError:
        raise BadLine("bad_label", f"non-integer label {field!r}") from None
    if not 0 <= label < num_labels:
        raise BadLine("bad_label", f"unknown label {label}; expected 0..{num_labels - 1}")
    return label


def _as_split(rows: list[tuple[int, str]], source: str) -> RawSplit:
    return RawSplit([text for _, text in rows], [label for label, _ in rows], source)
