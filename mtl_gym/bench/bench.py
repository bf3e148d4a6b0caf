"""``mtl-gym bench``: tune and compare methods on equal footing, then write tables, ranking and plots.

    mtl-gym bench --suite fsmtl --methods uniform,pcgrad,equal+adatask,qls --seeds 3 --budget 4000 \\
        --lr-grid 3e-4,1e-3,3e-3 --model lstm --workers 2 --transfer all --out runs/bench

DIR (``--out``) receives ``config.json``, ``trials/<key>.json`` (one per method x lr x seed, each
saved as it finishes; a rerun skips them), ``agent/`` (the QLS agent the harness trained, if any),
``table.md|csv|json`` (and ``table_f1.*`` when a task is IOB tagging), ``ranking.md|json``,
``curves.png``, ``timeline.png`` (schedulers only), ``dominance.json|png`` (methods under
AdaTask), with ``--pareto A,B`` ``pareto.json|png``, and with ``--transfer`` ``transfer/<key>.json``
(and a QLS agent per held-out task) and ``transfer.md|csv|json``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from mtl_gym.agents.qls import train_agent

from .config import BenchConfig
from .execute import run_trials
from .pareto import pareto_summary, write_pareto
from .plots import plot_curves, plot_timelines, write_dominance
from .ranking import utility_ranking, write_ranking
from .tables import has_f1, summarise, write_tables
from .transfer import held_out_tasks, run_transfer
from .trials import agent_algorithm, check_methods, suite_of, trial_grid


def run_bench(config: BenchConfig, out: str | Path, progress: bool = True) -> dict:
    """Run (or finish) the sweep of ``config`` in ``out``; returns the Markdown table and ranking,
    the tuning summary of every method run (the Pareto sweep's included), and the Markdown of the
    chunk-F1 and transfer tables when the sweep has them."""
    check_methods(config)
    if config.transfer:
        held_out_tasks(config, suite_of(config))  # an unknown task fails here, before any trial
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(config.to_json())
    algorithms = dict.fromkeys(filter(None, map(agent_algorithm, config.methods)))
    agents = {a: qls_agent(config, out / agent_folder(a), progress, a) for a in algorithms}
    trials = trial_grid(config, agents)
    records = run_trials(config, trials, out, progress)
    run_methods = list(dict.fromkeys(t.method for t in trials))
    summary = summarise(records, run_methods, config.lr_grid)
    report = {"table": write_tables(summary, config.methods, out), "summary": summary}
    if has_f1(records):
        report["table_f1"] = write_tables(
            summarise(records, run_methods, config.lr_grid, metric="f1"),
            config.methods,
            out,
            stem="table_f1",
            metric="test chunk F1 of IOB tagging tasks (accuracy of the others) at the lr of best mean dev score",
        )
    scores = {
        m: [summary["methods"][m]["cells"][t]["mean"] for t in summary["tasks"]] for m in config.methods
    }
    ranking = utility_ranking(scores, config.weightings, config.ranking_seed)
    report["ranking"] = write_ranking(ranking, out)
    plot_curves(summary, records, config.methods, out / "curves.png")
    plot_timelines(summary, records, config.methods, out / "timeline.png")
    write_dominance(summary, records, config.methods, out)
    if config.pareto:
        write_pareto(pareto_summary(summary, config), out)
    if config.transfer:
        report["transfer"] = run_transfer(config, summary, out, progress)
    return report


def agent_folder(algorithm: str) -> str:
    """``agent`` for the QLS agent (as before there were others), ``agent-NAME`` for the rest."""
    return "agent" if algorithm == "qls" else f"agent-{algorithm}"


def qls_agent(config: BenchConfig, folder: Path, progress: bool, algorithm: str = "qls") -> str:
    """The agent for method ``algorithm`` (qls, ppo): for qls the configured one if any, else one
    trained here (``BenchConfig.agent_config``), kept in ``folder`` and reused by a rerun."""
    if config.agent and algorithm == "qls":
        return config.agent
    agent_config = config.agent_config(algorithm)
    if not (folder / "agent.zip").exists():
        train_agent(agent_config, folder, progress_bar=progress)
    elif json.loads((folder / "config.json").read_text())["config"] != asdict(agent_config):
        raise ValueError(f"{folder} holds an agent trained with other settings; use a new output folder")
    return str((folder / "agent.zip").resolve())
