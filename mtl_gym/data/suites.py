"""Suites by name, and where real data is found.

Real data is never copied into the repository. It is found, in order, through the
``data_dir`` argument (``--data-dir``), the ``MTL_GYM_DATA`` environment variable, or
``../shared/data`` when that folder exists (relative to the working directory, then to the
checkout holding this package). A suite accepts either its own folder or the data root above it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from .conll import ConllConfig, tagging_tasks
from .errors import DataError
from .fsmtl import FsmtlConfig, read_fsmtl
from .generic import FolderConfig, read_folder
from .instances import InstanceSetConfig, instance_raw_tasks
from .synthetic import SyntheticConfig, synthetic_raw_tasks
from .task import RawTask, TaskSuite, build_suite
from .variants import VariantConfig, apply_variant
from .vocab import VocabConfig

DATA_ENV = "MTL_GYM_DATA"


def default_data_dir() -> Path | None:
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


def _locate(data_dir: str | Path | None, folder_name: str, marker: str) -> Path:
    """The suite's folder: ``data_dir`` itself if it holds ``marker`` files, else ``data_dir/folder_name``."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if root is None:
        raise DataError(f"no data folder: pass --data-dir or set {DATA_ENV}")
    for candidate in (root, root / folder_name):
        if any(candidate.glob(marker)):
            return candidate
    raise DataError(f"no {folder_name} data here (looked for {marker} in it and in {folder_name}/)", root)


def _fsmtl(data_dir, options: dict) -> list[RawTask]:
    config = _config(FsmtlConfig, options)
    return read_fsmtl(_locate(data_dir, "fsmtl16", "*.task.train"), config)


def _conll2000(data_dir, options: dict) -> list[RawTask]:
    folder = _locate(data_dir, "conll2000", "train.txt")
    config = _config(ConllConfig, options)
    files = {"train": folder / "train.txt", "test": folder / "test.txt"}
    if config.dev_file:
        files["dev"] = folder / config.dev_file
    return tagging_tasks(files, {"pos": 1, "chunk": 2}, config)


def _wnut17(data_dir, options: dict) -> list[RawTask]:
    folder = _locate(data_dir, "wnut17", "wnut17train.conll")
    files = {
        "train": folder / "wnut17train.conll",
        "dev": folder / "emerging.dev.conll",
        "test": folder / "emerging.test.annotated",
    }
    return tagging_tasks(files, {"ner": 1}, _config(ConllConfig, options))


def _conll2000_wnut17(data_dir, options: dict) -> list[RawTask]:
    """POS and chunking (CoNLL-2000) with NER (WNUT-17): three tagging tasks of different text
    (news and tweets) and label sets, the heterogeneous setting of QLS §5.2."""
    return _conll2000(data_dir, options) + _wnut17(data_dir, options)


def _folder(data_dir, options: dict) -> list[RawTask]:
    if data_dir is None:
        raise DataError("the folder suite needs --data-dir pointing at one sub-folder per task")
    return read_folder(Path(data_dir), _config(FolderConfig, options))


def _synthetic(data_dir, options: dict) -> list[RawTask]:
    return synthetic_raw_tasks(_config(SyntheticConfig, options))


def _synthetic_instances(data_dir, options: dict) -> list[RawTask]:
    return instance_raw_tasks(_config(InstanceSetConfig, options))


@dataclass(frozen=True)
class SuiteSpec:
    read: Callable[[str | Path | None, dict], list[RawTask]]
    options: type
    description: str
    variant: dict | None = None
    """The :class:`VariantConfig` that a named variant applies after reading (see ``VARIANTS``)."""
    objective: str = "mean"
    """The objective the suite is meant to be scored by (``mtl-gym headroom`` and ``bench`` use it
    unless ``--env objective=...`` says otherwise)."""


SUITES: dict[str, SuiteSpec] = {
    "synthetic": SuiteSpec(_synthetic, SyntheticConfig, "generated review-like domains; needs no files"),
    "fsmtl": SuiteSpec(_fsmtl, FsmtlConfig, "FDU-MTL multi-domain sentiment (fsmtl16: 12 domains)"),
    "conll2000": SuiteSpec(_conll2000, ConllConfig, "CoNLL-2000 POS tagging and chunking"),
    "wnut17": SuiteSpec(_wnut17, ConllConfig, "WNUT-17 emerging-entity NER"),
    "conll2000+wnut17": SuiteSpec(
        _conll2000_wnut17, ConllConfig, "POS, chunking and NER: a heterogeneous 3-task suite"
    ),
    "folder": SuiteSpec(_folder, FolderConfig, "generic TSV/CSV/JSONL classification, one folder per task"),
    "synthetic-instances": SuiteSpec(
        _synthetic_instances,
        InstanceSetConfig,
        "one instance of a set of generated suites (split=train|test, instance=i): sizes, difficulty, "
        "noise and vocabulary drawn per instance",
    ),
}


def _named_variant(base: str, options: dict, variant: dict, objective: str, description: str) -> SuiteSpec:
    spec = SUITES[base]

    def read(data_dir, given: dict) -> list[RawTask]:
        return spec.read(data_dir, {**options, **given})

    return SuiteSpec(read, spec.options, description, variant, objective)


VARIANTS = {
    # Domains, target and noisy task are the first three FDU-MTL domains in alphabetical order, not
    # picked by measurement; 45% flips leave the auxiliary nearly pure noise (50% would be).
    "fsmtl-noisy-aux": _named_variant(
        "fsmtl",
        {"domains": ("apparel", "baby", "books")},
        {"label_noise": {"baby": 0.45}},
        "target:apparel",
        "FDU-MTL apparel as the target, baby with 45% of its train/dev labels flipped, books clean",
    ),
    "fsmtl-imbalanced": _named_variant(
        "fsmtl",
        {},
        {"imbalance": 1.0},
        "mean",
        "FDU-MTL with power-law train sizes: the i-th domain keeps n / (i + 1) examples",
    ),
    "ner-target": _named_variant(
        "conll2000+wnut17",
        {},
        {},
        "target:ner",
        "WNUT-17 NER as the target, CoNLL-2000 POS and chunking as auxiliaries",
    ),
    "synthetic-noisy-aux": _named_variant(
        "synthetic",
        {},
        {"label_noise": {"electronics": 0.5}},
        "target:toys",
        "the synthetic suite scored on its small task, toys, with electronics' labels pure noise",
    ),
    "synthetic-imbalanced": _named_variant(
        "synthetic",
        {},
        {"train_sizes": {"books": 2000, "electronics": 800, "kitchen": 1000, "toys": 24}},
        "mean",
        "the synthetic suite with its small task cut to 24 train examples",
    ),
    # The known answer of the scheduler agents (mtl_gym.agents.common.known_answer) and the demo's
    # suite: every minibatch of the noise task is wasted, so the best schedule is (nearly) all target.
    "synthetic-target-noise": _named_variant(
        "synthetic",
        {
            "domains": (
                {"name": "target", "train_size": 1000, "difficulty": 0.3, "label_noise": 0.0},
                {"name": "noise", "train_size": 1000, "difficulty": 0.3, "label_noise": 0.5},
            ),
            "dev_size": 200,
            "test_size": 200,
        },
        {},
        "target:target",
        "a generated target task and an auxiliary of pure-noise labels (coin flips), scored on the target",
    ),
}
SUITES.update(VARIANTS)


def suite_objective(name: str) -> str:
    """The objective a suite is meant to be scored by (``mean`` for a suite that names none)."""
    return SUITES[name].objective if name in SUITES else "mean"


def _given(variant: VariantConfig | dict | None) -> dict:
    """The settings ``variant`` sets, to lay over a named variant's own."""
    if variant is None or isinstance(variant, dict):
        return dict(variant or {})
    return {
        f.name: getattr(variant, f.name) for f in fields(variant) if getattr(variant, f.name) != f.default
    }


def _config(cls: type, options: dict):
    known = {f.name for f in fields(cls)}
    unknown = set(options) - known
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for {cls.__name__}; known: {sorted(known)}")
    # JSON lists (from the CLI or a config file) become tuples, as the frozen configs declare them.
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})


def load_suite(
    name: str,
    data_dir: str | Path | None = None,
    *,
    vocab: VocabConfig | dict = VocabConfig(),
    max_len: int = 128,
    variant: VariantConfig | dict | None = None,
    **options,
) -> TaskSuite:
    """Read, check and encode the suite ``name``; ``options`` go to its reader's config. ``vocab``
    may be a dict of VocabConfig fields (``--option vocab={"eval_words": true}``); ``variant``
    reshapes the tasks read (:class:`VariantConfig`: task subset, imbalance, label noise), on top of
    a named variant's own."""
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; known suites: {sorted(SUITES)}")
    if isinstance(vocab, dict):
        vocab = _config(VocabConfig, vocab)
    spec = SUITES[name]
    reshape = VariantConfig.of({**(spec.variant or {}), **_given(variant)})
    raw_tasks = apply_variant(spec.read(data_dir, options), reshape)
    return build_suite(name, raw_tasks, vocab, max_len)
