"""mtl_gym.bench.fidelity (python -m benchmarks.fast_fidelity): a headroom folder's static schedules rerun on the fast env."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_headroom import known_headroom

from mtl_gym.agents import QLS
from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.bench.fidelity import fast_runs, fidelity, schedule_weights, static_records
from mtl_gym.bench.headroom import HeadroomConfig, agent_settings, measure_headroom


def test_schedule_weights_follow_the_method_specs():
    names = ["target", "noise"]
    assert schedule_weights("uniform", names) is None
    np.testing.assert_allclose(schedule_weights("fixed-weights:3,1", names), [0.75, 0.25])
    np.testing.assert_allclose(schedule_weights("single:noise", names), [0.0, 1.0])


@pytest.fixture(scope="module")
def known_folder(tmp_path_factory):
    """A finished headroom folder of the target-and-noise suite, whose best static schedule is the
    target alone (tests/test_headroom.py)."""
    folder = tmp_path_factory.mktemp("headroom")
    measure_headroom(known_headroom(seeds=2, trials=1, lookahead_k=0), folder, progress=False)
    return folder


def test_fidelity_reruns_every_static_schedule_and_ranks_the_known_answer(known_folder):
    schedules = static_records(known_folder)
    assert set(schedules) == {"uniform", "fixed-weights:1,1", "single:target"}
    assert all(set(runs) == {0, 1} for runs in schedules.values())
    report = fidelity(known_folder, fast_seeds=8, features={"encoder_budget": 100})
    assert report["schedules"] == 3 and report["full_best"] == "single:target"
    # On the fast env too, training the noise task wastes minibatches: the target alone reaches a
    # lower target dev loss than uniform over the eight seeds.
    assert report["reward_best"] == "single:target"
    assert report["reward_headroom"]["mean"] > 0
    # And over the whole run, not only at its end: every noise minibatch is one the target lacks.
    assert report["return_best"] == "single:target" and report["return_headroom"]["mean"] > 0
    for key in ("fast_headroom", "fast_best_headroom", "reward_headroom", "return_headroom"):
        assert report[key]["ci_low"] <= report[key]["mean"] <= report[key]["ci_high"]
    assert -1 <= report["rank_correlation"] <= 1 and -1 <= report["reward_rank_correlation"] <= 1


def test_an_agent_deployed_on_the_fast_env_trains_what_it_chooses(known_folder, monkeypatch):
    """The agent rows run the agent's choices: an agent whose Q-values always rank the target first
    trains, deployed greedily, exactly the runs of ``single:target`` on the same seeds."""
    settings = agent_settings(HeadroomConfig.of(json.loads((known_folder / "config.json").read_text())))
    features = {"encoder_budget": 100}
    training = {**settings, "timesteps": 64, "eval_every": 0, "num_envs": 8, "features": features}
    train_agent(TrainAgentConfig.of(training), known_folder / "agents" / "qls", progress_bar=False)
    monkeypatch.setattr(QLS, "q_values", lambda self, obs: (np.tile([1.0, 0.0], (len(obs), 1)), True))
    fast = fast_runs(
        known_folder, ["single:target"], [0, 1], features, known_folder / "agents" / "qls" / "agent.zip"
    )
    assert fast.scores["agent:greedy"] == fast.scores["single:target"]
    assert fast.rewards["agent:greedy"] == fast.rewards["single:target"]
    assert fast.returns["agent:greedy"] == fast.returns["single:target"]
    assert all(list(shares) == [1.0, 0.0] for shares in fast.shares["agent:greedy"])
    # The default softmax at temperature 0.75 over Q-values one std either side of their mean gives
    # the noise task exp(-2 / 0.75) / (1 + exp(-2 / 0.75)), about 7% of the choices.
    noise = np.mean([shares[1] for shares in fast.shares["agent"]])
    assert 0.02 < noise < 0.15


def test_the_return_is_the_agents_reward_with_its_penalty_unless_env_sets_none(known_folder):
    """By default the fast runs reward as the agents train (the penalty on, -10 under 95% of the
    single-task reference); ``env={"reference": None}`` takes the penalty out, and only raises rewards."""
    features = {"encoder_budget": 100}
    penalised = fast_runs(known_folder, ["uniform"], [0, 1], features)
    plain = fast_runs(known_folder, ["uniform"], [0, 1], features, env={"reference": None})
    assert plain.scores == penalised.scores and plain.rewards == penalised.rewards
    pairs = list(zip(penalised.returns["uniform"], plain.returns["uniform"], strict=True))
    assert all(p <= q for p, q in pairs)
    # Uniform halves the target's minibatches, so early on its target falls under the threshold.
    assert any(p < q for p, q in pairs)
    # A run's loss reward is a dev loss of order 1; the penalty, when it fires, is -10.
    assert min(plain.returns["uniform"]) > -5
