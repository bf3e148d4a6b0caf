"""The intermediate evaluation of a tuning trial: deploy the agent being trained, as a scheduler,
on a fixed evaluation seed with a small budget, and read mean dev accuracy.

:func:`deployed_dev_accuracy` is the measurement and :class:`PeriodicEvaluation` the SB3 callback
that takes it every ``every`` agent steps and hands it to ``on_result`` (the tuner's
``trial.report`` and prune check). Both know nothing of Optuna, so the callback can later give way
to the shared evaluation callback of ``train_agent`` by swapping this one object.
"""

from __future__ import annotations

from collections.abc import Callable

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from mtl_gym.data import TaskSuite
from mtl_gym.env import run_schedule

from ..algorithms import algorithm
from ..common.callbacks import interval_reached, preserved_global_rng
from ..qls.train import TrainAgentConfig


def deployed_dev_accuracy(
    agent: BaseAlgorithm, config: TrainAgentConfig, suite: TaskSuite, budget: int, seed: int
) -> float:
    """The env objective's dev score (mean dev accuracy by default) of a fresh MTL model (seeded by ``seed``) trained for ``budget``
    task-minibatches under ``agent`` deployed as ``config.deploy`` says (its scheduler's defaults
    where it is empty), in ``config``'s env, model and trainer. The global random states are left
    as they were."""
    scheduler = algorithm(config.algorithm).scheduler(agent, **config.deploy)
    with preserved_global_rng():
        result = run_schedule(
            scheduler,
            suite,
            budget,
            seed,
            method=config.algorithm,
            model=config.model,
            env_config=config.env_config(),
            trainer=config.trainer_settings(),
            evaluations=1,
        )
    return result.objective_score(config.env_config().objective, "dev")


class PeriodicEvaluation(BaseCallback):
    """Every ``every`` decisions (env steps over all envs of a vector env), ``evaluate(agent)``;
    then ``on_result(score, index)`` (index 1, 2, ... of the evaluation) says whether to stop
    training. ``scores`` keeps (timestep, score)."""

    def __init__(
        self,
        evaluate: Callable[[BaseAlgorithm], float],
        every: int,
        on_result: Callable[[float, int], bool] = lambda score, index: False,
    ):
        super().__init__()
        if every < 1:
            raise ValueError(f"evaluation interval must be at least 1 agent step, got {every}")
        self.evaluate = evaluate
        self.every = every
        self.on_result = on_result
        self.scores: list[tuple[int, float]] = []
        self.stopped = False

    def _on_step(self) -> bool:
        if not interval_reached(self, self.every):
            return True
        score = self.evaluate(self.model)
        self.scores.append((self.num_timesteps, score))
        self.stopped = bool(self.on_result(score, len(self.scores)))
        return not self.stopped
