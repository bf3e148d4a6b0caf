"""``mtl-gym bench``: tune and compare methods on equal footing, then write tables, ranking and plots.

    mtl-gym bench --suite fsmtl --methods uniform,pcgrad,qls --seeds 3 --budget 4000 \\
        --lr-grid 3e-4,1e-3,3e-3 --model lstm --workers 2 --out runs/bench

DIR (``--out``) receives ``config.json``, ``trials/<key>.json`` (one per method x lr x seed, each
saved as it finishes; a rerun skips them), ``agent/`` (the QLS agent the harness trained, if any),
``table.md|csv|json``, ``ranking.md|json``, ``curves.png``, ``timeline.png`` (schedulers only) and,
with ``--pareto A,B``, ``pareto.json|png``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from agents.qls import TrainAgentConfig, train_agent

from .config import BenchConfig
from .execute import run_trials
from .pareto import pareto_summary, write_pareto
from .plots import plot_curves, plot_timelines
from .ranking import utility_ranking, write_ranking
from .tables import summarise, write_tables
from .trials import check_methods, trial_grid


def run_bench(config: BenchConfig, out: str | Path, progress: bool = True) -> dict:
    """Run (or finish) the sweep of ``config`` in ``out``; returns the Markdown table and ranking,
    and the tuning summary of every method run (the Pareto sweep's included)."""
    check_methods(config)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(config.to_json())
    trials = trial_grid(config)
    agent = qls_agent(config, out, progress) if any(t.uses_agent for t in trials) else None
    records = run_trials(config, trials, out, agent, progress)
    summary = summarise(records, list(dict.fromkeys(t.method for t in trials)), config.lr_grid)
    table = write_tables(summary, config.methods, out)
    scores = {
        m: [summary["methods"][m]["cells"][t]["mean"] for t in summary["tasks"]] for m in config.methods
    }
    ranking = write_ranking(utility_ranking(scores, config.weightings, config.ranking_seed), out)
    plot_curves(summary, records, config.methods, out / "curves.png")
    plot_timelines(summary, records, config.methods, out / "timeline.png")
    if config.pareto:
        write_pareto(pareto_summary(summary, config), out)
    return {"table": table, "ranking": ranking, "summary": summary}


def qls_agent(config: BenchConfig, out: Path, progress: bool) -> str:
    """The agent for method qls: the configured one, else one trained here on the same suite and
    model with episodes as long as the budget (kept in ``out/agent`` and reused by a rerun)."""
    if config.agent:
        return config.agent
    folder = out / "agent"
    agent_config = TrainAgentConfig(
        suite=config.suite,
        data_dir=config.data_dir,
        suite_options=config.suite_options,
        model=config.model,
        env={"episode_steps": config.budget},
        timesteps=config.agent_timesteps,
        seed=config.agent_seed,
    )
    if not (folder / "agent.zip").exists():
        train_agent(agent_config, folder, progress_bar=progress)
    elif json.loads((folder / "config.json").read_text())["config"] != asdict(agent_config):
        raise ValueError(f"{folder} holds an agent trained with other settings; use a new output folder")
    return str((folder / "agent.zip").resolve())
