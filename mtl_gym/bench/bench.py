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

from ..agents.algorithms import algorithm as agent_kind
from ..agents.common.serialization import UNTRUSTED, AgentFileError, agent_file_kind, load_agent, save_agent
from ..agents.qls import train_agent
from ..env import EnvConfig
from ..io import atomic_write_text
from ..objective import bind_objective
from ..provenance import provenance
from .aggregate import ranking_note, write_aggregates
from .claims import Claims, wait_for
from .config import BenchConfig
from .execute import run_trials
from .pareto import pareto_summary, write_pareto
from .plots import plot_curves, plot_timelines, write_dominance
from .ranking import utility_ranking, write_ranking
from .tables import has_f1, summarise, write_tables
from .transfer import held_out_tasks, run_transfer
from .trials import agent_algorithm, check_methods, load_record, suite_of, trial_grid


def run_bench(config: BenchConfig, out: str | Path, progress: bool = True, trust_agent: bool = False) -> dict:
    """Run (or finish) the sweep of ``config`` in ``out``, then write every report (see
    :func:`render`); with ``--transfer``, run and write the transfer table too. ``trust_agent``
    allows a legacy (pickle-based) Stable-Baselines3 agent file, which is loaded once and converted.

    Every file is written atomically, so a rerun after a kill redoes exactly what is missing; several
    processes may share ``out`` (claim files split the trials and the agent training); Ctrl-C raises
    :class:`~mtl_gym.bench.execute.Interrupted` after keeping the finished trials."""
    check_methods(config)
    # An objective naming an unknown task fails here, before any trial.
    bind_objective(EnvConfig.of(config.env).objective, suite_of(config).names)
    if config.transfer:
        held_out_tasks(config, suite_of(config))  # an unknown task fails here, before any trial
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        out / "config.json", json.dumps({**asdict(config), "provenance": provenance()}, indent=2)
    )
    algorithms = dict.fromkeys(filter(None, map(agent_algorithm, config.methods)))
    agents = {a: qls_agent(config, out / agent_folder(a), progress, a, trust_agent) for a in algorithms}
    trials = trial_grid(config, agents)
    records = run_trials(config, trials, out, progress)
    report = render(config, records, out)
    if config.transfer:
        report["transfer"] = run_transfer(config, report["summary"], out, progress)
    write_index(out, report, len(records), len(trials))
    return report


def report_folder(out: str | Path) -> dict:
    """Re-render every table and figure of a bench folder from its saved trials, training nothing;
    a partial sweep reports the trials it has (``mtl-gym report DIR``). Writes ``report.md``; the
    returned report also holds ``trials``, (finished, total)."""
    out = Path(out)
    if not (out / "config.json").is_file():
        raise ValueError(f"{out} is not a bench folder: it has no config.json")
    config = BenchConfig.from_json((out / "config.json").read_text())
    algorithms = dict.fromkeys(filter(None, map(agent_algorithm, config.methods)))
    agents = {
        a: config.agent
        if a == "qls" and config.agent
        else str((out / agent_folder(a) / "agent.zip").resolve())
        for a in algorithms
    }
    trials = trial_grid(config, agents)
    records = [r for t in trials if (r := load_record(out, t, t.params(config))) is not None]
    if not records:
        raise ValueError(f"{out} holds no finished trial yet")
    report = render(config, records, out)
    if config.transfer and (out / "transfer.md").is_file():
        report["transfer"] = (out / "transfer.md").read_text()
    write_index(out, report, len(records), len(trials))
    report["trials"] = (len(records), len(trials))
    return report


OUTPUTS = {
    "table.md": "test accuracy per task at each method's tuned lr",
    "table_f1.md": "chunk F1 of IOB tagging tasks",
    "aggregate.md": "IQM, mean and median with stratified bootstrap CIs; probability of improvement",
    "aggregate.png": "interval estimates and performance profiles",
    "ranking.md": "utility-robust ranking over random task weightings",
    "curves.png": "per-task dev curves",
    "timeline.png": "each scheduler's task choices over the run",
    "dominance.png": "AdaTask's rAU bars",
    "pareto.png": "two-task Pareto front",
    "transfer.md": "leave-one-out transfer",
}


def write_index(out: Path, report: dict, finished: int, total: int) -> None:
    """``report.md``: what the folder holds, linked, with the main tables inline."""
    lines = [f"# Bench report: {finished} of {total} trials finished", ""]
    lines += [f"- [{name}]({name}): {what}" for name, what in OUTPUTS.items() if (out / name).is_file()]
    for key, title in (("table", "Test accuracy"), ("aggregate", "Aggregates"), ("ranking", "Ranking")):
        lines += ["", f"## {title}", "", report[key]]
    atomic_write_text(out / "report.md", "\n".join(lines))


def render(config: BenchConfig, records: list[dict], out: Path) -> dict:
    """Every table and figure of the sweep from its trial records, none trained: ``mtl-gym bench``
    calls it after its trials and ``mtl-gym report`` on a finished (or partial) folder. Returns the
    Markdown of the table, F1 table, aggregates and ranking, and the tuning summary."""
    run_methods = list(dict.fromkeys(r["params"]["method"] for r in records))
    objective = EnvConfig.of(config.env).objective
    summary = summarise(records, run_methods, config.lr_grid, objective=objective)
    methods = [m for m in config.methods if m in summary["methods"]]
    report = {"table": write_tables(summary, methods, out), "summary": summary}
    if has_f1(records):
        report["table_f1"] = write_tables(
            summarise(records, run_methods, config.lr_grid, metric="f1", objective=objective),
            methods,
            out,
            stem="table_f1",
            metric="test chunk F1 of IOB tagging tasks (accuracy of the others) at the lr of best mean dev score",
        )
    aggregate, report["aggregate"] = write_aggregates(summary, records, methods, out)
    scores = {m: [summary["methods"][m]["cells"][t]["mean"] for t in summary["tasks"]] for m in methods}
    ranking = utility_ranking(scores, config.weightings, config.ranking_seed)
    report["ranking"] = write_ranking(ranking, out, note=ranking_note(ranking, aggregate))
    plot_curves(summary, records, methods, out / "curves.png")
    plot_timelines(summary, records, methods, out / "timeline.png")
    write_dominance(summary, records, methods, out)
    if config.pareto:
        write_pareto(pareto_summary(summary, config), out)
    return report


def agent_folder(algorithm: str) -> str:
    """``agent`` for the QLS agent (as before there were others), ``agent-NAME`` for the rest."""
    return "agent" if algorithm == "qls" else f"agent-{algorithm}"


def qls_agent(
    config: BenchConfig, folder: Path, progress: bool, algorithm: str = "qls", trust_agent: bool = False
) -> str:
    """The agent for method ``algorithm`` (qls, ppo): for qls the configured one if any, else one
    trained here (``BenchConfig.agent_config``), kept in ``folder`` and reused by a rerun. Nothing is
    unpickled: a legacy Stable-Baselines3 zip (given, or found in ``folder``) is refused unless
    ``trust_agent``, then converted once to the safe format that the trials load. Training is
    claimed (:mod:`.claims`), so a second process on the same output waits for it; a folder without
    ``config.json`` (written last) is an interrupted training and is redone."""
    path = folder / "agent.zip"
    cls = agent_kind(algorithm).cls
    if config.agent and algorithm == "qls":
        given = Path(config.agent)
        if _agent_kind(given, "--agent", trust_agent) == "safe":
            return config.agent
        # Trusted: converted once (the same file is reused by a rerun).
        save_agent(load_agent(cls, given, trust=True), folder / "trusted.zip")
        return str((folder / "trusted.zip").resolve())
    agent_config = config.agent_config(algorithm)
    claims = Claims()
    try:
        if not wait_for(lambda: (folder / "config.json").is_file(), claims, folder):
            train_agent(agent_config, folder, progress_bar=progress)
    finally:
        claims.release_all()
    recorded = json.loads((folder / "config.json").read_text())["config"]
    recorded.pop("device", None)  # where it trained is not what it is
    if recorded != agent_config.identity():
        raise ValueError(f"{folder} holds an agent trained with other settings; use a new output folder")
    if _agent_kind(path, str(path), trust_agent) == "legacy":  # written by an older mtl-gym
        save_agent(load_agent(cls, path, trust=True), path)
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
