"""Atomic, resumable, shareable bench outputs (issue 14.2-4): a kill while saving the agent or
plotting is redone on resume, two processes on one --out compute each trial once, claims of dead
processes are taken over, and Ctrl-C exits 130 with one line counting the trials kept."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from test_bench import TINY

from mtl_gym.agents import QLS
from mtl_gym.agents.common.serialization import load_agent
from mtl_gym.bench.bench import run_bench
from mtl_gym.bench.claims import Claims, claim_path
from mtl_gym.bench.config import BenchConfig

ROOT = Path(__file__).resolve().parents[1]


def python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


KILLED_WHILE = """
    import os, signal, sys
    import torch
    torch.set_num_threads(1)
    from mtl_gym.bench.bench import run_bench
    from mtl_gym.bench.config import BenchConfig
    {patch}
    run_bench(BenchConfig.from_json(open(sys.argv[1]).read()), sys.argv[2], progress=False)
"""


def killed_run(tmp_path, config: BenchConfig, patch: str) -> Path:
    (tmp_path / "config.json").write_text(config.to_json())
    out = tmp_path / "out"
    code = KILLED_WHILE.format(patch=textwrap.indent(textwrap.dedent(patch), "    ").strip())
    process = python(code, str(tmp_path / "config.json"), str(out))
    _, err = process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL, err
    return out


@pytest.mark.slow
def test_kill_while_saving_the_agent_is_redone_on_resume(tmp_path):
    config = replace(TINY, methods=["qls"], lr_grid=[1e-3], budget=20, pareto=None, agent_timesteps=20)
    # Half the archive is written, then the process is killed, as by SIGKILL or a power cut.
    out = killed_run(
        tmp_path,
        config,
        """
        import mtl_gym.agents.common.serialization as serialization
        from mtl_gym.io import atomic_path
        def dying(path, data):
            with atomic_path(path) as temporary:
                temporary.write_bytes(data[: len(data) // 2])
                os.kill(os.getpid(), signal.SIGKILL)
        serialization.atomic_write_bytes = dying
        """,
    )
    agent = out / "agent"
    assert not (agent / "agent.zip").exists() and not (agent / "config.json").exists()
    run_bench(config, out, progress=False)
    assert load_agent(QLS, agent / "agent.zip").action_space.n == 4
    assert json.loads((out / "trials" / "qls_lr0.001_seed0.json").read_text())["params"]["agent"]
    assert not claim_path(agent).exists()


@pytest.mark.slow
def test_kill_while_plotting_is_redone_on_resume(tmp_path):
    config = replace(TINY, methods=["uniform"], lr_grid=[1e-3], budget=20, pareto=None)
    out = killed_run(
        tmp_path,
        config,
        """
        from matplotlib.figure import Figure
        def dying(self, path, *args, **kwargs):
            open(path, "wb").close()
            os.kill(os.getpid(), signal.SIGKILL)
        Figure.savefig = dying
        """,
    )
    trial = out / "trials" / "uniform_lr0.001_seed0.json"
    assert trial.exists() and not (out / "curves.png").exists()
    kept = trial.stat().st_mtime_ns
    run_bench(config, out, progress=False)
    assert (out / "curves.png").stat().st_size > 1000 and trial.stat().st_mtime_ns == kept


SHARED = """
    import json, os, sys, time
    from pathlib import Path
    from mtl_gym.bench import execute
    from mtl_gym.bench.config import BenchConfig
    from mtl_gym.bench.trials import trial_grid

    config = BenchConfig(methods=["uniform", "equal"], lr_grid=[1e-3, 2e-3, 3e-3, 4e-3], seeds=2)
    out, name = Path(sys.argv[1]), sys.argv[2]

    def fake_runs(config, trials):
        for trial in trials:  # drawn lazily: claimed one at a time
            time.sleep(0.3)
            with open(out / "computed.log", "a") as log:
                log.write(f"{name} {trial.key}\\n")
            yield trial, {"params": trial.params(config)}

    execute._pool_runs = fake_runs
    (out / f"ready-{name}").touch()
    while len(list(out.glob("ready-*"))) < 2:
        time.sleep(0.05)
    records = execute.run_trials(config, trial_grid(config), out, progress=False)
    print(len(records))
"""


@pytest.mark.slow
def test_two_processes_on_one_out_compute_each_trial_once(tmp_path):
    processes = [python(SHARED, str(tmp_path), name) for name in ("a", "b")]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert [out.strip() for out, _ in outputs] == ["16", "16"]
    lines = (tmp_path / "computed.log").read_text().split("\n")[:-1]
    keys = [line.split()[1] for line in lines]
    assert len(keys) == 16 and len(set(keys)) == 16  # each trial computed once
    assert {line.split()[0] for line in lines} == {"a", "b"}  # and the work was shared
    assert not list(tmp_path.glob("trials/*.claim"))


def test_claims_of_dead_local_processes_are_taken_over(tmp_path):
    record = tmp_path / "trials" / "t.json"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    claim_path(record).parent.mkdir()
    claim_path(record).write_text(json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout)}))
    claims = Claims()
    assert claims.acquire(record) and json.loads(claim_path(record).read_text())["pid"] == os.getpid()
    claims.release(record)
    assert not claim_path(record).exists()
    # A claim from another host cannot be checked: it is honoured until deleted.
    claim_path(record).write_text(json.dumps({"host": "elsewhere", "pid": 1}))
    assert not Claims().acquire(record)


def saved(out: Path) -> list[Path]:
    """Trial records; not the hidden temporary file of one being written."""
    return [path for path in out.glob("trials/*.json") if not path.name.startswith(".")]


def bench_with_a_trial_saved(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """A bench of 12 trials on two workers, in a session of its own, once its first trial is saved."""
    config = replace(TINY, methods=["uniform"], lr_grid=[1e-3, 2e-3, 3e-3], seeds=4, budget=300, pareto=None)
    (tmp_path / "config.json").write_text(config.to_json())
    out = tmp_path / "out"
    argv = [
        "bench",
        "--config",
        str(tmp_path / "config.json"),
        "--out",
        str(out),
        "--quiet",
        "--workers",
        "2",
    ]
    process = python(
        # A shell running the tests in the background leaves SIGINT ignored, which Python then keeps:
        # restore the handler a terminal's foreground process has, so that Ctrl-C can be tested.
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from mtl_gym.cli import main; main(sys.argv[1:])",
        *argv,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while not saved(out) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()
    return process, out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "whole_group", "status"),
    [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)],
    ids=["ctrl-c", "kill-driver"],
)
def test_an_interrupt_stops_workers_keeps_finished_trials_and_exits(tmp_path, signum, whole_group, status):
    """Ctrl-C reaches the whole process group; ``kill PID`` only the driver, which must stop its workers."""
    process, out = bench_with_a_trial_saved(tmp_path)
    if whole_group:
        os.killpg(process.pid, signum)  # as a terminal's Ctrl-C
    else:
        os.kill(process.pid, signum)
    sent = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - sent < 10
    kept = len(saved(out))
    assert process.returncode == status and "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == (
        f"mtl-gym: interrupted: kept {kept} finished trials (of 12) in {out}; rerun the same command to resume"
    )
    assert 1 <= kept < 12 and not list(out.glob("trials/*.claim"))
    with pytest.raises(ProcessLookupError):  # no worker outlived the driver
        for _ in range(50):
            os.killpg(process.pid, 0)
            time.sleep(0.1)


@pytest.mark.slow
def test_workers_exit_when_their_driver_is_killed_outright(tmp_path):
    """SIGKILL leaves the driver no chance to stop its workers: they notice it is gone themselves."""
    process, out = bench_with_a_trial_saved(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    with pytest.raises(ProcessLookupError):  # the session held only the driver and its workers
        for _ in range(100):
            os.killpg(process.pid, 0)
            time.sleep(0.1)
    assert len(saved(out)) < 12
