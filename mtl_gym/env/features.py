"""Frozen encoder features for the fast training env (:mod:`mtl_gym.env.batched`).

An agent needs hundreds of thousands of decisions, and on the full env each one pays for a
training step and a probe pass through the whole text encoder. The fast env pays for neither:
an encoder of the given model config is trained once on the suite (uniform schedule), every
train, dev and test example is encoded once, and the features are cached on disk next to the
single-task references. Each run then trains only a small shared layer and the task heads on the
cached features (:class:`FeatureHeadsMTL`).

:func:`feature_suite` rewrites a suite so that each example is one "token", its row in the
feature table. With it and a :class:`FeatureModelConfig`, the ordinary :class:`MTLSchedulingEnv`,
:class:`Trainer` and single-task reference run the cached-feature model unchanged: that is the
reference the batched env is checked against, step for step.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..data import Split, Task, TaskKind, TaskSuite
from ..data.task import SPLITS
from ..models import ModelConfig, TaskSpec, task_specs
from ..models.heads import linear_heads
from ..training import Trainer, TrainerConfig, seed_everything
from .reference import cache_key, default_cache_dir

FEATURES_VERSION = 1
"""Bumped when the way features are computed changes, so that old cache files are not read."""


@dataclass(frozen=True)
class FeatureConfig:
    """How the frozen encoder behind the fast env is trained, and the size of each run's shared layer."""

    encoder_budget: int = 50
    """Minibatches of uniform-schedule training of the encoder (one epoch of fsmtl16 is ~1,100).
    Short on purpose: the more the encoder has learnt, the less is left for the runs' shared layer,
    and the less the schedule matters on the fast env. 50 rather than the earlier 1,200: only at 50
    did the agents meet all three known answers on seeds 0-2, scoring level on the headroom suites
    (docs/agents.md, "Known-answer checks")."""
    seed: int = 0
    """Seeds the encoder's initialisation and minibatches."""
    hidden_dim: int | None = None
    """Size of the shared layer each run trains; None: the encoder's hidden_dim."""

    def __post_init__(self) -> None:
        if self.encoder_budget < 0:
            raise ValueError(f"FeatureConfig.encoder_budget must be non-negative, got {self.encoder_budget}")
        if self.hidden_dim is not None and self.hidden_dim < 1:
            raise ValueError(f"FeatureConfig.hidden_dim must be positive, got {self.hidden_dim}")


@dataclass(frozen=True)
class FrozenFeatures:
    """Encoder features of every example of a suite: ``table[1 + offset]`` is one example's vector
    (row 0 is a zero row, so that no example id is the padding id)."""

    key: str
    """The cache key: suite, its content, encoder config, trainer config, budget, seed. Features
    compare (and hash) equal by it."""
    table: torch.Tensor = field(repr=False, compare=False)
    """``[1 + examples, D]`` in torch's default dtype (float32 unless a caller sets float64)."""
    offsets: dict[tuple[str, str], int] = field(repr=False, compare=False)
    """(task name, split) -> row of its first example in ``table``."""

    @property
    def dim(self) -> int:
        return self.table.shape[1]

    def rows(self, task: str, split: str, size: int) -> torch.Tensor:
        """Table rows of the ``size`` examples of ``task``'s ``split``, in split order."""
        start = self.offsets[task, split]
        return torch.arange(start, start + size)


def content_digest(suite: TaskSuite) -> str:
    """SHA-256 of every split's ids, lengths and labels: a suite read with other options (length,
    vocabulary, files) gets another digest even where its summary would not change."""
    digest = hashlib.sha256()
    for task in suite:
        digest.update(task.name.encode())
        for name in SPLITS:
            split = task.split(name)
            for tensor in (split.tokens, split.lengths, split.labels):
                digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()


def features_key(
    suite: TaskSuite, encoder: ModelConfig, trainer: TrainerConfig, config: FeatureConfig
) -> str:
    base = cache_key(suite, encoder, trainer, config.encoder_budget, config.seed)
    return hashlib.sha256(f"{base}:{content_digest(suite)}:v{FEATURES_VERSION}".encode()).hexdigest()[:16]


def check_classification(suite: TaskSuite) -> None:
    tagging = [task.name for task in suite if task.kind is TaskKind.TAGGING]
    if tagging:
        raise ValueError(
            f"the fast env caches one feature vector per example, so it runs classification suites only; "
            f"{suite.name!r} has tagging tasks {tagging}"
        )


def train_encoder(suite: TaskSuite, encoder: ModelConfig, trainer: TrainerConfig, config: FeatureConfig):
    """The encoder after ``encoder_budget`` minibatches, one task after another (uniform schedule)."""
    seed_everything(config.seed)
    run = Trainer(encoder(suite), suite, TrainerConfig(**{**trainer.to_dict(), "seed": config.seed}))
    for step in range(config.encoder_budget):
        run.step([step % len(suite)])
    return run.model


def encode_split(model: nn.Module, split: Split, batch_size: int) -> torch.Tensor:
    """Pooled encoder features ``[N, D]`` of every example of ``split``, in split order, on the CPU
    whatever device the encoder is on, so that the cache file loads on any machine."""
    device = next(model.parameters()).device
    outputs = []
    with torch.inference_mode():
        for index in torch.arange(len(split)).split(batch_size):
            batch = split.batch(index)
            features = model.encode(batch.tokens.to(device), batch.lengths.to(device))
            outputs.append(getattr(features, "pooled", features).float().cpu())
    return torch.cat(outputs)


def atomic_save(value: object, path: Path) -> None:
    """``torch.save`` to a unique temporary file in ``path``'s folder, then rename it over ``path``:
    a reader never sees half a file, and two writers of the same key do not interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(value, stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def frozen_features(
    suite: TaskSuite,
    encoder: ModelConfig,
    trainer: TrainerConfig = TrainerConfig(),
    config: FeatureConfig = FeatureConfig(),
    cache_dir: str | Path | None = None,
) -> FrozenFeatures:
    """Features of every example of ``suite`` under an encoder trained on it (on ``trainer.device``),
    cached on disk under the reference cache's folder and keyed like the references, plus the suite's
    content. The table is returned on the CPU; whoever trains on it moves it."""
    check_classification(suite)
    key = features_key(suite, encoder, trainer, config)
    path = Path(cache_dir or default_cache_dir()) / f"features-{suite.name}-{key}.pt"
    if path.is_file():
        record = torch.load(path, map_location="cpu")
    else:
        model = train_encoder(suite, encoder, trainer, config)
        model.eval()
        record = {
            "suite": suite.name,
            "encoder": repr(encoder),
            "features": {
                (task.name, name): encode_split(model, task.split(name), trainer.eval_batch_size)
                for task in suite
                for name in SPLITS
            },
        }
        atomic_save(record, path)
    parts, offsets, start = [torch.zeros(1, 0)], {}, 1
    for (task, name), values in record["features"].items():
        offsets[task, name] = start
        start += len(values)
        parts.append(values)
    dim = parts[1].shape[1]
    parts[0] = torch.zeros(1, dim)
    return FrozenFeatures(key, torch.cat(parts).to(torch.get_default_dtype()), offsets)


def feature_suite(suite: TaskSuite, features: FrozenFeatures) -> TaskSuite:
    """``suite`` with each example's tokens replaced by one id, its row in ``features.table``
    (length 1); labels, sizes and task order are unchanged."""
    check_classification(suite)
    tasks = []
    for task in suite:
        splits = {}
        for name in SPLITS:
            split = task.split(name)
            rows = features.rows(task.name, name, len(split))
            splits[name] = Split(rows.unsqueeze(1), torch.ones(len(split), dtype=torch.long), split.labels)
        tasks.append(
            Task(
                task.name,
                task.kind,
                task.label_names,
                splits["train"],
                splits["dev"],
                splits["test"],
                task.counts,
            )
        )
    return TaskSuite(f"{suite.name}@features-{features.key}", tuple(tasks), suite.vocab)


class FeatureHeadsMTL(nn.Module):
    """The fast env's MTL model, following the model protocol: frozen features (looked up by the
    example id that :func:`feature_suite` makes each example's only token) -> a shared linear
    layer with ReLU -> a linear head per task. The table is a non-persistent buffer, so that
    snapshots and ``state_dict`` hold only what trains."""

    def __init__(self, table: torch.Tensor, tasks: Sequence[TaskSpec], hidden_dim: int):
        super().__init__()
        if any(spec.kind is TaskKind.TAGGING for spec in tasks):
            raise ValueError("FeatureHeadsMTL classifies whole examples; it has no per-token features")
        self.register_buffer("table", table, persistent=False)
        self.shared = nn.Linear(table.shape[1], hidden_dim)
        nn.init.xavier_uniform_(self.shared.weight)
        nn.init.zeros_(self.shared.bias)
        self.heads = linear_heads(hidden_dim, tasks)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.shared(self.table[tokens[:, 0]]))

    def head(self, task_index: int, features: torch.Tensor) -> torch.Tensor:
        return self.heads[task_index](features)


@dataclass(frozen=True)
class FeatureModelConfig:
    """Factory of :class:`FeatureHeadsMTL` over one feature table, for a suite made by
    :func:`feature_suite`. Its repr names the features by key, so it keys the reference cache."""

    features: FrozenFeatures
    hidden_dim: int

    def __call__(self, suite: TaskSuite) -> FeatureHeadsMTL:
        if not suite.name.endswith(self.features.key):
            raise ValueError(f"suite {suite.name!r} is not the feature suite of features {self.features.key}")
        return FeatureHeadsMTL(self.features.table, task_specs(suite), self.hidden_dim)
