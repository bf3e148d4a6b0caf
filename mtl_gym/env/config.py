"""The env's settings, as one dataclass that round-trips to JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from ..objective import Objective
from ..spec import Settings
from .observation import FEATURE_GROUPS
from .uncertainty import UNCERTAINTY_MEASURES

REWARD_MODES = ("loss", "loss-decrease", "loss-normalized")
REWARD_SETS = ("sample", "hard", "dev")
HARD_SOURCES = ("dev", "reward")


@dataclass(frozen=True)
class EnvConfig(Settings):
    """Observation, reward and episode settings of :class:`MTLSchedulingEnv` (QLS §4.2-4.4)."""

    bins: int = 20
    """nb, the histogram bins per task (QLS §4.4: 20)."""
    uncertainty: str = "margin"
    """Uncertainty behind the histogram: margin (the paper's best, eq. 4), entropy or least-confidence."""
    hard_samples: int = 16
    """M, the dev samples of highest loss per task whose uncertainty forms the histogram."""
    refresh_every: int = 100
    """R, training steps between re-selections of the hard samples (each costs a full dev pass);
    unused under ``hard_from="reward"``."""
    hard_from: str = "dev"
    """Where the hard samples are chosen. ``dev``: the M examples of highest loss in the whole dev
    split, re-chosen every refresh_every steps by a full dev pass. ``reward``: the M of highest loss
    among the task's reward samples, re-chosen at every probe pass from that pass's own logits, so
    that no dev pass is ever made; the "batch hard" choice (QLS §4.2 cites Hermans et al. 2017,
    who take the hardest examples of a batch) over a random batch of the dev split, drawn at reset.
    Needs reward_set ``sample`` or ``dev`` (under ``dev`` they are the whole split's hardest at every
    pass)."""
    reward: str = "loss"
    """``loss``: -(sum over tasks of dev loss), the paper's reward. ``loss-decrease``: the fall of that
    sum since the previous step, a denser credit signal for the action just taken. ``loss-normalized``:
    -(sum over tasks of dev loss / that task's dev loss at reset), -K at reset, so that no task's loss
    scale dominates (reset losses are floored at 1e-3; under reward_set ``hard`` the samples are
    re-chosen every refresh_every steps, so the ratio then compares other samples). The penalty
    replaces any of them."""
    reward_set: str = "sample"
    """Dev samples behind the reward: ``sample`` (a fixed random subset of reward_samples per task,
    drawn at reset: an unbiased estimate of the dev loss at a fraction of the cost), ``hard`` (the
    hard samples; free, but biased to hard cases) or ``dev`` (the whole dev split every step, as
    the paper; slow)."""
    reward_samples: int = 32
    """Dev samples per task in the reward subset when reward_set is ``sample``."""
    penalty: float = -10.0
    """Reward when mean accuracy falls under penalty_threshold x the mean single-task reference (QLS §4.3)."""
    penalty_threshold: float = 0.95
    """Fraction of the single-task reference accuracy below which the penalty applies."""
    penalty_from: float = 0.0
    """Fraction of the episode's training steps after which the penalty is judged (0: every step, the
    paper's). The reference is an accuracy reached with a fair share of the whole episode
    (``reference_budget="episode"``); judged earlier, the penalty rewards how fast the objective's
    accuracy rises rather than where it ends."""
    reference: tuple[float, ...] | str | None = None
    """Single-task dev accuracies per task, ``"auto"`` to compute (and cache) them by training each task
    alone, or None for no penalty."""
    reference_budget: int | str = 1000
    """Minibatches per task for ``reference="auto"``, or ``"episode"``: an episode's training steps
    shared out over the tasks (episode_steps x steps_per_action / K), the accuracy a task alone
    would reach with its fair share of the episode. A reference trained far longer than an episode
    puts every step of a short episode under the threshold, so the penalty carries no signal."""
    episode_steps: int = 10_000
    """Env steps per episode; the paper resets the MTL model every 10K steps."""
    steps_per_action: int = 1
    """Training steps on the chosen task per env step (decisions per minibatch = 1 / this)."""
    features: tuple[str, ...] = ()
    """Feature groups appended after the K histograms, in this order (``mtl_gym.env.features``):
    ``share`` (K: each task's share of the minibatches so far, in [0, 1]), ``since`` (K: env steps s
    since the task was last chosen, as s / (s + K), in [0, 1): horizon-free, 0.5 at uniform's mean
    gap), ``loss`` (K: reward-set dev loss, divided by its reset value under ``loss-normalized``,
    in [0, inf)), ``elapsed`` (1: fraction of the episode elapsed, in [0, 1]) and ``age`` (K: env
    steps a since the task's histogram was measured, as a / (a + K), in [0, 1); all 0 unless
    observe_every or observe_tasks skips measurements). Empty: the paper's observation."""
    observe_every: int | None = None
    """k, env steps between probe passes (the forward pass over the hard and reward samples): a
    pass at decisions 0, k, 2k, ... only. In between, the histograms, the ``loss`` feature, the
    reward and info's dev_loss and dev_accuracy are the last measured ones (the reward is the
    reward setting applied to the last measured losses: under ``loss-decrease`` 0 in between, the
    whole fall at the next pass) and info's ``dev_age`` says how many env steps old they are; the
    other features are recomputed every step. None or 1: measure every step, the paper's env; an
    agent's deployment (``mtl_gym.agents.common.contract.DEPLOYED_OBSERVE_EVERY``) fills None in."""
    observe_tasks: int | None = None
    """m, tasks measured per probe pass (at most K): reset measures every task, each later pass the
    next m in turn (tasks 0..m-1, then m..2m-1, modulo K); the others keep their last histogram,
    loss and accuracy, so the reward mixes losses of different ages. Name ``age`` in features to
    show the agent each task's age. None: every task every pass."""
    objective: str = "mean"
    """What the reward and penalty count (``mtl_gym.objective``): ``mean`` (every task, the paper's),
    ``target:TASK`` (only TASK; the others are auxiliaries), ``worst`` (the worst task) or
    ``weighted:{"TASK": WEIGHT, ...}``. The bench's lr selection and headline column, tune-agent's
    metric and headroom score runs by the same objective."""
    observe: bool = True
    """Compute the observation and reward. Off for schedulers that ignore both (uniform, random,
    fixed weights), so that benchmarks do not pay for probe passes nobody reads: the observation is
    then all zeros and the reward 0."""
    probe_chunk_size: int = 64
    """Probe samples per forward pass of the batched inference."""
    batch_probes: bool = True
    """Run all tasks' probes through the shared encoder together (needs row-splittable features)."""
    torch_threads: int | None = None
    """If set, torch threads for this process (1 in vector-env workers, so they do not oversubscribe)."""

    def __post_init__(self):
        checks = {
            "uncertainty": (self.uncertainty, UNCERTAINTY_MEASURES),
            "reward": (self.reward, REWARD_MODES),
            "reward_set": (self.reward_set, REWARD_SETS),
            "hard_from": (self.hard_from, HARD_SOURCES),
        }
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"EnvConfig.{name} must be one of {allowed}, got {value!r}")
        for name in (
            "bins",
            "hard_samples",
            "refresh_every",
            "reward_samples",
            "episode_steps",
            "steps_per_action",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"EnvConfig.{name} must be at least 1, got {getattr(self, name)}")
        if self.hard_from == "reward" and self.reward_set == "hard":
            raise ValueError(
                "EnvConfig.hard_from='reward' chooses the hard samples among the reward samples, "
                "so reward_set must be 'sample' or 'dev', not 'hard'"
            )
        if self.observe_every is not None and self.observe_every < 1:
            raise ValueError(f"EnvConfig.observe_every must be at least 1, got {self.observe_every}")
        if self.observe_tasks is not None and self.observe_tasks < 1:
            raise ValueError(
                f"EnvConfig.observe_tasks must be at least 1 (or None for every task), got {self.observe_tasks}"
            )
        if not 0.0 <= self.penalty_from < 1.0:
            raise ValueError(f"EnvConfig.penalty_from must be in [0, 1), got {self.penalty_from}")
        if isinstance(self.reference_budget, str) and self.reference_budget != "episode":
            raise ValueError(
                f"EnvConfig.reference_budget must be a number of minibatches or 'episode', got {self.reference_budget!r}"
            )
        if isinstance(self.reference_budget, int) and self.reference_budget < 1:
            raise ValueError(f"EnvConfig.reference_budget must be at least 1, got {self.reference_budget}")
        if isinstance(self.reference, str) and self.reference != "auto":
            raise ValueError(
                f"EnvConfig.reference must be a list of accuracies, 'auto' or None, got {self.reference!r}"
            )
        # Parsed here, so that a malformed objective fails before any training; task names are
        # checked when an env binds it to its suite.
        object.__setattr__(self, "objective", Objective.parse(self.objective).text)
        features = self.features
        # A comma list, as ``--env features=share,since`` may arrive.
        features = (
            tuple(f.strip() for f in features.split(",") if f.strip())
            if isinstance(features, str)
            else tuple(features)
        )
        if unknown := [f for f in features if f not in FEATURE_GROUPS]:
            raise ValueError(f"EnvConfig.features: unknown {unknown}; expected names from {FEATURE_GROUPS}")
        if len(set(features)) != len(features):
            raise ValueError(f"EnvConfig.features names a group twice: {features}")
        object.__setattr__(self, "features", features)
        if isinstance(self.reference, list):
            object.__setattr__(self, "reference", tuple(self.reference))

    def penalty_judged(self, steps: int | np.ndarray) -> bool | np.ndarray:
        """Whether the penalty is judged after ``steps`` training steps (one answer per run when
        ``steps`` is an array): from ``penalty_from`` of the episode on."""
        return steps >= self.penalty_from * self.episode_steps * self.steps_per_action

    @property
    def probe_every(self) -> int:
        """k of ``observe_every``, 1 when unset."""
        return self.observe_every or 1

    @property
    def amortised(self) -> bool:
        """Whether probe passes skip env steps or tasks, so that some measurements are stale."""
        return self.probe_every > 1 or self.observe_tasks is not None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> EnvConfig:
        return cls.of(json.loads(text))
