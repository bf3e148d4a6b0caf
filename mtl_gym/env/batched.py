"""BatchedMTLEnv: N independent scheduling runs in one process, stepped as batched tensor operations.

Training a scheduler agent needs hundreds of thousands of decisions; on the full env each one
costs a training step and a probe pass through the text encoder (tens of ms for the fsmtl16 CNN).
Here every run trains :class:`~mtl_gym.env.features.FeatureHeadsMTL` (a shared layer and
per-task heads) on frozen, cached encoder features, and all N runs' training steps, probe passes
and hard-sample refreshes are a few batched matmuls over the stacked parameters of the N runs.

Each sub-env is, to float rounding, the single :class:`MTLSchedulingEnv` over the feature suite
with the same seed: the same model initialisation, minibatch order (one ``EpochSampler`` per run
and task, seeded as the trainer seeds it), reward samples, hard samples, Adam update (per-run
step counts, a head updated only when its task trains), observation, reward, masks, info, NaN
handling and episode ends. :meth:`BatchedMTLEnv.single_env` builds that reference. Under
amortised observation (``EnvConfig.observe_every``, ``observe_tasks``) the runs and tasks whose
probe pass is not due are left out of the probe computation, as the single env skips them.

Rules (the asynchronous-convergence KD rule among them) run per run: ``rules`` is a factory of
fresh rule objects, and each run's rules see a :class:`RunView`, the single env's face of that
run (``steps``, ``suite``, ``num_tasks``, ``config`` and a ``trainer`` that evaluates, snapshots,
restores and swaps task losses for :class:`~mtl_gym.training.DistillationLoss`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ..data import TaskSuite, load_suite
from ..models import ModelConfig
from ..objective import bind_objective
from ..training import (
    DistillationLoss,
    EpochSampler,
    Snapshot,
    TaskMetrics,
    TrainerConfig,
    evaluate,
    resolve_device,
    supervised_loss,
)
from .config import EnvConfig
from .env import (
    InvalidActionError,
    MTLSchedulingEnv,
    check_observe_tasks,
    draw_model_seed,
    draw_reward_index,
    resolve_reference,
    scheduling_spaces,
)
from .features import FeatureConfig, FeatureHeadsMTL, FeatureModelConfig, feature_suite, frozen_features
from .observation import below_reference, features, loss_reward, probe_due, rotation
from .rules import Rule
from .uncertainty import histograms, uncertainty

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
"""torch.optim.Adam's defaults, which the trainer's default optimizer uses."""
REFRESH_CHUNK = 32
"""Runs per batched pass over the whole dev set when hard samples are re-chosen (bounds memory)."""


def adam_rows(
    param: torch.Tensor,
    grad: torch.Tensor,
    exp_avg: torch.Tensor,
    exp_avg_sq: torch.Tensor,
    steps: torch.Tensor,
    lr: float,
) -> None:
    """torch.optim.Adam's update (single-tensor path, defaults) in place, with one step count per
    leading row: ``steps`` ``[rows]`` float64, already incremented."""
    beta1, beta2 = ADAM_BETAS
    shape = (-1,) + (1,) * (param.dim() - 1)
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step_size = (lr / (1 - beta1**steps)).to(param.dtype).view(shape)
    correction2_sqrt = (1 - beta2**steps).sqrt().to(param.dtype).view(shape)
    denom = (exp_avg_sq.sqrt() / correction2_sqrt).add_(ADAM_EPS)
    param.sub_(exp_avg / denom * step_size)


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """``logits.log_softmax(-1)``, written out: over a last dimension of a few classes torch's
    kernel is several times slower than these elementwise operations."""
    shifted = logits - logits.amax(-1, keepdim=True)
    return shifted - shifted.exp().sum(-1, keepdim=True).log()


def predicts(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``logits.argmax(-1) == labels`` (ties to the first maximum, as argmax), by comparisons:
    torch's argmax over a last dimension of a few classes is slow on the CPU."""
    gold = logits.gather(-1, labels.unsqueeze(-1))
    before = torch.arange(logits.shape[-1], device=logits.device) < labels.unsqueeze(-1)
    beaten = torch.where(before, logits >= gold, logits > gold)
    return ~beaten.any(-1)


def merge_info(vector: dict[str, Any], entry: dict[str, Any], run: int, num_envs: int) -> None:
    """Put one run's info ``entry`` into ``vector`` by gymnasium's vector convention (nested dicts
    recursively, each key with a ``_key`` mask). Values go in object arrays, since a rule may
    report None for one run and a number for another (KD's ``converged``), which gymnasium's
    typed arrays cannot hold."""
    for key, value in entry.items():
        if isinstance(value, dict):
            merge_info(vector.setdefault(key, {}), value, run, num_envs)
        else:
            vector.setdefault(key, np.full(num_envs, None, dtype=object))[run] = value
        vector.setdefault(f"_{key}", np.zeros(num_envs, dtype=bool))[run] = True


@dataclass
class BatchedInfos:
    """What the N runs report after a step or reset, as arrays; formatted per gymnasium's vector
    convention (:meth:`vector`) or as one single-env info dict per run (:meth:`row`)."""

    names: list[str]
    step: np.ndarray
    dev_loss: np.ndarray
    dev_accuracy: np.ndarray
    minibatches: np.ndarray
    samples: np.ndarray
    action_mask: np.ndarray
    nan_loss: dict[int, dict]
    """Run -> {"task", "value"} for runs whose step hit a non-finite training loss."""
    rules: list[dict] = field(default_factory=list)
    """Per run, what its rules add to its info (empty without rules)."""
    dev_age: np.ndarray | None = None
    """Decisions since each run's dev_loss and dev_accuracy of each task were measured; None (no
    ``dev_age`` key) unless the observation is amortised."""

    def rows(self) -> list[dict]:
        """Every run's :meth:`row`, converting each array to lists once."""
        names, masks = self.names, self.action_mask.copy()
        columns = zip(
            self.step.tolist(),
            self.dev_loss.tolist(),
            self.dev_accuracy.tolist(),
            self.minibatches.tolist(),
            self.samples.tolist(),
            self.minibatches.sum(axis=1).tolist(),
            strict=True,
        )
        infos = []
        for i, (step, loss, accuracy, minibatches, samples, budget) in enumerate(columns):
            info = {
                "step": step,
                "dev_loss": dict(zip(names, loss, strict=True)),
                "dev_accuracy": dict(zip(names, accuracy, strict=True)),
                "minibatches": dict(zip(names, minibatches, strict=True)),
                "samples": dict(zip(names, samples, strict=True)),
                "budget": budget,
                "action_mask": masks[i],
            }
            if self.dev_age is not None:
                info["dev_age"] = dict(zip(names, self.dev_age[i].tolist(), strict=True))
            if i in self.nan_loss:
                info["nan_loss"] = dict(self.nan_loss[i])
            if self.rules:
                info.update(self.rules[i])
            infos.append(info)
        return infos

    def vector(self, rows: np.ndarray) -> dict[str, Any]:
        """Gymnasium's vector info: each key an array over runs with a ``_key`` mask of the runs
        that report it (``rows``); per-task dicts keep one array per task."""
        present = np.asarray(rows, dtype=bool)
        info: dict[str, Any] = {}

        def put(key: str, value: Any, mask: np.ndarray = present) -> None:
            info[key], info[f"_{key}"] = value, mask.copy()

        def per_task(values: np.ndarray) -> dict[str, Any]:
            table = {}
            for k, name in enumerate(self.names):
                table[name], table[f"_{name}"] = values[:, k].copy(), present.copy()
            return table

        put("step", self.step.copy())
        put("dev_loss", per_task(self.dev_loss))
        put("dev_accuracy", per_task(self.dev_accuracy))
        put("minibatches", per_task(self.minibatches))
        put("samples", per_task(self.samples))
        put("budget", self.minibatches.sum(axis=1))
        put("action_mask", self.action_mask.copy())
        if self.dev_age is not None:
            put("dev_age", per_task(self.dev_age))
        if self.nan_loss:
            failed = np.zeros(len(present), dtype=bool)
            tasks = np.full(len(present), None, dtype=object)
            values = np.zeros(len(present))
            wheres = np.full(len(present), None, dtype=object)
            for i, entry in self.nan_loss.items():
                failed[i], tasks[i], values[i], wheres[i] = (
                    True,
                    entry["task"],
                    entry["value"],
                    entry["where"],
                )
            put(
                "nan_loss",
                {
                    "task": tasks,
                    "_task": failed.copy(),
                    "value": values,
                    "_value": failed.copy(),
                    "where": wheres,
                    "_where": failed.copy(),
                },
                failed,
            )
        return info

    def take(self, rows: np.ndarray) -> BatchedInfos:
        """A copy holding only the runs ``rows`` (a bool mask) in full; the rest are zeros."""
        keep = np.asarray(rows, dtype=bool)

        def cut(values: np.ndarray) -> np.ndarray:
            return np.where(keep.reshape((-1,) + (1,) * (values.ndim - 1)), values, np.zeros_like(values))

        return BatchedInfos(
            self.names,
            cut(self.step),
            cut(self.dev_loss),
            cut(self.dev_accuracy),
            cut(self.minibatches),
            cut(self.samples),
            cut(self.action_mask),
            {i: entry for i, entry in self.nan_loss.items() if keep[i]},
            [entry if keep[i] else {} for i, entry in enumerate(self.rules)],
            None if self.dev_age is None else cut(self.dev_age),
        )


@dataclass
class BatchedStep:
    """One step of all runs, before it is worded for gymnasium or SB3."""

    observations: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    infos: BatchedInfos
    ended: np.ndarray
    """Runs whose episode ended in this step (terminated or truncated)."""
    final_observations: np.ndarray | None = None
    """Same-step autoreset: the ended runs' last observations (the returned ones are after reset)."""
    final_infos: BatchedInfos | None = None


class RunTrainer:
    """What a rule may use of one run's trainer: ``suite``, ``config``, ``model`` (a module holding
    the run's current parameters), ``evaluate``, ``snapshot``, ``restore`` and ``loss_functions``
    (a task's entry may become a :class:`DistillationLoss`). Stepping is the env's."""

    def __init__(self, env: BatchedMTLEnv, run: int):
        self.env, self.run = env, run
        self.suite = env.suite
        self.config = env.trainer_config
        self.loss_functions: list[Callable] = [supervised_loss] * env.num_tasks

    @property
    def model(self) -> FeatureHeadsMTL:
        return self.env.run_model(self.run)

    def evaluate(self, split: str = "dev", tasks: list[int] | None = None) -> dict[str, TaskMetrics]:
        return evaluate(self.model, self.suite, split, tasks, self.config.eval_batch_size)

    def snapshot(self) -> Snapshot:
        return Snapshot(self.env.run_state(self.run), None)

    def restore(self, snapshot: Snapshot) -> None:
        self.env.load_run_state(self.run, snapshot.model)


class RunView:
    """The single env's face of one run, for its rules."""

    def __init__(self, env: BatchedMTLEnv, run: int):
        self.env, self.run = env, run
        self.trainer = RunTrainer(env, run)
        self.suite = env.suite
        self.num_tasks = env.num_tasks
        self.config = env.config

    @property
    def steps(self) -> int:
        return int(self.env.steps[self.run])


class BatchedMTLEnv(VectorEnv):
    """``num_envs`` scheduling runs over cached features, as one gymnasium ``VectorEnv``.

    ``suite``, ``config`` (:class:`EnvConfig`), ``trainer`` (:class:`TrainerConfig`),
    ``data_dir`` and ``suite_options`` mean what they mean for :class:`MTLSchedulingEnv`;
    ``model`` is the config of the *encoder* trained once to produce the features, and
    ``features`` (:class:`FeatureConfig`) its budget and the size of each run's shared layer.
    Observations, rewards, masks and info are those of the single env, per run; actions are an
    int array of ``num_envs`` task indices. ``autoreset_mode`` is gymnasium's: ``NEXT_STEP``
    (the default: an ended run is reset by the following step, which ignores its action) or
    ``SAME_STEP`` (reset at once; the final observation and info are in ``info["final_obs"]`` and
    ``info["final_info"]``), the mode the SB3 adapter uses. ``rules`` builds each run's rules
    afresh at each of its resets (e.g. ``lambda: [AsyncKDRule("joint")]``); they mask, add tasks
    and end episodes per run, as in the single env. The feature table, every run's parameters and
    the probe tensors live on ``trainer``'s device (:attr:`device`); observations, rewards and info
    come back as NumPy arrays, as on the CPU.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 16,
        suite: TaskSuite | str = "synthetic",
        model: ModelConfig | dict | None = None,
        config: EnvConfig | dict | None = None,
        trainer: TrainerConfig | dict | None = None,
        features: FeatureConfig | dict | None = None,
        data_dir: str | Path | None = None,
        suite_options: dict | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        cache_dir: str | Path | None = None,
        rules: Callable[[], Sequence[Rule]] | None = None,
    ):
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.num_envs = num_envs
        self.config = EnvConfig.of(config)
        if self.config.torch_threads:
            torch.set_num_threads(self.config.torch_threads)
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        if self.autoreset_mode is AutoresetMode.DISABLED:
            raise ValueError("BatchedMTLEnv resets ended runs itself: use NEXT_STEP or SAME_STEP")
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        source = (
            suite if isinstance(suite, TaskSuite) else load_suite(suite, data_dir, **(suite_options or {}))
        )
        check_observe_tasks(self.config, len(source))  # before an encoder is trained for nothing
        self.encoder = model if isinstance(model, ModelConfig) else ModelConfig(**(model or {}))
        self.trainer_config = TrainerConfig.of(trainer)
        self.device = resolve_device(self.trainer_config.device)
        """Where the table, the runs' parameters and the batched computations are."""
        self.feature_config = (
            features if isinstance(features, FeatureConfig) else FeatureConfig(**(features or {}))
        )
        self.features = frozen_features(
            source, self.encoder, self.trainer_config, self.feature_config, cache_dir
        )
        self.suite = feature_suite(source, self.features)
        self.hidden_dim = self.feature_config.hidden_dim or self.encoder.hidden_dim
        self.model_factory = FeatureModelConfig(self.features, self.hidden_dim)
        self.rules_factory = rules
        self.num_tasks = len(self.suite)
        self.objective = bind_objective(self.config.objective, self.suite.names)
        self.reference = resolve_reference(self.config, self.suite, self.model_factory, self.trainer_config)
        self.single_action_space, self.single_observation_space = scheduling_spaces(
            self.num_tasks, self.config
        )
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._build_data()
        self._build_state()

    # -- setup ----------------------------------------------------------------------------------

    def _build_data(self) -> None:
        """The suite as tensors of feature-table rows: train splits padded to one width, the dev
        splits concatenated, and the probe counts per task; built on the CPU, then moved to the
        device once."""
        config, tasks, device = self.config, list(self.suite), self.device
        self.table = self.features.table.to(device)
        self.classes = [task.num_labels for task in tasks]
        self.max_classes = max(self.classes)
        self.class_valid = torch.tensor(
            [[c < n for c in range(self.max_classes)] for n in self.classes], device=device
        )
        self.class_counts = torch.tensor(self.classes, device=device)
        width = max(len(task.train) for task in tasks)
        train_rows = torch.zeros(self.num_tasks, width, dtype=torch.long)
        train_labels = torch.zeros(self.num_tasks, width, dtype=torch.long)
        for t, task in enumerate(tasks):
            train_rows[t, : len(task.train)] = task.train.tokens[:, 0]
            train_labels[t, : len(task.train)] = task.train.labels
        self.train_rows, self.train_labels = train_rows.to(device), train_labels.to(device)
        self.dev_rows = [task.dev.tokens[:, 0].to(device) for task in tasks]
        self.dev_labels = [task.dev.labels.to(device) for task in tasks]
        self.dev_features = self.table[torch.cat(self.dev_rows)]
        bounds = np.cumsum([0] + [len(task.dev) for task in tasks])
        self.dev_slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self.hard_counts = [min(config.hard_samples, len(task.dev)) for task in tasks]
        if config.reward_set == "hard":
            self.reward_counts = list(self.hard_counts)
        elif config.reward_set == "dev":
            self.reward_counts = [len(task.dev) for task in tasks]
        else:
            self.reward_counts = [min(config.reward_samples, len(task.dev)) for task in tasks]
        if config.hard_from == "reward":
            self.hard_counts = [min(config.hard_samples, n) for n in self.reward_counts]

        def valid(counts: list[int]) -> torch.Tensor:
            return (torch.arange(max(counts)).unsqueeze(0) < torch.tensor(counts).unsqueeze(1)).to(device)

        self.hard_valid, self.reward_valid = valid(self.hard_counts), valid(self.reward_counts)

    def _build_state(self) -> None:
        n, k, c = self.num_envs, self.num_tasks, self.max_classes
        d, h = self.features.dim, self.hidden_dim
        zeros = functools.partial(torch.zeros, device=self.device)
        self.params = {
            "shared_weight": zeros(n, d, h),
            "shared_bias": zeros(n, h),
            "head_weight": zeros(n, k, h, c),
            "head_bias": zeros(n, k, c),
        }
        """Every run's parameters, stacked; weights stored input-major (x @ W)."""
        self.moments = {name: (torch.zeros_like(p), torch.zeros_like(p)) for name, p in self.params.items()}
        self.shared_steps = zeros(n, dtype=torch.float64)
        self.head_steps = zeros(n, k, dtype=torch.float64)
        self.steps = np.zeros(n, dtype=np.int64)
        self.minibatches = np.zeros((n, k), dtype=np.int64)
        self.last_chosen = np.zeros((n, k), dtype=np.int64)
        """The decision at which each run last chose each task (0: not since reset)."""
        self.samples = np.zeros((n, k), dtype=np.int64)
        # Under hard_from="reward" the hard samples are reward samples, chosen at each pass.
        hard_width = 0 if self.config.hard_from == "reward" else self.hard_valid.shape[1]
        self.hard_rows = zeros(n, k, hard_width, dtype=torch.long)
        self.reward_rows = zeros(n, k, self.reward_valid.shape[1], dtype=torch.long)
        self.reward_labels = zeros(n, k, self.reward_valid.shape[1], dtype=torch.long)
        self.probe_features = zeros(n, k * (self.hard_rows.shape[2] + self.reward_rows.shape[2]), d)
        """Each run's hard then reward samples' features, gathered when they change (at reset and
        refresh), not at every step."""
        self.dev_loss = np.full((n, k), np.nan)
        self.dev_accuracy = np.full((n, k), np.nan)
        self.measured_at = np.zeros((n, k), dtype=np.int64)
        """The decision at which each run's histogram, loss and accuracy of each task were last
        measured (they and ``observations``' histograms are kept in between)."""
        self.previous_loss = np.zeros(n)
        self.reset_loss = np.full((n, k), np.nan)
        """Each run's reward-set losses at reset (the ``loss-normalized`` reward and feature)."""
        self.observations = np.zeros((n, *self.single_observation_space.shape), dtype=np.float32)
        self.masks = np.ones((n, k), dtype=bool)
        self._rngs: list[np.random.Generator | None] = [None] * n
        self._samplers: list[list[EpochSampler]] = [[] for _ in range(n)]
        self._autoreset = np.zeros(n, dtype=bool)
        self._started = False
        self.rules: list[list[Rule]] = [[] for _ in range(n)]
        self.views = [RunView(self, i) for i in range(n)]
        self._scratch: FeatureHeadsMTL | None = None

    def single_env(self, **kwargs: Any) -> MTLSchedulingEnv:
        """The single env that each run reproduces: :class:`MTLSchedulingEnv` over the feature suite
        with the cached-feature model (same config and trainer). Run ``i`` of ``reset(seed=s)``
        matches it reset with ``seed=s + i``."""
        return MTLSchedulingEnv(self.suite, self.model_factory, self.config, self.trainer_config, **kwargs)

    # -- episodes -------------------------------------------------------------------------------

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every run (or those of ``options["reset_mask"]``); an int seed gives run i the
        seed ``seed + i``, as gymnasium's ``SyncVectorEnv`` does."""
        seeds = self._seeds(seed)
        rows = np.ones(self.num_envs, dtype=bool)
        if options and "reset_mask" in options:
            rows = np.asarray(options["reset_mask"], dtype=bool)
            if rows.shape != (self.num_envs,) or not rows.any():
                raise ValueError(f"reset_mask must be a bool array of shape ({self.num_envs},) with a True")
        self._reset_runs(np.flatnonzero(rows), [seeds[i] for i in np.flatnonzero(rows)])
        self._autoreset[rows] = False
        self._started = True
        return self.observations.copy(), self._vector_info(self.infos(), rows)

    def _seeds(self, seed: int | list[int | None] | None) -> list[int | None]:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, int | np.integer):
            return [int(seed) + i for i in range(self.num_envs)]
        if len(seed) != self.num_envs:
            raise ValueError(f"got {len(seed)} seeds for {self.num_envs} runs")
        return list(seed)

    def _reset_runs(self, runs: np.ndarray, seeds: list[int | None]) -> None:
        """What ``MTLSchedulingEnv.reset`` does, for each run in ``runs``, in the same order of
        random draws: model seed, model, samplers, reward samples; then hard samples and metrics."""
        if not len(runs):
            return
        config = self.config
        for i, seed in zip(runs, seeds, strict=True):
            if seed is not None or self._rngs[i] is None:
                self._rngs[i], _ = seeding.np_random(seed)
            rng = self._rngs[i]
            model_seed = draw_model_seed(rng)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(model_seed)
                model = self.model_factory(self.suite)
            self._load_model(i, model)
            self._samplers[i] = [
                EpochSampler(len(task.train), self.trainer_config.batch_size, seed=[model_seed, t])
                for t, task in enumerate(self.suite)
            ]
            if config.reward_set != "hard":
                for t in range(self.num_tasks):
                    positions = draw_reward_index(rng, len(self.dev_rows[t]), config).to(self.device)
                    self.reward_rows[i, t, : len(positions)] = self.dev_rows[t][positions]
                    self.reward_labels[i, t, : len(positions)] = self.dev_labels[t][positions]
        index = torch.from_numpy(runs).to(self.device)
        for first, second in self.moments.values():
            first[index] = 0.0
            second[index] = 0.0
        self.shared_steps[index] = 0.0
        self.head_steps[index] = 0.0
        self.steps[runs] = 0
        self.minibatches[runs] = 0
        self.last_chosen[runs] = 0
        self.measured_at[runs] = 0
        self.reset_loss[runs] = np.nan
        self.samples[runs] = 0
        if self.rules_factory is not None:
            for i in runs:
                self.views[i] = RunView(self, int(i))
                self.rules[i] = list(self.rules_factory())
                for rule in self.rules[i]:
                    rule.reset(self.views[i])
            self._update_masks(runs)
        self._refresh(runs)
        self._observe(runs)
        self.previous_loss[runs] = self.dev_loss[runs].sum(axis=1)

    def _update_masks(self, runs: np.ndarray) -> None:
        for i in runs:
            mask = np.ones(self.num_tasks, dtype=bool)
            for rule in self.rules[i]:
                mask &= rule.allowed(self.views[i])
            self.masks[i] = mask

    def run_model(self, run: int) -> FeatureHeadsMTL:
        """A model holding run ``run``'s current parameters (one scratch module, overwritten by
        the next call), for rules that evaluate or label with it."""
        if self._scratch is None:
            with torch.random.fork_rng(devices=[]):
                self._scratch = self.model_factory(self.suite).to(self.device)
        self._load_model(run, self._scratch, into_model=True)
        return self._scratch

    def run_state(self, run: int) -> dict[str, torch.Tensor]:
        """Copies of run ``run``'s parameters, Adam moments and step counts."""
        state = {name: param[run].clone() for name, param in self.params.items()}
        for name, (first, second) in self.moments.items():
            state[f"{name}.exp_avg"], state[f"{name}.exp_avg_sq"] = first[run].clone(), second[run].clone()
        state["shared_steps"], state["head_steps"] = (
            self.shared_steps[run].clone(),
            self.head_steps[run].clone(),
        )
        return state

    def load_run_state(self, run: int, state: dict[str, torch.Tensor]) -> None:
        for name, param in self.params.items():
            param[run] = state[name]
            self.moments[name][0][run] = state[f"{name}.exp_avg"]
            self.moments[name][1][run] = state[f"{name}.exp_avg_sq"]
        self.shared_steps[run], self.head_steps[run] = state["shared_steps"], state["head_steps"]

    def _load_model(self, i: int, model: torch.nn.Module, into_model: bool = False) -> None:
        """Copy ``model``'s parameters into run ``i`` (or, ``into_model``, run ``i``'s into ``model``);
        ``copy_`` crosses devices, so a model built on the CPU fills a run on the GPU."""
        pairs = [
            (model.shared.weight.T, self.params["shared_weight"][i]),
            (model.shared.bias, self.params["shared_bias"][i]),
        ]
        for t, head in enumerate(model.heads):
            pairs.append((head.weight.T, self.params["head_weight"][i, t, :, : head.out_features]))
            pairs.append((head.bias, self.params["head_bias"][i, t, : head.out_features]))
        with torch.no_grad():
            for theirs, ours in pairs:
                (theirs if into_model else ours).copy_(ours if into_model else theirs)

    # -- stepping -------------------------------------------------------------------------------

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        result = self.advance(actions)
        present = np.ones(self.num_envs, dtype=bool)
        info = self._vector_info(result.infos, present)
        if result.final_observations is not None:
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(result.ended):
                final_obs[i] = result.final_observations[i]
            info["final_obs"], info["_final_obs"] = final_obs, result.ended.copy()
            info["final_info"], info["_final_info"] = (
                self._vector_info(result.final_infos, result.ended),
                result.ended.copy(),
            )
        return result.observations, result.rewards, result.terminated, result.truncated, info

    def _vector_info(self, infos: BatchedInfos, rows: np.ndarray) -> dict[str, Any]:
        """``infos`` in gymnasium's vector convention, with the rules' entries merged in."""
        info = infos.vector(rows)
        for i in np.flatnonzero(rows) if infos.rules else ():
            merge_info(info, infos.rules[i], int(i), self.num_envs)
        return info

    def advance(self, actions: Any) -> BatchedStep:
        """One decision of every run, as arrays (:meth:`step` words it for gymnasium, the SB3
        adapter for SB3). Raises :class:`InvalidActionError` before training anything when an
        action is not an allowed task index."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        resetting = self._autoreset.copy()
        actions = self._check_actions(actions, resetting)
        n = self.num_envs
        rewards = np.zeros(n)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        self._reset_runs(np.flatnonzero(resetting), [None] * int(resetting.sum()))
        alive = np.flatnonzero(~resetting)
        failed: dict[int, dict] = {}
        for _ in range(self.config.steps_per_action):
            if not len(alive):
                break
            failed.update(self._train(*self._entries(alive, actions[alive])))
            alive = np.array([i for i in alive if i not in failed], dtype=np.int64)
            self.steps[alive] += 1
            for i in alive if self.rules_factory is not None else ():
                for rule in self.rules[i]:
                    rule.after_step(self.views[i])
            if self.config.hard_from == "dev":
                self._refresh(alive[self.steps[alive] % self.config.refresh_every == 0])
        self.last_chosen[alive, actions[alive]] = self.decisions[alive]
        if self.rules_factory is not None:
            self._update_masks(alive)
            terminated[alive] = [any(rule.done(self.views[i]) for rule in self.rules[i]) for i in alive]
        last_observations = self.observations[alive].copy()
        self._observe(alive)
        failed.update(self._diverged_on_dev(alive, last_observations))
        if len(alive):
            # The single env's reward functions, one row per run.
            reward, total = loss_reward(
                self.config.reward,
                self.dev_loss[alive],
                self.reset_loss[alive],
                self.previous_loss[alive],
                self.objective,
            )
            if self.reference is not None:
                below = below_reference(
                    self.dev_accuracy[alive], self.reference, self.config.penalty_threshold, self.objective
                )
                judged = self.config.penalty_judged(self.steps[alive])
                reward = np.where(below & judged, float(self.config.penalty), reward)
            rewards[alive] = reward if self.config.observe else 0.0
            self.previous_loss[alive] = total
            truncated[alive] = self.steps[alive] >= self.config.episode_steps * self.config.steps_per_action
        failed_runs = np.array(sorted(failed), dtype=np.int64)
        # As in the single env: a diverged run failed (terminated), it did not run out of time.
        rewards[failed_runs] = self.config.penalty
        terminated[failed_runs], truncated[failed_runs] = True, False
        infos = self.infos(failed)
        ended = terminated | truncated
        result = BatchedStep(self.observations.copy(), rewards, terminated, truncated, infos, ended)
        if self.autoreset_mode is AutoresetMode.SAME_STEP and ended.any():
            result.final_observations, result.final_infos = result.observations, infos.take(ended)
            self._reset_runs(np.flatnonzero(ended), [None] * int(ended.sum()))
            result.observations, result.infos = self.observations.copy(), self.infos()
        else:
            self._autoreset = ended
        return result

    def _diverged_on_dev(self, runs: np.ndarray, last_observations: np.ndarray) -> dict[int, dict]:
        """As the single env: a run whose last update left the model non-finite (its training loss
        was still finite) fails, keeping its last finite observation (``last_observations``, one row
        per run of ``runs``); the entry names its first non-finite task (task 0 if only the
        histograms are)."""
        if not self.config.observe or not len(runs):
            return {}
        finite = np.isfinite(self.dev_loss[runs])
        diverged = ~(finite.all(axis=1) & np.isfinite(self.observations[runs]).all(axis=1))
        failed = {}
        for row in np.flatnonzero(diverged):
            run, task = int(runs[row]), int(np.argmin(finite[row]))
            self.observations[run] = last_observations[row]
            failed[run] = {
                "task": self.suite.names[task],
                "value": float(self.dev_loss[run, task]),
                "where": "dev",
            }
        return failed

    def _check_actions(self, actions: Any, skipped: np.ndarray) -> np.ndarray:
        values = np.asarray(actions)
        if values.shape != (self.num_envs,) or not np.issubdtype(values.dtype, np.integer):
            raise InvalidActionError(
                f"actions are {self.num_envs} integer task indices, one per run; got {actions!r}"
            )
        for i, task in enumerate(values.tolist()):
            if skipped[i]:
                continue
            if not 0 <= task < self.num_tasks:
                raise InvalidActionError(f"run {i}: action {task} is out of range for {self.num_tasks} tasks")
            if not self.masks[i, task]:
                raise InvalidActionError(f"run {i}: action {task} ({self.suite[task].name!r}) is masked")
        return values.astype(np.int64)

    @property
    def decisions(self) -> np.ndarray:
        """Each run's env steps this episode (training steps / steps_per_action)."""
        return self.steps // self.config.steps_per_action

    def action_masks(self) -> np.ndarray:
        """``[num_envs, num_tasks]`` bool masks, True = allowed (the sb3-contrib convention)."""
        return self.masks.copy()

    def _entries(
        self, runs: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """What each run trains in this step: its action and, with rules, their extra tasks and
        loss weights (None: one entry per run, weight 1)."""
        if self.rules_factory is None:
            return runs, actions, None
        entry_runs, entry_tasks, weights = [], [], []
        for i, action in zip(runs.tolist(), actions.tolist(), strict=True):
            tasks, task_weights = [action], [1.0]
            for rule in self.rules[i]:
                extra, extra_weights = rule.extra_tasks(self.views[i], action)
                tasks += extra
                task_weights += extra_weights
            entry_runs += [i] * len(tasks)
            entry_tasks += tasks
            weights += task_weights
        return np.array(entry_runs, dtype=np.int64), np.array(entry_tasks, dtype=np.int64), np.array(weights)

    def infos(self, failed: dict[int, dict] | None = None) -> BatchedInfos:
        """Every run's info now; ``failed`` adds ``nan_loss`` entries."""
        return BatchedInfos(
            self.suite.names,
            self.steps.copy(),
            self.dev_loss.copy(),
            self.dev_accuracy.copy(),
            self.minibatches.copy(),
            self.samples.copy(),
            self.masks.copy(),
            failed or {},
            [self._rule_info(i) for i in range(self.num_envs)] if self.rules_factory is not None else [],
            self.decisions[:, None] - self.measured_at if self.config.amortised else None,
        )

    def _rule_info(self, run: int) -> dict:
        info: dict = {}
        for rule in self.rules[run]:
            info.update(rule.info())
        return info

    # -- the batched computations ---------------------------------------------------------------

    def _mask_classes(self, logits: torch.Tensor, tasks: torch.Tensor | slice) -> torch.Tensor:
        """Padded classes (tasks with fewer labels than the widest) get -inf logits."""
        if all(c == self.max_classes for c in self.classes):
            return logits
        return logits.masked_fill(~self.class_valid[tasks].unsqueeze(-2), -torch.inf)

    def _targets(self, runs: np.ndarray, tasks: np.ndarray, positions: torch.Tensor, labels: torch.Tensor):
        """Soft targets ``[E, B, C]`` and temperatures ``[E]`` of each entry's minibatch: one-hot
        labels at T = 1, or the teacher's probabilities where a rule made the task's loss a
        :class:`DistillationLoss`."""
        targets = F.one_hot(labels, self.max_classes).to(self.table.dtype)
        temperatures = torch.ones(len(runs), device=self.device)
        if self.rules_factory is None:
            return targets, temperatures
        for e, (i, t) in enumerate(zip(runs.tolist(), tasks.tolist(), strict=True)):
            loss = self.views[i].trainer.loss_functions[t]
            if isinstance(loss, DistillationLoss):
                teacher = loss.teacher[positions[e]]
                targets[e, :, : teacher.shape[-1]] = teacher.to(self.device)
                temperatures[e] = loss.temperature
            elif loss is not supervised_loss:
                raise TypeError(f"run {i}: the batched env trains task losses it knows, not {loss!r}")
        return targets, temperatures

    def _train(
        self, runs: np.ndarray, tasks: np.ndarray, weights: np.ndarray | None = None
    ) -> dict[int, dict]:
        """One update of each run on a minibatch of each of its entries (``runs[e]`` trains task
        ``tasks[e]`` with loss weight ``weights[e]``; None: one entry per run, weight 1), as
        ``Trainer.step``: losses (cross-entropy, or KD to soft targets), gradients by hand, Adam
        on the shared layer and the heads trained. Runs with a non-finite loss are left untouched
        and returned with their first such entry's task and value."""
        # Minibatch positions, sizes and the run and task indices stay on the CPU (the samplers and
        # the NumPy bookkeeping use them); the arithmetic is on the device.
        device = self.device
        index = [self._samplers[i][t].next_index() for i, t in zip(runs, tasks, strict=True)]
        sizes = torch.tensor([len(chosen) for chosen in index])
        positions = torch.nn.utils.rnn.pad_sequence(index, batch_first=True)
        batch_sizes = sizes.to(device)
        valid = torch.arange(positions.shape[1], device=device).unsqueeze(0) < batch_sizes.unsqueeze(1)
        task_index, run_index = torch.from_numpy(tasks), torch.from_numpy(runs)
        rows = self.train_rows[task_index.unsqueeze(1), positions]
        labels = self.train_labels[task_index.unsqueeze(1), positions]
        targets, temperatures = self._targets(runs, tasks, positions, labels)
        inputs = F.embedding(rows, self.table)
        one_each = weights is None and len(runs) == self.num_envs
        entry_rows = slice(None) if one_each else run_index
        weight, bias = self.params["shared_weight"][entry_rows], self.params["shared_bias"][entry_rows]
        head_weight = self.params["head_weight"][run_index, task_index]
        head_bias = self.params["head_bias"][run_index, task_index]
        before = torch.baddbmm(bias.unsqueeze(1), inputs, weight)
        hidden = torch.relu(before)
        logits = self._mask_classes(torch.baddbmm(head_bias.unsqueeze(1), hidden, head_weight), task_index)
        scale = valid.to(self.table.dtype) / batch_sizes.unsqueeze(1)
        soft = temperatures.ne(1.0).any()
        log_p = log_softmax(logits / temperatures.view(-1, 1, 1) if soft else logits)
        per_example = -torch.where(targets > 0, targets * log_p, targets.new_zeros(())).sum(-1)
        losses = (per_example * scale).sum(1) * temperatures**2
        finite = torch.isfinite(losses).cpu().numpy()
        failed: dict[int, dict] = {}
        for e in np.flatnonzero(~finite):
            failed.setdefault(
                int(runs[e]),
                {"task": self.suite[int(tasks[e])].name, "value": float(losses[e]), "where": "train"},
            )
        # d loss / d logits: (softmax(logits / T) - targets) x T / batch size, times the loss weight.
        factor = scale * temperatures.unsqueeze(1)
        if weights is not None:
            factor = factor * torch.from_numpy(weights).to(device, self.table.dtype).unsqueeze(1)
        grad_logits = torch.nan_to_num((log_p.exp() - targets) * factor.unsqueeze(-1))
        grad_head_weight = hidden.transpose(1, 2) @ grad_logits
        grad_head_bias = grad_logits.sum(1)
        grad_before = (grad_logits @ head_weight.transpose(1, 2)) * (before > 0)
        grad_weight = inputs.transpose(1, 2) @ grad_before
        grad_bias = grad_before.sum(1)
        keep = torch.from_numpy(np.array([int(i) not in failed for i in runs], dtype=bool))
        if not keep.all():
            run_index, task_index, sizes = run_index[keep], task_index[keep], sizes[keep]
            kept = keep.to(device)
            grad_weight, grad_bias = grad_weight[kept], grad_bias[kept]
            grad_head_weight, grad_head_bias = grad_head_weight[kept], grad_head_bias[kept]
        if one_each and keep.all():
            shared: slice | torch.Tensor = slice(None)  # update the stacked tensors in place, through views
        else:
            shared = run_index.unique()
            if not one_each:  # sum each run's entries' gradients
                position = torch.searchsorted(shared, run_index).to(device)
                grad_weight = grad_weight.new_zeros(len(shared), *grad_weight.shape[1:]).index_add_(
                    0, position, grad_weight
                )
                grad_bias = grad_bias.new_zeros(len(shared), *grad_bias.shape[1:]).index_add_(
                    0, position, grad_bias
                )
        lr = self.trainer_config.lr
        self.shared_steps[shared] += 1
        steps = self.shared_steps[shared]
        for name, grad in (("shared_weight", grad_weight), ("shared_bias", grad_bias)):
            param = self.params[name][shared]
            first, second = (m[shared] for m in self.moments[name])
            adam_rows(param, grad, first, second, steps, lr)
            if not isinstance(shared, slice):
                self.params[name][shared] = param
                self.moments[name][0][shared], self.moments[name][1][shared] = first, second
        self.head_steps[run_index, task_index] += 1
        steps = self.head_steps[run_index, task_index]
        for name, grad in (("head_weight", grad_head_weight), ("head_bias", grad_head_bias)):
            param = self.params[name][run_index, task_index]
            first, second = (m[run_index, task_index] for m in self.moments[name])
            adam_rows(param, grad, first, second, steps, lr)
            self.params[name][run_index, task_index] = param
            self.moments[name][0][run_index, task_index] = first
            self.moments[name][1][run_index, task_index] = second
        kept_runs, kept_tasks = run_index.numpy(), task_index.numpy()
        np.add.at(self.minibatches, (kept_runs, kept_tasks), 1)
        np.add.at(self.samples, (kept_runs, kept_tasks), sizes.numpy())
        return failed

    def _refresh(self, runs: np.ndarray) -> None:
        """Re-choose each run's hard samples (unless ``hard_from="reward"``, which chooses them at
        each pass), then gather the runs' probe features."""
        if not self.config.observe or not len(runs):
            return
        if self.config.hard_from == "dev":
            self._choose_hard(runs)
        index = torch.from_numpy(np.asarray(runs)).to(self.device)
        rows = torch.cat([self.hard_rows[index], self.reward_rows[index]], dim=2).reshape(len(runs), -1)
        self.probe_features[index] = F.embedding(rows, self.table)

    def _choose_hard(self, runs: np.ndarray) -> None:
        """Each run's hard samples: the ``hard_samples`` dev examples of highest loss per task, ties
        broken by position (as :func:`~mtl_gym.env.probes.hardest_examples`)."""
        for chunk in torch.from_numpy(np.asarray(runs)).split(REFRESH_CHUNK):
            weight, bias = self.params["shared_weight"][chunk], self.params["shared_bias"][chunk]
            hidden = torch.relu(torch.matmul(self.dev_features, weight) + bias.unsqueeze(1))
            for t, part in enumerate(self.dev_slices):
                classes = self.classes[t]
                logits = hidden[:, part] @ self.params["head_weight"][chunk, t, :, :classes]
                logits = logits + self.params["head_bias"][chunk, t, :classes].unsqueeze(1)
                labels = self.dev_labels[t].expand(len(chunk), -1)
                losses = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
                order = torch.argsort(-losses, dim=1, stable=True)[:, : self.hard_counts[t]]
                chosen = order.sort(dim=1).values
                self.hard_rows[chunk, t, : self.hard_counts[t]] = self.dev_rows[t][chosen]
                if self.config.reward_set == "hard":
                    self.reward_rows[chunk, t, : self.hard_counts[t]] = self.dev_rows[t][chosen]
                    self.reward_labels[chunk, t, : self.hard_counts[t]] = self.dev_labels[t][chosen]

    def _observe(self, runs: np.ndarray) -> None:
        """Histograms of hard-sample uncertainty, reward-set loss and accuracy of each run in
        ``runs`` whose probe pass is due (of every task, or of its turn's tasks under
        ``observe_tasks``), into ``observations``, ``dev_loss`` and ``dev_accuracy``; then every
        run's features, from its last measured losses."""
        if not len(runs):
            return
        if not self.config.observe:
            self.observations[runs] = 0.0
            self.dev_loss[runs] = np.nan
            self.dev_accuracy[runs] = np.nan
            return
        config, runs = self.config, np.asarray(runs)
        due = runs[probe_due(self.decisions[runs], config.probe_every)]
        subset = (
            config.observe_tasks if config.observe_tasks and config.observe_tasks < self.num_tasks else None
        )
        if subset is None:
            self._measure(due, None)
        else:
            first = self.decisions[due] == 0  # reset measures every task
            self._measure(due[first], None)
            turns = rotation(self.decisions[due[~first]], config.probe_every, subset, self.num_tasks)
            self._measure(due[~first], torch.from_numpy(turns))
        fresh = np.isnan(self.reset_loss[runs, 0])  # the first observation since reset
        self.reset_loss[runs[fresh]] = self.dev_loss[runs[fresh]]
        extra = features(
            config.features,
            minibatches=self.minibatches[runs],
            last_chosen=self.last_chosen[runs],
            losses=self.dev_loss[runs],
            reset_losses=self.reset_loss[runs] if config.reward == "loss-normalized" else None,
            step=self.decisions[runs],
            horizon=config.episode_steps,
            measured_at=self.measured_at[runs],
        )
        self.observations[runs, self.num_tasks * config.bins :] = extra

    def _measure(self, runs: np.ndarray, tasks: torch.Tensor | None) -> None:
        """One probe pass of each run in ``runs`` over its ``tasks`` (``[runs, m]`` task indices;
        None: every task): their histograms into ``observations``, their losses and accuracies
        into ``dev_loss`` and ``dev_accuracy``. Tasks not measured cost nothing."""
        if not len(runs):
            return
        index = torch.from_numpy(runs)
        count, k, bins = len(runs), self.num_tasks, self.config.bins
        hard_width = self.hard_rows.shape[2]
        runs_or_all = slice(None) if count == self.num_envs else index
        pairs = (index.unsqueeze(1), tasks)

        def per_run(table: torch.Tensor) -> torch.Tensor:
            """A ``[num_envs, K, ...]`` table's rows of the measured runs and tasks."""
            return table[runs_or_all] if tasks is None else table[pairs]

        def per_task(table: torch.Tensor) -> torch.Tensor:
            """A ``[K, ...]`` table's rows of the measured tasks."""
            return table if tasks is None else table[tasks]

        probes = self.probe_features.view(self.num_envs, k, -1, self.probe_features.shape[-1])
        measured = k if tasks is None else tasks.shape[1]
        weight, bias = self.params["shared_weight"][runs_or_all], self.params["shared_bias"][runs_or_all]
        hidden = torch.baddbmm(bias.unsqueeze(1), per_run(probes).flatten(1, 2), weight).relu_()
        hidden = hidden.view(count, measured, -1, hidden.shape[-1])
        head_weight, head_bias = per_run(self.params["head_weight"]), per_run(self.params["head_bias"])
        # As (W^T h^T)^T: with a few classes, the product the other way round is twice as slow.
        logits = (head_weight.transpose(-1, -2) @ hidden.transpose(-1, -2)).transpose(-1, -2)
        logits = logits + head_bias.unsqueeze(2)
        logits = self._mask_classes(logits, slice(None) if tasks is None else tasks)
        hard, reward = logits[:, :, :hard_width], logits[:, :, hard_width:]
        labels = per_run(self.reward_labels)
        reward_valid = per_task(self.reward_valid)
        per_example = -log_softmax(reward).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
        if self.config.hard_from == "reward":  # each pass's hardest reward samples, as the single env
            ranked = per_example.masked_fill(~reward_valid, -math.inf)
            top = torch.argsort(-ranked, dim=-1, stable=True)[..., : self.hard_valid.shape[1]]
            hard = reward.gather(2, top.unsqueeze(-1).expand(-1, -1, -1, reward.shape[-1]))
        values = hard.new_zeros(hard.shape[:-1])
        probabilities = log_softmax(hard).exp()
        classes = per_task(self.class_counts).expand(count, measured)
        for c in sorted(set(self.classes)):
            where = classes == c
            values[where] = uncertainty(probabilities[where][..., :c], self.config.uncertainty)
        found = histograms(values, bins, per_task(self.hard_valid))
        valid = reward_valid.to(self.table.dtype)
        losses = (per_example * valid).sum(-1) / valid.sum(-1)
        correct = (predicts(reward, labels) & reward_valid).sum(-1)
        accuracies = correct / reward_valid.sum(-1)
        columns = np.broadcast_to(np.arange(k), (count, k)) if tasks is None else tasks.numpy()
        at = (runs[:, None], columns)
        self.observations[runs[:, None, None], columns[..., None] * bins + np.arange(bins)] = (
            found.cpu().numpy()
        )
        self.dev_loss[at] = losses.cpu().double().numpy()
        self.dev_accuracy[at] = accuracies.cpu().double().numpy()
        self.measured_at[at] = self.decisions[runs][:, None]
