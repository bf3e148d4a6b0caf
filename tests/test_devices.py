"""Devices (``--device``, ``TrainerConfig.device``, ``TrainAgentConfig.device``, ``BenchConfig.device``):
names checked at config time in one line that lists this machine's devices, ``auto`` resolved to
CUDA only when torch sees a GPU, the device reaching the trainer's model, the batched env's tensors
and the agent; and the progress bars of ``run`` and ``train-agent``, on stderr and off under
``--quiet``. The CUDA cases run only where torch sees a GPU."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest
import torch

from mtl_gym.agents.algorithms import build_agent
from mtl_gym.agents.qls import TrainAgentConfig
from mtl_gym.bench.config import BenchConfig
from mtl_gym.cli import main
from mtl_gym.env import MTLSchedulingEnv
from mtl_gym.env.batched import BatchedMTLEnv
from mtl_gym.env.features import FeatureConfig
from mtl_gym.methods import run_method
from mtl_gym.models import ModelConfig
from mtl_gym.training import Trainer, TrainerConfig, available_devices, check_device, resolve_device

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="torch sees no CUDA GPU")
DEVICES = ["cpu", *(["cuda"] if CUDA else [])]
"""Where the placement tests run: the CPU everywhere, the GPU too where there is one."""
AVAILABLE = ", ".join(available_devices())
CNN = ModelConfig.of({"name": "cnn", "embedding_dim": 16, "hidden_dim": 16})
ENCODER = ModelConfig(name="cnn", embedding_dim=16, hidden_dim=16)
FEATURES = FeatureConfig(encoder_budget=30)
TINY = ["--model", "cnn", "--model-option", "embedding_dim=16", "--model-option", "hidden_dim=16"]
TINY += ["--option", "dev_size=20", "--option", "test_size=20", "--threads", "1"]
"""The default synthetic suite with small dev and test splits, and a small cnn."""


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Single-task references and frozen features of these tests go to a folder of their own."""
    monkeypatch.setenv("MTL_GYM_CACHE", str(tmp_path / "cache"))


# -- names ------------------------------------------------------------------------------------


def test_auto_is_cuda_only_where_torch_sees_a_gpu():
    expected = torch.device("cuda", torch.cuda.current_device()) if CUDA else torch.device("cpu")
    assert resolve_device("auto") == resolve_device() == expected
    assert resolve_device(" CPU ") == torch.device("cpu") and check_device("cpu:0") == "cpu"
    assert available_devices()[0] == "cpu"


@pytest.mark.parametrize("name", ["gpu", "tpu", "mps", "cuda:x", ""])
def test_an_unknown_name_is_one_line_listing_the_devices(name):
    with pytest.raises(ValueError) as error:
        check_device(name)
    assert (
        str(error.value)
        == f"unknown device {name!r} (expected auto, cpu, cuda or cuda:N); available: {AVAILABLE}"
    )


def test_a_missing_gpu_is_one_line_listing_the_devices():
    with pytest.raises(ValueError) as error:
        check_device("cuda:7" if CUDA else "cuda")
    message = str(error.value)
    assert message.startswith("device 'cuda") and "is not available" in message
    assert message.endswith(f"; available: {AVAILABLE}") and "\n" not in message


@pytest.mark.parametrize(
    "build, prefix",
    [
        (lambda: TrainerConfig(device="gpu"), "TrainerConfig.device: "),
        (lambda: TrainerConfig.of({"device": "gpu"}), "TrainerConfig.device: "),
        (lambda: TrainAgentConfig(device="gpu"), "TrainAgentConfig.device: "),
        (lambda: BenchConfig(device="gpu"), "BenchConfig.device: "),
    ],
)
def test_configs_check_the_device_when_built(build, prefix):
    with pytest.raises(ValueError, match=f"^{prefix}unknown device 'gpu'.*; available: {AVAILABLE}$"):
        build()


def test_configs_keep_the_name_as_written():
    assert TrainerConfig().device == TrainAgentConfig().device == BenchConfig().device == "auto"
    assert TrainerConfig(device="CPU").device == "cpu"
    assert TrainAgentConfig(device="cpu").trainer_settings() == {"device": "cpu"}
    assert TrainAgentConfig(device="cpu", trainer={"device": "auto"}).trainer_settings() == {"device": "auto"}
    assert "device" not in TrainAgentConfig(device="cpu").identity()


# -- the CLI ----------------------------------------------------------------------------------

COMMANDS = {
    "run": ["run", "--method", "uniform", "--budget", "4", *TINY],
    "train-agent": ["train-agent", "--timesteps", "4", "--env", "episode_steps=4", *TINY],
    "tune-agent": ["tune-agent", "--trials", "1", "--timesteps", "4", "--eval-every", "4"],
    "bench": ["bench", "--methods", "uniform", "--seeds", "1", "--budget", "4", "--lr-grid", "1e-3"],
    "demo": ["demo", "--timesteps", "4", "--budget", "4", "--seeds", "1", "--threads", "1"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", ["gpu", "cuda:7"])
def test_a_bad_device_flag_is_one_line_before_any_work(command, name, tmp_path, capsys):
    argv = [*COMMANDS[command], "--device", name, "--quiet"]
    if command != "run":
        argv += ["--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_info:
        main([a for a in argv if command != "tune-agent" or a != "--quiet"])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("mtl-gym: error: --device: ") and err.endswith(f"available: {AVAILABLE}")
    assert not (tmp_path / "out").exists()  # nothing ran


def test_run_accepts_device_cpu_and_prints_one_json_document(capsys):
    main([*COMMANDS["run"], "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["budget"] == 4 and sum(result["action_counts"].values()) == 4
    assert captured.err == ""  # no terminal, no bar


def test_train_agent_accepts_device_cpu_and_records_it(tmp_path, capsys):
    main([*COMMANDS["train-agent"], "--device", "cpu", "--quiet", "--out", str(tmp_path)])
    record = json.loads((tmp_path / "config.json").read_text())
    assert record["config"]["device"] == "cpu" and (tmp_path / "agent.zip").is_file()


def test_train_agent_config_file_device_is_kept_unless_the_flag_says_otherwise(tmp_path):
    from mtl_gym.cli import build_parser
    from mtl_gym.cli.train_agent import config_from_args

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"config": TrainAgentConfig(device="cpu").to_dict()}))
    args = ["train-agent", "--config", str(path), "--out", "x"]
    assert config_from_args(build_parser().parse_args(args)).device == "cpu"
    assert config_from_args(build_parser().parse_args([*args, "--device", "auto"])).device == "auto"


@pytest.mark.slow
def test_tune_agent_accepts_device_cpu(tmp_path, capsys):
    pytest.importorskip("optuna")
    argv = [*COMMANDS["tune-agent"], *TINY, "--eval-budget", "4", "--startup-trials", "1"]
    main([*argv, "--device", "cpu", "--json", "--out", str(tmp_path)])
    summary = json.loads(capsys.readouterr().out)
    assert summary["trials"] == 1
    assert json.loads((tmp_path / "best_config.json").read_text())["device"] == "cpu"


@pytest.mark.slow
def test_bench_accepts_device_cpu_and_resumes_on_another_device(tmp_path, capsys):
    argv = [*COMMANDS["bench"], *[a for a in TINY if a not in ("--threads", "1")]]
    argv += ["--quiet", "--out", str(tmp_path)]
    main([*argv, "--device", "cpu"])
    assert json.loads((tmp_path / "config.json").read_text())["device"] == "cpu"
    trial = next((tmp_path / "trials").glob("*.json"))
    written = trial.stat().st_mtime_ns
    main([*argv, "--device", "auto"])  # the device is not part of a trial's identity
    assert trial.stat().st_mtime_ns == written


@pytest.mark.slow
def test_demo_accepts_device_cpu(tmp_path, capsys):
    main([*COMMANDS["demo"], "--device", "cpu", "--quiet", "--out", str(tmp_path)])
    assert "test score in points" in capsys.readouterr().out
    assert json.loads((tmp_path / "config.json").read_text())["config"]["device"] == "cpu"


# -- placement --------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_the_trainer_moves_the_model_to_its_device(small_suite, device):
    trainer = Trainer(CNN(small_suite), small_suite, TrainerConfig(device=device))
    assert trainer.device == resolve_device(device)
    assert {p.device for p in trainer.model.parameters()} == {trainer.device}
    trainer.step([0, 1])
    assert all(
        state["exp_avg"].device == trainer.device for state in trainer.optimizer.optimizers[0].state.values()
    )


@pytest.mark.parametrize("device", DEVICES)
def test_the_env_trains_on_its_trainers_device_and_returns_numpy(small_suite, device):
    env = MTLSchedulingEnv(small_suite, CNN, {"episode_steps": 3}, {"device": device})
    observation, _ = env.reset(seed=0)
    assert {p.device for p in env.trainer.model.parameters()} == {resolve_device(device)}
    observation, reward, *_ = env.step(1)
    assert isinstance(observation, np.ndarray) and np.isfinite(observation).all() and np.isfinite(reward)


def tensors(env: BatchedMTLEnv) -> dict[str, torch.Tensor]:
    """Every tensor the batched env holds, in attributes, dicts, lists and tuples of them."""
    found = {}

    def visit(name: str, value: object) -> None:
        if isinstance(value, torch.Tensor):
            found[name] = value
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(f"{name}[{key!r}]", item)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                visit(f"{name}[{index}]", item)

    for name, value in vars(env).items():
        if name != "features":  # the cached table, on the CPU; env.table is its copy on the device
            visit(name, value)
    return found


@pytest.mark.parametrize("device", DEVICES)
def test_the_batched_env_keeps_its_tensors_on_its_device(small_suite, device, tmp_path):
    env = BatchedMTLEnv(
        3, small_suite, ENCODER, {"episode_steps": 4}, {"device": device}, FEATURES, cache_dir=tmp_path
    )
    assert env.device == resolve_device(device) and env.features.table.device == torch.device("cpu")
    env.reset(seed=0)
    observations, rewards, *_ = env.step(np.array([0, 1, 2]))
    held = tensors(env)
    assert {"table", "params['shared_weight']", "probe_features", "train_rows", "dev_rows[0]"} <= set(held)
    assert {name for name, tensor in held.items() if tensor.device != env.device} == set()
    assert observations.dtype == np.float32 and np.isfinite(observations).all() and np.isfinite(rewards).all()
    assert {p.device for p in env.run_model(0).parameters()} == {env.device}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("algorithm", ["qls", "ppo"])
def test_the_agent_is_built_on_its_configs_device(small_suite, device, algorithm):
    config = TrainAgentConfig(
        model=CNN.to_dict(), env={"episode_steps": 4, "reference": None}, device=device, algorithm=algorithm
    )
    env = config.make_env(small_suite)
    agent = build_agent(config, env)
    assert agent.device == resolve_device(device)
    assert {p.device for p in agent.policy.parameters()} == {resolve_device(device)}
    env.reset(seed=0)
    assert {p.device for p in env.trainer.model.parameters()} == {resolve_device(device)}
    overridden = TrainAgentConfig(device=device, algorithm_kwargs={"device": "cpu"})
    assert build_agent(overridden, env).device == torch.device("cpu")


# -- progress bars ----------------------------------------------------------------------------


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, where the bars are drawn."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("quiet", [False, True])
def test_run_draws_its_bar_on_a_terminal_stderr_unless_quiet(quiet, capsys, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    main([*COMMANDS["run"], "--json", *(["--quiet"] if quiet else [])])
    result = json.loads(capsys.readouterr().out)  # stdout stays one JSON document
    assert result["budget"] == 4
    bar = terminal.getvalue()
    assert (bar == "") if quiet else ("uniform: 100%" in bar and "4/4" in bar), bar


@pytest.mark.parametrize("quiet", [False, True])
def test_train_agent_draws_its_bar_on_a_terminal_stderr_unless_quiet(quiet, tmp_path, capsys, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    main([*COMMANDS["train-agent"], "--out", str(tmp_path), *(["--quiet"] if quiet else [])])
    assert capsys.readouterr().out.startswith("trained qls for 4 env steps")
    bar = terminal.getvalue()
    assert (bar == "") if quiet else ("agent training: 100%" in bar and "4/4" in bar), bar


# -- on a GPU ---------------------------------------------------------------------------------


@needs_cuda
def test_a_run_on_cuda_matches_the_cpu_within_rounding(small_suite):
    runs = {
        device: run_method("uniform", small_suite, 30, 0, model=CNN, trainer={"device": device})
        for device in ("cpu", "cuda")
    }
    cpu, cuda = runs["cpu"], runs["cuda"]
    assert cpu.action_counts == cuda.action_counts  # the same schedule and minibatches
    for task, loss in cpu.training_loss.items():
        assert cuda.training_loss[task]["initial"] == pytest.approx(loss["initial"], rel=1e-4)
        assert cuda.training_loss[task]["final"] == pytest.approx(loss["final"], rel=1e-2)
    assert cuda.avg_dev_acc == pytest.approx(cpu.avg_dev_acc, abs=0.05)


@needs_cuda
def test_the_batched_env_on_cuda_matches_the_cpu(small_suite, tmp_path, float64):
    steps = {}
    for device in ("cpu", "cuda"):
        env = BatchedMTLEnv(
            3, small_suite, ENCODER, {"episode_steps": 6}, {"device": device}, FEATURES, cache_dir=tmp_path
        )
        observation, _ = env.reset(seed=0)
        trace = [observation]
        for actions in ([0, 1, 2], [2, 2, 0], [1, 0, 1]):
            observation, reward, *_ = env.step(np.array(actions))
            trace += [observation, reward]
        steps[device] = trace
    for cpu, cuda in zip(steps["cpu"], steps["cuda"], strict=True):
        np.testing.assert_allclose(cuda, cpu, atol=1e-6)


@needs_cuda
def test_an_agent_trains_on_cuda(small_suite, tmp_path):
    from mtl_gym.agents.qls import train_agent

    config = TrainAgentConfig(
        model=CNN.to_dict(),
        env={"episode_steps": 8},
        timesteps=16,
        device="cuda",
        fast=True,
        num_envs=4,
        features={"encoder_budget": 20},
    )
    record = train_agent(config, tmp_path, progress_bar=False, suite=small_suite)
    assert record["config"]["device"] == "cuda" and (tmp_path / "agent.zip").is_file()
