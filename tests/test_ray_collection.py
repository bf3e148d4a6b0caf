"""Experience collection on Ray (issue 12 item 3): a RayVecEnv of 2 local actors steps exactly like
SB3's in-process DummyVecEnv for a seed, and QLS learns on it unchanged."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mtl_gym.agents.common.masking import env_action_masks
from mtl_gym.agents.common.vec_env import make_vec_env

ray = pytest.importorskip("ray")

ENV = {
    "suite": "synthetic",
    "suite_options": {"dev_size": 40, "test_size": 60},
    "model": {"name": "cnn", "embedding_dim": 16, "hidden_dim": 16},
    "config": {"episode_steps": 3, "hard_samples": 8, "reward_samples": 16},
}


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def rollout(vec, actions, masks=True):
    """Reset, then step ``actions`` (one row per step): everything the VecEnv hands the learner."""
    trace = {"observations": [vec.reset()], "masks": [env_action_masks(vec) if masks else None]}
    for row in actions:
        observations, rewards, dones, infos = vec.step(row)
        trace["observations"].append(observations)
        trace.setdefault("rewards", []).append(rewards)
        trace.setdefault("dones", []).append(dones)
        trace.setdefault("info_masks", []).append([info.get("action_mask") for info in infos])
        trace["masks"].append(env_action_masks(vec) if masks else None)
        for i, info in enumerate(infos):
            if "terminal_observation" in info:
                trace.setdefault("terminal", []).append(
                    (len(trace["dones"]), i, info["terminal_observation"])
                )
    return trace


@pytest.mark.slow
def test_ray_transitions_match_in_process_ones(local_ray):
    actions = np.array([[0, 1], [1, 1], [2, 0], [0, 2], [1, 0], [2, 2], [0, 0]])  # two episode ends each
    on_ray = make_vec_env(2, seed=7, backend="ray", n_actors=2, **ENV)
    assert len(on_ray.actors) == 2 and not on_ray.owns_ray
    in_process = make_vec_env(2, seed=7, backend="dummy", **ENV)
    ray_trace, local_trace = rollout(on_ray, actions), rollout(in_process, actions)
    assert np.stack(local_trace["dones"]).sum() == 4 and len(local_trace["terminal"]) == 4
    for key in ("observations", "rewards", "dones", "masks", "info_masks"):
        np.testing.assert_allclose(np.array(ray_trace[key]), np.array(local_trace[key]), rtol=0, atol=1e-6)
    for (step, env, got), (step_, env_, want) in zip(
        ray_trace["terminal"], local_trace["terminal"], strict=True
    ):
        assert (step, env) == (step_, env_)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)

    assert on_ray.get_attr("num_tasks") == [4, 4] and on_ray.env_method("action_masks", indices=[1])[0].all()
    on_ray.set_attr("tag", "b", indices=[1])
    assert on_ray.get_attr("tag", indices=[1]) == ["b"] and not on_ray.has_attr("tag")
    from stable_baselines3.common.monitor import Monitor

    assert on_ray.env_is_wrapped(Monitor) == [True, True]
    on_ray.close()
    in_process.close()
    assert ray.is_initialized()  # a Ray the caller started outlives the env


@pytest.mark.slow
def test_qls_learns_on_two_ray_actors(local_ray):
    from mtl_gym.agents import QLS

    env = make_vec_env(
        2, seed=0, backend="ray", **{**ENV, "config": {"episode_steps": 50, "hard_samples": 8}}
    )
    agent = QLS("MlpPolicy", env, seed=0, learning_starts=40, train_freq=4, batch_size=16, buffer_size=1000)
    agent.learn(200)
    assert agent.num_timesteps == 200 and agent.replay_buffer.size() == 100
    assert agent._n_updates > 0 and agent.replay_buffer.next_action_masks[:100].all()
    env.close()


@pytest.mark.slow
def test_actors_holding_several_envs_answer_in_env_order(local_ray):
    import functools

    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv

    from mtl_gym.agents.common.ray_vec_env import RayVecEnv

    fns = [functools.partial(gym.make, "CartPole-v1")] * 3
    on_ray, in_process = RayVecEnv(fns, n_actors=2), DummyVecEnv(fns)
    assert on_ray.groups == [[0, 1], [2]]
    for vec in (on_ray, in_process):
        vec.seed(3)
        vec.set_attr("tag", "x")
        vec.set_attr("tag", "z", indices=[2])
    assert on_ray.get_attr("tag", indices=[2, 0, 1]) == ["z", "x", "x"]
    actions = np.random.default_rng(0).integers(0, 2, size=(40, 3))
    ray_trace, local_trace = rollout(on_ray, actions, masks=False), rollout(in_process, actions, masks=False)
    assert np.stack(local_trace["dones"]).any()
    for key in ("observations", "rewards", "dones"):
        np.testing.assert_array_equal(np.array(ray_trace[key]), np.array(local_trace[key]))
    on_ray.close()


def test_backends_and_actor_counts_are_checked():
    with pytest.raises(ValueError, match="backend"):
        make_vec_env(2, backend="threads", **ENV)
    with pytest.raises(ValueError, match="backend='ray'"):
        make_vec_env(2, backend="dummy", ray_address="auto", **ENV)
    from mtl_gym.agents.common.ray_vec_env import RayVecEnv

    with pytest.raises(ValueError, match="n_actors"):
        RayVecEnv([], n_actors=1)


def test_agents_import_without_ray():
    code = (
        "import sys; sys.modules['ray'] = None; import mtl_gym.agents, mtl_gym.agents.common.vec_env; "
        "print('ray' in sys.modules and sys.modules['ray'] is not None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
