"""The benchmark harness: a tiny sweep end to end through ``mtl-gym bench``, its reports, resuming,
and the Ray path."""

from __future__ import annotations

import argparse
import csv
import json
import pickle
import shutil
from dataclasses import replace

import pytest
import torch

from mtl_gym.agents import QLS
from mtl_gym.agents.common.serialization import AgentFileError, load_agent
from mtl_gym.bench import execute
from mtl_gym.bench.bench import run_bench
from mtl_gym.bench.config import BenchConfig
from mtl_gym.bench.ranking import utility_ranking
from mtl_gym.bench.tables import has_f1, summarise
from mtl_gym.cli import main
from mtl_gym.data.errors import DataError
from mtl_gym.spec import split_spec_list
from mtl_gym.training import RunResult
from mtl_gym.training.trainer import NonFiniteLossError

TINY = BenchConfig(
    suite="synthetic",
    suite_options={"dev_size": 40, "test_size": 60},
    model={"name": "cnn", "embedding_dim": 32, "hidden_dim": 32},
    methods=["uniform", "equal"],
    seeds=1,
    budget=60,
    lr_grid=[1e-3, 3e-3],
    evaluations=3,
    pareto=["books", "toys"],
    pareto_ratios=[0.25, 0.75],
    weightings=200,
)
TASKS = ["books", "electronics", "kitchen", "toys"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The tiny sweep, run once through the CLI from a config file with one flag overriding it."""
    root = tmp_path_factory.mktemp("bench")
    (root / "tiny.json").write_text(TINY.to_json())
    out = root / "out"
    main(["bench", "--config", str(root / "tiny.json"), "--workers", "2", "--out", str(out), "--quiet"])
    return out


@pytest.mark.slow
def test_config_round_trips_through_json(swept):
    written = BenchConfig.from_json((swept / "config.json").read_text())
    assert written == replace(TINY, workers=2)
    assert BenchConfig.from_json(written.to_json()) == written
    with pytest.raises(ValueError, match="BenchConfig has no setting"):
        BenchConfig.from_json('{"seed": 3}')


@pytest.mark.slow
def test_every_trial_is_saved_with_its_params(swept):
    trials = sorted(p.name for p in (swept / "trials").glob("*.json"))
    # 2 methods and 2 Pareto ratios, x 2 learning rates x 1 seed.
    assert len(trials) == 8 and "uniform_lr0.003_seed0.json" in trials
    record = json.loads((swept / "trials" / "equal_lr0.001_seed0.json").read_text())
    params = record.pop("params")
    stamp = record.pop("provenance")
    assert stamp["packages"]["torch"] and stamp["packages"]["stable-baselines3"] and stamp["cpu_count"] >= 1
    assert params["method"] == "equal" and params["lr"] == 1e-3 and params["model"] == TINY.model
    assert record["budget"] == 60 and set(record["tasks"]) == set(TASKS) and len(record["curves"]) == 3
    # The rest of the record is the RunResult, whole.
    assert json.loads(RunResult(**record).to_json(full=True)) == record


@pytest.mark.slow
def test_tables_hold_every_method_task_and_cell(swept):
    table = json.loads((swept / "table.json").read_text())
    assert list(table["methods"]) == ["uniform", "equal"] and table["columns"] == [*TASKS, "average"]
    for entry in table["methods"].values():
        assert entry["lr"] in (1e-3, 3e-3) and set(entry["tuning"]) == {"0.001", "0.003"}
        best_lr = max(entry["tuning"], key=lambda lr: entry["tuning"][lr]["dev"])
        assert float(best_lr) == entry["lr"]
        for cell in entry["cells"].values():
            assert 0 <= cell["mean"] <= 1 and len(cell["values"]) == 1 and cell["ci95"] is None
    assert all(table["best"][column] for column in table["columns"])

    markdown = (swept / "table.md").read_text().splitlines()
    assert (
        markdown[2]
        == "| method | lr | books | electronics | kitchen | toys | average | Δ vs uniform (paired) |"
    )
    assert markdown[4].endswith("| +0.0 [+0.0, +0.0] |")  # uniform against itself
    assert [row.split(" | ")[0] for row in markdown[4:]] == ["| uniform", "| equal"]
    assert "**" in "".join(markdown[4:])

    rows = list(csv.DictReader((swept / "table.csv").read_text().splitlines()))
    assert len(rows) == 2 * 5 and {r["column"] for r in rows} == {*TASKS, "average"}
    average = {r["method"]: float(r["mean"]) for r in rows if r["column"] == "average"}
    assert average == {m: table["methods"][m]["cells"]["average"]["mean"] for m in average}


@pytest.mark.slow
def test_ranking_shares_sum_to_one(swept):
    ranking = json.loads((swept / "ranking.json").read_text())
    methods = ranking["methods"]
    assert set(methods) == {"uniform", "equal"} and ranking["weightings"] == 200
    assert sum(m["win_share"] for m in methods.values()) == pytest.approx(1)
    assert all(1 <= m["mean_rank"] <= 2 for m in methods.values())
    assert "| method | wins (%) |" in (swept / "ranking.md").read_text()
    # One seed each: the win rates come with their seed count.
    assert (
        "over 1 seed per method" in ranking["note"] and ranking["note"] in (swept / "ranking.md").read_text()
    )


@pytest.mark.slow
def test_aggregates_and_provenance_are_written(swept):
    aggregate = json.loads((swept / "aggregate.json").read_text())
    assert {m["method"] for m in aggregate["methods"]} == {"uniform", "equal"}
    equal = next(m for m in aggregate["methods"] if m["method"] == "equal")
    assert set(equal["probability_of_improvement"]) == {"uniform"}
    assert "IQM" in (swept / "aggregate.md").read_text() and (swept / "aggregate.png").stat().st_size > 1000
    assert (
        "- uniform: +0.0 [+0.0, +0.0]"
        in (swept / "aggregate.md").read_text().split("Paired with uniform by seed")[1]
    )
    config = json.loads((swept / "config.json").read_text())
    assert config["provenance"]["packages"]["gymnasium"]
    assert BenchConfig.from_json(json.dumps(config)) == replace(TINY, workers=2)


@pytest.mark.slow
def test_report_rerenders_a_finished_bench_byte_for_byte(swept, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(swept, copy)
    rendered = [
        "table.md",
        "table.csv",
        "table.json",
        "aggregate.md",
        "aggregate.json",
        "ranking.md",
        "ranking.json",
    ]
    for name in rendered:
        (copy / name).unlink()
    main(["report", str(copy)])
    assert "| method | lr |" in capsys.readouterr().out
    for name in rendered:
        assert (copy / name).read_bytes() == (swept / name).read_bytes(), name
    index = (copy / "report.md").read_text()
    assert index.startswith("# Bench report: 8 of 8 trials finished") and "](table.md)" in index


@pytest.mark.slow
def test_report_of_a_partial_bench_uses_the_finished_trials(swept, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(swept, copy)
    for trial in (copy / "trials").glob("equal_*"):
        trial.unlink()
    main(["report", str(copy)])
    table = json.loads((copy / "table.json").read_text())
    assert list(table["methods"]) == ["uniform"]
    assert (copy / "report.md").read_text().startswith("# Bench report: 6 of 8 trials finished")


@pytest.mark.slow
def test_plots_and_pareto_are_written(swept):
    for name in ("curves.png", "timeline.png", "pareto.png"):
        assert (swept / name).stat().st_size > 1000
    pareto = json.loads((swept / "pareto.json").read_text())
    assert pareto["tasks"] == ["books", "toys"]
    assert [p["ratio"] for p in pareto["points"]] == [0.25, 0.75, None, None]
    assert any(p["non_dominated"] for p in pareto["points"])


@pytest.mark.slow
def test_rerun_runs_only_missing_trials(swept, monkeypatch):
    missing = swept / "trials" / "uniform_lr0.001_seed0.json"
    kept = swept / "trials" / "equal_lr0.003_seed0.json"
    kept_time = kept.stat().st_mtime_ns
    missing.unlink()
    ran = []

    def recording_pool(config, trials):
        def recorded():  # trials are drawn (and claimed) lazily
            for trial in trials:
                ran.append(trial.key)
                yield trial

        yield from pool_runs(config, recorded())

    pool_runs = execute._pool_runs
    monkeypatch.setattr(execute, "_pool_runs", recording_pool)
    run_bench(BenchConfig.from_json((swept / "config.json").read_text()), swept, progress=False)
    assert ran == ["uniform_lr0.001_seed0"] and missing.exists() and kept.stat().st_mtime_ns == kept_time


@pytest.mark.slow
def test_a_trial_file_from_other_settings_is_an_error(swept, tmp_path):
    shutil.copytree(swept / "trials", tmp_path / "trials")
    with pytest.raises(ValueError, match="other settings"):
        run_bench(replace(TINY, budget=61), tmp_path, progress=False)


@pytest.mark.slow
def test_ray_sweep_runs_trials_as_tasks(tmp_path):
    config = replace(TINY, methods=["uniform"], lr_grid=[1e-3], seeds=2, pareto=None, ray="local", workers=2)
    report = run_bench(config, tmp_path, progress=False)
    assert sorted(p.name for p in (tmp_path / "trials").glob("*.json")) == [
        "uniform_lr0.001_seed0.json",
        "uniform_lr0.001_seed1.json",
    ]
    assert report["summary"]["methods"]["uniform"]["cells"]["average"]["ci95"] is not None


@pytest.mark.slow
def test_qls_gets_an_agent_trained_on_the_same_suite_and_model(tmp_path):
    config = replace(TINY, methods=["qls"], lr_grid=[1e-3], budget=20, pareto=None, agent_timesteps=20)
    run_bench(config, tmp_path, progress=False)
    trained = json.loads((tmp_path / "agent" / "config.json").read_text())["config"]
    assert trained["model"] == TINY.model and trained["suite_options"] == TINY.suite_options
    record = json.loads((tmp_path / "trials" / "qls_lr0.001_seed0.json").read_text())
    assert record["params"]["agent"] == str(tmp_path / "agent" / "agent.zip") and len(record["actions"]) == 20
    with pytest.raises(ValueError, match="agent trained with other settings"):
        run_bench(replace(config, agent_timesteps=21), tmp_path, progress=False)


def test_an_unknown_method_fails_before_any_trial(tmp_path):
    with pytest.raises(ValueError, match=r"unknown method 'bogus'"):
        run_bench(replace(TINY, methods=["uniform", "bogus"]), tmp_path, progress=False)
    assert not (tmp_path / "trials").exists()


def test_methods_flag_keeps_scheduler_arguments_together():
    assert split_spec_list("uniform,fixed-weights:books=2,dvd=0.5,pcgrad,fixed-weights:2,1,1,qls") == [
        "uniform",
        "fixed-weights:books=2,dvd=0.5",
        "pcgrad",
        "fixed-weights:2,1,1",
        "qls",
    ]


def test_a_method_best_on_every_task_wins_every_weighting():
    ranking = utility_ranking({"a": [0.9, 0.8], "b": [0.5, 0.7], "c": [0.6, 0.1]}, weightings=100, seed=1)
    assert ranking["methods"]["a"] == {"win_share": 1.0, "mean_rank": 1.0, "equal_weights_rank": 1}
    assert ranking["methods"]["b"]["win_share"] == 0 and ranking["methods"]["c"]["mean_rank"] > 2
    # Equal averages that differ only by float rounding (0.1 + 0.2 + 0.3 > 0.6) tie.
    tie = utility_ranking({"a": [0.3, 0.6], "b": [0.1 + 0.2 + 0.3, 0.3]}, weightings=10, seed=0)
    assert [m["equal_weights_rank"] for m in tie["methods"].values()] == [1, 1]


@pytest.mark.slow
def test_transfer_table_and_rau_bars(tmp_path):
    config = replace(
        TINY,
        methods=["uniform", "uniform+adatask"],
        lr_grid=[1e-3],
        seeds=2,
        pareto=None,
        transfer=["toys"],
        transfer_epochs=5,
    )
    report = run_bench(config, tmp_path, progress=False)
    transfer = json.loads((tmp_path / "transfer.json").read_text())
    assert transfer["columns"] == ["toys", "average"]
    assert list(transfer["methods"]) == ["uniform", "uniform+adatask"]
    for entry in transfer["methods"].values():
        toys = entry["cells"]["toys"]["values"]
        assert len(toys) == 2 and all(0 < v <= 1 for v in toys)
        assert entry["cells"]["average"]["values"] == toys  # one held-out task
    record = json.loads((tmp_path / "transfer" / "uniform_lr0.001_seed1_without_toys.json").read_text())
    assert record["task"] == "toys" and len(record["fold_accuracies"]) == 5
    assert record["params"]["held_out"] == "toys" and record["params"]["seed"] == 1
    assert report["transfer"].splitlines()[2] == "| method | lr | toys | average |"

    dominance = json.loads((tmp_path / "dominance.json").read_text())
    assert list(dominance) == ["uniform+adatask"] and dominance["uniform+adatask"]["tasks"] == TASKS
    assert (tmp_path / "dominance.png").stat().st_size > 1000
    assert not (tmp_path / "table_f1.md").exists()  # no tagging task


def test_transfer_settings_are_checked(tmp_path):
    with pytest.raises(ValueError, match="not among the methods"):
        replace(TINY, transfer=["toys"], transfer_methods=["pcgrad"])
    with pytest.raises(KeyError, match="no task 'garden'"):
        run_bench(replace(TINY, pareto=None, lr_grid=[1e-3], transfer=["garden"]), tmp_path, progress=False)
    assert not (tmp_path / "trials").exists()


def test_f1_table_scores_tagging_tasks_by_chunk_f1():
    def record(lr, dev_f1, test_f1):
        chunk = {"dev_acc": 0.95, "test_acc": 0.95, "dev_f1": dev_f1, "test_f1": test_f1}
        return {
            "params": {"method": "m", "lr": lr},
            "tasks": {"pos": {"dev_acc": 0.9, "test_acc": 0.9}, "chunk": chunk},
        }

    records = [record(1e-3, 0.5, 0.6), record(3e-3, 0.7, 0.8)]
    accuracy = summarise(records, ["m"], [1e-3, 3e-3])["methods"]["m"]
    f1 = summarise(records, ["m"], [1e-3, 3e-3], metric="f1")["methods"]["m"]
    # Equal accuracies tie, and a tie goes to the first lr; F1 tunes to the second.
    assert accuracy["lr"] == 1e-3 and accuracy["cells"]["chunk"]["mean"] == 0.95
    assert f1["lr"] == 3e-3 and f1["cells"]["chunk"]["mean"] == 0.8 and f1["cells"]["pos"]["mean"] == 0.9
    assert f1["cells"]["average"]["mean"] == pytest.approx(0.85) and has_f1(records)


@pytest.mark.slow
def test_qls_transfer_trains_one_agent_per_held_out_task(tmp_path):
    config = replace(
        TINY,
        methods=["qls"],
        lr_grid=[1e-3],
        budget=20,
        pareto=None,
        agent_timesteps=20,
        transfer=["toys"],
        transfer_epochs=2,
    )
    run_bench(config, tmp_path, progress=False)
    agent = tmp_path / "transfer" / "agent_without_toys" / "agent.zip"
    # Three tasks trained: three histograms of 20 bins and the agent-training features (share, since
    # and loss per task, elapsed); the table's agent saw four.
    assert load_agent(QLS, agent).observation_space.shape == (3 * 20 + 3 * 3 + 1,)
    assert load_agent(QLS, tmp_path / "agent" / "agent.zip").observation_space.shape == (4 * 20 + 13,)
    record = json.loads((tmp_path / "transfer" / "qls_lr0.001_seed0_without_toys.json").read_text())
    assert record["params"]["agent"] == str(agent) and record["task"] == "toys"


def test_qls_paper_preset_builds_the_papers_model(tmp_path):
    from mtl_gym.bench.config import add_arguments, config_from_args
    from mtl_gym.data import load_suite
    from mtl_gym.models import ModelConfig

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = config_from_args(
        parser.parse_args(["--preset", "qls-paper", "--seeds", "1", "--out", str(tmp_path)])
    )
    assert config.seeds == 1 and config.budget == 10_000 and config.trainer == {"batch_size": 16}
    assert config.suite == "fsmtl" and config.suite_options == {"max_len": 128}
    suite = load_suite("synthetic", max_len=config.suite_options["max_len"])
    model = ModelConfig.of(config.model)(suite)
    lstm = next(module for module in model.modules() if isinstance(module, torch.nn.LSTM))
    assert (lstm.input_size, lstm.hidden_size) == (300, 100)


def test_agent_options_reach_the_agents_the_harness_trains(tmp_path):
    from mtl_gym.bench.config import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flags = ["--budget", "30", "--env", "bins=10", "--out", str(tmp_path)]
    options = ["fast=true", "num_envs=4", 'env={"features": []}', 'exploration_kwargs={"c": 2}']
    for option in options:
        flags += ["--agent-option", option]
    config = config_from_args(parser.parse_args(flags))
    agent = config.agent_config("qls")
    assert agent.fast and agent.num_envs == 4 and agent.exploration_kwargs == {"c": 2}
    # The agent's env: the bench's, episodes as long as the budget, then the agent-only settings.
    assert agent.env == {"bins": 10, "episode_steps": 30, "features": []}
    assert config.env == {"bins": 10}  # the scheduled runs keep the bench's env
    with pytest.raises(ValueError, match="num_env"):
        config_from_args(parser.parse_args(["--agent-option", "num_env=4", "--out", str(tmp_path)]))


def test_a_worker_error_reaches_the_driver_with_its_message(tmp_path):
    """A trial that fails in a pool worker (here, an agent file that is not one) comes back as its
    own error, naming the file: an error that did not unpickle used to break the pool, leaving
    only "A child process terminated abruptly"."""
    bad = tmp_path / "agent.zip"
    bad.write_text("not a zip")
    trial = execute.Trial("qls", 1e-3, 0, str(bad))
    [(ran, outcome)] = list(execute._pool_runs(replace(TINY, methods=["qls"], workers=1), [trial]))
    assert ran == trial
    assert isinstance(outcome, AgentFileError) and outcome.path == str(bad)
    assert str(bad) in str(outcome)


@pytest.mark.parametrize(
    "error",
    [
        AgentFileError("runs/a/agent.zip", "not an agent file"),
        DataError("label 7 out of range", "train.tsv", 3),
        NonFiniteLossError("books", float("inf")),
    ],
)
def test_errors_cross_a_process_boundary_with_their_fields(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error) and vars(copy) == vars(error)
