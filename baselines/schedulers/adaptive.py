"""Jean et al. 2019's adaptive schedule: oversample the tasks that lag their single-task reference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mtl_gym.env import MTLSchedulingEnv, reference_accuracies, reference_minibatches

from .base import EVAL_EVERY, DevMetrics, SamplingScheduler, as_array, check_eval_every, exp_weights


@dataclass(frozen=True)
class AdaptiveHyperparameters:
    reference: Sequence[float] | None = None
    """Single-task reference accuracies in suite order; None: the env's, else computed and cached."""
    temperature: float = 0.1
    """α of w_i = max(s_i / b_i, ε)^(-1/α)."""
    epsilon: float = 0.01
    """ε, the floor of the accuracy ratio."""
    eval_every: int = EVAL_EVERY
    """Budget units between the dev evaluations of the current accuracies."""

    def __post_init__(self) -> None:
        if not self.temperature > 0 or not self.epsilon > 0:
            raise ValueError(
                f"temperature and epsilon must be positive, got {self.temperature} and {self.epsilon}"
            )
        check_eval_every(self.eval_every)


class Adaptive(SamplingScheduler):
    """Task i with probability ∝ w_i = max(s_i / b_i, ε)^(-1/α): s_i its current dev accuracy, b_i its
    single-task reference accuracy, α a temperature.

    The explicit adaptive schedule of Jean et al. 2019 (§3), the QLS paper's "Adaptive" baseline
    (§5.1: "oversamples tasks with poorer results compared to their baseline"; Tables 2, 5, 6). Jean et
    al. score BLEU against single-language-pair baselines; here the score is dev accuracy and the
    baseline the same single-task reference that the env's reward penalty uses (QLS §4.3). A task at
    its reference gets weight 1, one lagging it more, one ahead of it less. ε (default 0.01) keeps a
    task at zero accuracy finite. α is tuned in the original; the default 0.1 is chosen here so that
    a task at 90% of its reference is drawn about 2.9 times as often as one at its reference (α = 1,
    the plain inverse ratio, hardly separates accuracies that differ by a few points).

    ``reference`` gives the accuracies in suite order; without it the env's own (``EnvConfig.reference``)
    are used, else they are computed by :func:`mtl_gym.env.reference_accuracies` with the env's model,
    trainer settings and ``reference_budget``: each task trained alone for that many minibatches
    (1000 by default, i.e. K extra training runs the first time), cached on disk after that. Dev
    accuracies come from ``env.trainer.evaluate`` every ``eval_every`` budget units.
    """

    name = "adaptive"
    paper = "Jean et al. 2019, Adaptive Scheduling for Multi-Task Learning, arXiv:1909.06434"

    Hyperparameters = AdaptiveHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.dev = DevMetrics(env, self.eval_every)
        if self.reference is not None:
            reference = self.reference
        elif env.reference is not None:
            reference = env.reference
        else:
            reference = reference_accuracies(
                env.suite,
                env.model_factory,
                env.trainer_config,
                reference_minibatches(env.config, env.num_tasks),
            )
        self.baseline = as_array(reference, env.num_tasks, "adaptive reference accuracies")

    def weights(self, info: dict) -> np.ndarray:
        self.dev.refresh(info)
        ratio = self.dev.accuracy / np.maximum(self.baseline, self.epsilon)
        return exp_weights(-np.log(np.maximum(ratio, self.epsilon)) / self.temperature, info["action_mask"])
