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

from mtl_gym.agents.common.serialization import (
    UNTRUSTED,
    AgentFileError,
    agent_file_kind,
    load_agent,
    save_agent,
)
from mtl_gym.agents.qls import QLS, train_agent
from mtl_gym.io import atomic_write_text

from .claims import Claims, wait_for
from .config import BenchConfig
from .execute import run_trials
from .pareto import pareto_summary, write_pareto
from .plots import plot_curves, plot_timelines, write_dominance
from .ranking import utility_ranking, write_ranking
from .tables import has_f1, summarise, write_tables
from .transfer import held_out_tasks, run_transfer
from .trials import check_methods, suite_of, trial_grid, uses_agent


def run_bench(config: BenchConfig, out: str | Path, progress: bool = True, trust_agent: bool = False) -> dict:
    """Run (or finish) the sweep of ``config`` in ``out``; returns the Markdown table and ranking,
    the tuning summary of every method run (the Pareto sweep's included), and the Markdown of the
    chunk-F1 and transfer tables when the sweep has them. ``trust_agent`` allows a legacy
    (pickle-based) Stable-Baselines3 agent file, which is loaded once and converted.

    Every file is written atomically, so a rerun after a kill redoes exactly what is missing; several
    processes may share ``out`` (claim files split the trials and the agent training); Ctrl-C raises
    :class:`~mtl_gym.bench.execute.Interrupted` after keeping the finished trials."""
    check_methods(config)
    if config.transfer:
        held_out_tasks(config, suite_of(config))  # an unknown task fails here, before any trial
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.json", config.to_json())
    uses = any(map(uses_agent, config.methods))
    agent = qls_agent(config, out / "agent", progress, trust_agent) if uses else None
    trials = trial_grid(config, agent)
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


def qls_agent(config: BenchConfig, folder: Path, progress: bool, trust_agent: bool = False) -> str:
    """The agent for method qls: the configured one, else one trained here (``BenchConfig.agent_config``),
    kept in ``folder`` and reused by a rerun. Nothing is unpickled: a legacy Stable-Baselines3 zip
    (given, or found in ``folder``) is refused unless ``trust_agent``, then converted once to the safe
    format (``folder/agent.zip``) that the trials load. Training is claimed (:mod:`.claims`), so a
    second process on the same output waits for it; a folder without ``config.json`` (written last)
    is an interrupted training and is redone."""
    path = folder / "agent.zip"
    if config.agent:
        given = Path(config.agent)
        if _agent_kind(given, "--agent", trust_agent) == "safe":
            return config.agent
        # Trusted: converted once (the same file is reused by a rerun).
        save_agent(load_agent(QLS, given, trust=True), folder / "trusted.zip")
        return str((folder / "trusted.zip").resolve())
    agent_config = config.agent_config()
    claims = Claims()
    try:
        if not wait_for(lambda: (folder / "config.json").is_file(), claims, folder):
            train_agent(agent_config, folder, progress_bar=progress)
    finally:
        claims.release_all()
    if json.loads((folder / "config.json").read_text())["config"] != asdict(agent_config):
        raise ValueError(f"{folder} holds an agent trained with other settings; use a new output folder")
    if _agent_kind(path, str(path), trust_agent) == "legacy":  # written by an older mtl-gym
        save_agent(load_agent(QLS, path, trust=True), path)
    return str(path.resolve())


def _agent_kind(path: Path, name: str, trust: bool) -> str:
    """``safe`` or ``legacy`` (the latter only with ``trust``); a ValueError naming ``name`` otherwise."""
    try:
        kind = agent_file_kind(path)
    except AgentFileError as err:
        raise ValueError(f"{name}: {err.reason}") from None
    if kind == "legacy" and not trust:
        raise ValueError(f"{name}: {UNTRUSTED}")
    return kind
