"""MTLSchedulingEnv: the scheduling problem of the QLS paper (§4.2-4.4) as a Gymnasium env.

Each step trains the MTL model on a minibatch of the task the action picks. The observation is
the concatenated, normalised histogram of each task's uncertainty over its hard dev samples, then
any feature groups of ``EnvConfig.features`` (budget share, steps since chosen, loss, elapsed, age;
see :mod:`mtl_gym.env.observation`); the reward is minus the summed dev loss (optionally per task
relative to reset), or the penalty when mean accuracy falls under 95% of the single-task reference.
The histograms and losses come from a probe pass, at every step unless ``EnvConfig.observe_every``
or ``observe_tasks`` amortise it; the last measured ones stand in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from ..data import IGNORE_INDEX, TaskSuite, load_suite
from ..models import ModelConfig
from ..objective import bind_objective
from ..training import (
    NonFiniteLossError,
    OptimizerFactory,
    Trainer,
    TrainerConfig,
    example_losses,
    task_loss,
)
from ..training.runs import ModelFactory, build_trainer, draw_model_seed
from ..training.trainer import Backward, weighted_sum_backward
from .config import EnvConfig
from .observation import below_reference, feature_bounds, features, loss_reward, measured_tasks
from .probes import ProbeSet, hardest_examples
from .reference import reference_accuracies
from .rules import Rule
from .uncertainty import histogram, uncertainty


def scheduling_spaces(num_tasks: int, config: EnvConfig) -> tuple[spaces.Discrete, spaces.Box]:
    """Action and observation space of one scheduling env over ``num_tasks`` tasks."""
    feature_low, feature_high = feature_bounds(config.features, num_tasks)
    low = np.concatenate([np.zeros(num_tasks * config.bins, dtype=np.float32), feature_low])
    high = np.concatenate([np.ones(num_tasks * config.bins, dtype=np.float32), feature_high])
    return spaces.Discrete(num_tasks), spaces.Box(low, high, dtype=np.float32)


def check_observe_tasks(config: EnvConfig, num_tasks: int) -> None:
    """``observe_tasks`` is bounded by the suite's task count, which EnvConfig does not know."""
    if config.observe_tasks is not None and config.observe_tasks > num_tasks:
        raise ValueError(
            f"EnvConfig.observe_tasks must be at most the suite's {num_tasks} tasks, got {config.observe_tasks}"
        )


def reference_minibatches(config: EnvConfig, num_tasks: int) -> int:
    """Minibatches per task of a ``reference="auto"`` run (``EnvConfig.reference_budget``)."""
    if config.reference_budget == "episode":
        return max(1, config.episode_steps * config.steps_per_action // num_tasks)
    return config.reference_budget


def resolve_reference(
    config: EnvConfig, suite: TaskSuite, model_factory: ModelFactory, trainer_config: TrainerConfig
) -> np.ndarray | None:
    """The single-task reference accuracies behind the penalty: given, ``"auto"`` (computed and
    cached), or None."""
    reference = config.reference
    if reference == "auto":
        budget = reference_minibatches(config, len(suite))
        reference = reference_accuracies(suite, model_factory, trainer_config, budget)
    if reference is None:
        return None
    if len(reference) != len(suite):
        raise ValueError(f"got {len(reference)} reference accuracies for {len(suite)} tasks")
    return np.asarray(reference, dtype=np.float64)


def draw_reward_index(rng: np.random.Generator, size: int, config: EnvConfig) -> torch.Tensor:
    """Dev positions behind one task's reward, drawn at reset (``reward_set``); empty for ``hard``,
    whose reward samples are the hard samples of the moment."""
    if config.reward_set == "dev":
        return torch.arange(size)
    if config.reward_set == "hard":
        return torch.empty(0, dtype=torch.long)
    chosen = rng.choice(size, size=min(config.reward_samples, size), replace=False)
    return torch.from_numpy(np.sort(chosen))


class InvalidActionError(ValueError):
    """An action that is not an allowed task index; nothing was trained."""


class MTLSchedulingEnv(gym.Env):
    """Choose which task the shared model trains on next.

    ``suite`` is a TaskSuite or a suite name (with ``data_dir`` and ``suite_options``); ``model``
    is any callable returning a module that follows :mod:`mtl_gym.models.protocol` (a
    ``ModelConfig`` or its dict by default); ``rules`` mask actions, add loss terms and end episodes.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        suite: TaskSuite | str = "synthetic",
        model: ModelFactory | dict | None = None,
        config: EnvConfig | dict | None = None,
        trainer: TrainerConfig | dict | None = None,
        rules: Sequence[Rule] = (),
        data_dir: str | Path | None = None,
        suite_options: dict | None = None,
        optimizer: OptimizerFactory | None = None,
        backward: Backward = weighted_sum_backward,
    ):
        self.config = EnvConfig.of(config)
        if self.config.torch_threads:
            torch.set_num_threads(self.config.torch_threads)
        self.suite = (
            suite if isinstance(suite, TaskSuite) else load_suite(suite, data_dir, **(suite_options or {}))
        )
        self.model_factory = model if callable(model) else ModelConfig(**(model or {}))
        self.trainer_config = TrainerConfig.of(trainer)
        self.rules = list(rules)
        self.optimizer_factory = optimizer
        self.backward = backward
        self.num_tasks = len(self.suite)
        check_observe_tasks(self.config, self.num_tasks)
        self.objective = bind_objective(self.config.objective, self.suite.names)
        self.reference = resolve_reference(self.config, self.suite, self.model_factory, self.trainer_config)
        self.action_space, self.observation_space = scheduling_spaces(self.num_tasks, self.config)
        self.trainer: Trainer | None = None

    # -- episode --------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.trainer = build_trainer(
            self.suite,
            self.model_factory,
            self.trainer_config,
            draw_model_seed(self.np_random),
            self.optimizer_factory,
            self.backward,
        )
        self.steps = 0
        self.last_chosen = np.zeros(self.num_tasks, dtype=np.int64)
        self.ended = False
        self.reward_index = [
            draw_reward_index(self.np_random, len(task.dev), self.config) for task in self.suite
        ]
        for rule in self.rules:
            rule.reset(self)
        self._refresh_probes()
        self._forget_measurements()
        self._reset_losses = None  # the first observation's losses become the reset losses
        observation, self._metrics = self._observe()
        self._previous_loss = float(sum(self._metrics["loss"]))
        return observation, self._info()

    def _refresh_probes(self) -> None:
        """Choose the hard samples (a full dev pass) unless ``hard_from="reward"``, which chooses
        them among the reward samples at each pass; then plan the probe passes."""
        if not self.config.observe:
            return
        if self.config.hard_from == "reward":
            self.hard_index = self.reward_index
        else:
            self.hard_index = [
                hardest_examples(
                    self.trainer.model,
                    self.suite,
                    t,
                    self.config.hard_samples,
                    self.trainer_config.eval_batch_size,
                )
                for t in range(self.num_tasks)
            ]
        reward_index = self.hard_index if self.config.reward_set == "hard" else self.reward_index
        self.probes = ProbeSet(
            self.suite, self.hard_index, reward_index, self.config.probe_chunk_size, self.config.batch_probes
        )

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self.trainer is None:
            raise RuntimeError("call reset() before step()")
        if self.ended:
            raise RuntimeError(
                f"the episode ended (terminated or truncated) after {self.steps} training steps; "
                "call reset() before step()"
            )
        task = self._check_action(action)
        try:
            for _ in range(self.config.steps_per_action):
                extra_tasks, extra_weights = [], []
                for rule in self.rules:
                    tasks, weights = rule.extra_tasks(self, task)
                    extra_tasks += tasks
                    extra_weights += weights
                self.trainer.step([task, *extra_tasks], [1.0, *extra_weights])
                self.steps += 1
                for rule in self.rules:
                    rule.after_step(self)
                if self.config.hard_from == "dev" and self.steps % self.config.refresh_every == 0:
                    self._refresh_probes()
        except NonFiniteLossError as err:
            return self._end_on_nan(err.task_name, err.value)
        self.last_chosen[task] = self.decisions
        previous = self._last_observation
        observation, self._metrics = self._observe()
        finite = np.isfinite(self._metrics["loss"])
        if self.config.observe and not (finite.all() and np.isfinite(observation).all()):
            # The last update left the model non-finite (its training loss was still finite).
            self._last_observation = previous
            bad = int(np.argmin(finite))  # the first non-finite loss (task 0 if only the histograms are)
            return self._end_on_nan(self.suite[bad].name, self._metrics["loss"][bad], where="dev")
        reward = self._reward()
        terminated = any(rule.done(self) for rule in self.rules)
        truncated = self.steps >= self.config.episode_steps * self.config.steps_per_action
        self.ended = terminated or truncated
        return observation, reward, terminated, truncated, self._info()

    def _end_on_nan(self, task_name: str, value: float, where: str = "train") -> tuple:
        """A diverged model is a failure of the schedule, not a time limit: the episode ends as
        terminated (so that value learning does not bootstrap from it) with the penalty, and the
        last finite observation."""
        info = self._info()
        info["nan_loss"] = {"task": task_name, "value": value, "where": where}
        self.ended = True
        return self._last_observation, float(self.config.penalty), True, False, info

    @property
    def decisions(self) -> int:
        """Env steps taken this episode (training steps / steps_per_action)."""
        return self.steps // self.config.steps_per_action

    def _check_action(self, action: Any) -> int:
        value = np.asarray(action)
        if value.size != 1 or not np.issubdtype(value.dtype, np.integer):
            raise InvalidActionError(f"an action is one integer task index, got {action!r}")
        task = int(value.reshape(()))
        if not 0 <= task < self.num_tasks:
            raise InvalidActionError(f"action {task} is out of range for {self.num_tasks} tasks")
        if not self.action_masks()[task]:
            raise InvalidActionError(f"action {task} ({self.suite[task].name!r}) is masked")
        return task

    def action_masks(self) -> np.ndarray:
        """Bool mask over actions, True = allowed (the sb3-contrib convention)."""
        mask = np.ones(self.num_tasks, dtype=bool)
        for rule in self.rules:
            mask &= rule.allowed(self)
        return mask

    # -- observation and reward -----------------------------------------------------------------

    def _forget_measurements(self) -> None:
        """Nothing measured yet this episode: the reset's probe pass measures every task."""
        self._histograms = np.zeros((self.num_tasks, self.config.bins), dtype=np.float32)
        self._losses = [float("nan")] * self.num_tasks
        self._accuracies = [float("nan")] * self.num_tasks
        self._measured_at = np.zeros(self.num_tasks, dtype=np.int64)
        """The env step at which each task's histogram, loss and accuracy were last measured."""

    def _observe(self) -> tuple[np.ndarray, dict]:
        if not self.config.observe:
            nothing = [float("nan")] * self.num_tasks
            self._last_observation = np.zeros(self.observation_space.shape, dtype=np.float32)
            return self._last_observation, {"loss": nothing, "accuracy": nothing}
        config = self.config
        tasks = measured_tasks(self.decisions, config.probe_every, config.observe_tasks, self.num_tasks)
        if len(tasks):
            self._measure(tasks)
        if self._reset_losses is None:
            self._reset_losses = list(self._losses)
        extra = features(
            config.features,
            minibatches=self.trainer.budget.per_task,
            last_chosen=self.last_chosen,
            losses=self._losses,
            reset_losses=self._reset_losses if config.reward == "loss-normalized" else None,
            step=self.decisions,
            horizon=config.episode_steps,
            measured_at=self._measured_at,
        )
        observation = np.concatenate([self._histograms.reshape(-1), extra])
        self._last_observation = observation
        return observation, {"loss": list(self._losses), "accuracy": list(self._accuracies)}

    def _measure(self, tasks: np.ndarray) -> None:
        """One probe pass over ``tasks``: their histograms, reward-set losses and accuracies, kept
        until each is measured again (every step unless the observation is amortised)."""
        logits = self.probes.logits(self.trainer.model, tasks.tolist())
        for t, task_logits in zip(tasks.tolist(), logits, strict=True):
            probes = self.probes.tasks[t]
            probabilities = task_logits.softmax(-1)
            hard = probabilities[probes.hard]
            hard_labels = probes.labels[probes.hard]
            if self.config.hard_from == "reward":  # the pass's own hardest reward samples
                losses = example_losses(task_logits[probes.hard], hard_labels)
                top = torch.argsort(-losses, stable=True)[: self.config.hard_samples]
                hard, hard_labels = hard[top], hard_labels[top]
            if hard.dim() == 3:  # tagging: per-token uncertainty over real tokens
                hard = hard[hard_labels.ne(IGNORE_INDEX)]
            self._histograms[t] = histogram(
                uncertainty(hard, self.config.uncertainty), self.config.bins
            ).numpy()
            reward_logits, reward_labels = task_logits[probes.reward], probes.labels[probes.reward]
            self._losses[t] = float(task_loss(reward_logits, reward_labels))
            real = reward_labels.ne(IGNORE_INDEX)
            self._accuracies[t] = float(
                (reward_logits.argmax(-1).eq(reward_labels) & real).sum() / real.sum()
            )
        self._measured_at[tasks] = self.decisions

    def _reward(self) -> float:
        if not self.config.observe:
            return 0.0
        reward, total = loss_reward(
            self.config.reward, self._metrics["loss"], self._reset_losses, self._previous_loss, self.objective
        )
        self._previous_loss = float(total)
        if (
            self.reference is not None
            and self.config.penalty_judged(self.steps)
            and below_reference(
                self._metrics["accuracy"], self.reference, self.config.penalty_threshold, self.objective
            )
        ):
            return float(self.config.penalty)
        return float(reward)

    def _info(self) -> dict:
        names = self.suite.names
        info = {
            "step": self.steps,
            "dev_loss": dict(zip(names, self._metrics["loss"], strict=True)),
            "dev_accuracy": dict(zip(names, self._metrics["accuracy"], strict=True)),
            "minibatches": dict(zip(names, self.trainer.budget.per_task, strict=True)),
            "samples": dict(zip(names, self.trainer.budget.samples, strict=True)),
            "budget": self.trainer.budget.total,
            "action_mask": self.action_masks(),
        }
        info.update(self._age_info())
        for rule in self.rules:
            info.update(rule.info())
        return info

    def _age_info(self) -> dict:
        """``dev_age``: env steps since each task's dev_loss and dev_accuracy were measured, when
        the observation is amortised (absent otherwise, so that the paper's env reports as ever)."""
        if not self.config.amortised:
            return {}
        ages = (self.decisions - self._measured_at).tolist()
        return {"dev_age": dict(zip(self.suite.names, ages, strict=True))}
