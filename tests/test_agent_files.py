"""Agent files load without running code (issue 14.1): the safe format round-trips, and a crafted
pickle payload in a legacy SB3 zip runs nowhere (API, scheduler, CLI, bench resume) unless trusted."""

from __future__ import annotations

import base64
import builtins
import json
import pickle
import zipfile
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch
from test_bench import TINY
from test_qls import MASKS, MaskedBandit

from mtl_gym.agents import QLS, QLSScheduler
from mtl_gym.agents.common.serialization import (
    AgentFileError,
    UntrustedAgentError,
    agent_file_kind,
    load_agent,
    save_agent,
)
from mtl_gym.bench.bench import run_bench
from mtl_gym.cli import main


class Payload:
    """Unpickling this creates ``marker``: the stand-in for arbitrary code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def evil_zip(path, marker):
    """A zip shaped like SB3's ``model.save`` whose ``data`` holds a cloudpickle-style payload."""
    serialized = base64.b64encode(pickle.dumps(Payload(marker))).decode()
    data = {"policy_class": {":type:": "<class 'type'>", ":serialized:": serialized}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", json.dumps(data))
        archive.writestr("policy.pth", b"")
    return path


def small_agent():
    return QLS(
        "MlpPolicy",
        MaskedBandit(),
        seed=0,
        learning_starts=20,
        train_freq=1,
        policy_kwargs={"net_arch": [16], "activation_fn": torch.nn.Tanh},
    )


def test_safe_file_round_trips_without_pickle(tmp_path):
    agent = small_agent()
    agent.learn(60)
    path = save_agent(agent, tmp_path / "agent.zip")
    assert set(zipfile.ZipFile(path).namelist()) == {"agent.json", "policy.pt"}
    meta = json.loads(zipfile.ZipFile(path).read("agent.json"))
    assert meta["algorithm"] == "QLS" and meta["policy"] == "MlpPolicy"
    assert meta["hyperparameters"]["policy_kwargs"]["activation_fn"] == {"__class__": "torch.nn.Tanh"}
    loaded = load_agent(QLS, path)
    observations = np.random.default_rng(0).random((40, 4)).astype(np.float32)
    masks = MASKS[np.arange(40) % 4]
    first, _ = agent.predict(observations, deterministic=True, action_masks=masks)
    second, _ = loaded.predict(observations, deterministic=True, action_masks=masks)
    assert np.array_equal(first, second) and loaded.exploration == agent.exploration
    assert loaded.learning_starts == 20 and loaded.policy_kwargs["activation_fn"] is torch.nn.Tanh
    assert not list(tmp_path.glob(".*"))  # the temporary file was renamed, not left behind


def test_pickle_payload_does_not_run_without_trust(tmp_path):
    marker = tmp_path / "pwned"
    evil = evil_zip(tmp_path / "evil.zip", marker)
    assert agent_file_kind(evil) == "legacy"
    with pytest.raises(UntrustedAgentError, match="unpickles"):
        load_agent(QLS, evil)
    with pytest.raises(UntrustedAgentError):
        QLSScheduler(str(evil)).reset(None, 0)
    assert not marker.exists()
    # The payload is real: trusting the file runs it (and warns first).
    with pytest.warns(UserWarning, match="trusted as asked"), pytest.raises(Exception):  # noqa: B017
        load_agent(QLS, evil, trust=True)
    assert marker.exists()


def test_cli_run_refuses_a_pickled_agent_in_one_line(tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = evil_zip(tmp_path / "evil.zip", marker)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", "qls", "--agent", str(evil), "--budget", "4"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and not marker.exists()
    assert (
        err.startswith(f"mtl-gym: error: --agent {evil}: a Stable-Baselines3 zip") and "--trust-agent" in err
    )
    assert len(err.strip().splitlines()) == 1


def test_bench_resume_never_unpickles_a_planted_agent(tmp_path):
    marker = tmp_path / "pwned"
    config = replace(TINY, methods=["qls"], lr_grid=[1e-3], budget=20, pareto=None, agent_timesteps=20)
    folder = tmp_path / "out" / "agent"
    folder.mkdir(parents=True)
    evil_zip(folder / "agent.zip", marker)
    (folder / "config.json").write_text(json.dumps({"config": asdict(config.agent_config())}))
    with pytest.raises(ValueError, match=r"agent\.zip: a Stable-Baselines3 zip .*\(--trust-agent"):
        run_bench(config, tmp_path / "out", progress=False)
    assert not marker.exists() and not (tmp_path / "out" / "trials").exists()


def test_agent_file_errors_name_the_problem(tmp_path):
    with pytest.raises(AgentFileError, match="no such file"):
        agent_file_kind(tmp_path / "missing.zip")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(AgentFileError, match=r"not an agent file \(File is not a zip file\)"):
        agent_file_kind(tmp_path / "notes.txt")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme", "x")
    with pytest.raises(AgentFileError, match="not an agent file"):
        load_agent(QLS, tmp_path / "other.zip")
