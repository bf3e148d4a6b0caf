"""Results pages and generated tables: ``mtl-gym report --page`` and ``--readme``.

The README's results table and the headroom page's table are generated from the committed data in
docs/results/data/; the first test fails when either differs from what that data generates, so a
number cannot be edited in one place and drift from the other."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest

from mtl_gym.bench.config import BenchConfig
from mtl_gym.bench.headroom import HeadroomConfig
from mtl_gym.bench.pages import bench_command, render_table, tables_in, update_tables
from mtl_gym.cli import build_parser, main
from mtl_gym.cli.headroom import config_from_args as headroom_from_args
from mtl_gym.cli.report import headroom_command

ROOT = Path(__file__).resolve().parents[1]
HEADROOM_DATA = ROOT / "docs" / "results" / "data" / "headroom.json"
GENERATED = [
    ROOT / "README.md",
    ROOT / "docs" / "results" / "headroom.md",
    ROOT / "docs" / "results" / "index.md",
    ROOT / "docs" / "results" / "learned-schedulers.md",
    ROOT / "docs" / "agents.md",
]


def test_readme_and_pages_tables_match_their_data():
    assert tables_in(ROOT / "README.md") == [("docs/results/data/headroom.json", "headroom-summary")]
    assert tables_in(ROOT / "docs" / "results" / "headroom.md") == [("data/headroom.json", "headroom")]
    assert tables_in(ROOT / "docs" / "results" / "learned-schedulers.md") == [
        ("data/capture.json", "capture"),
        ("data/deployment.json", "capture-summary"),
        ("data/horizon.json", "capture-summary"),
        ("data/no_headroom.json", "capture-summary"),
        ("data/heldout.json", "capture-summary"),
        ("data/ppo_encoder.json", "capture-summary"),
        ("data/fast_fidelity.json", "fidelity"),
        ("data/fast_fidelity_agents.json", "fidelity-agents"),
        ("data/amortised.json", "capture"),
    ]
    assert tables_in(ROOT / "docs" / "agents.md") == [("results/data/known_answer.json", "known-answer")]
    stale = update_tables(GENERATED, check=True)
    assert stale == [], f"regenerate with: mtl-gym report --readme {' '.join(map(str, stale))}"


def test_readme_table_carries_the_runs_command_and_commit():
    data = json.loads(HEADROOM_DATA.read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        data["command"] == "python -m benchmarks.headroom --full --workers 1" and data["commit"] == "dccb3a6"
    )
    assert f"From `{data['command']}` (commit {data['commit']})" in readme
    assert "](docs/results/headroom.md)" in readme
    for row in data["headroom"]["rows"]:
        assert f"| `{row['suite']}` | `{row['objective']}` | {row['budget']} |" in readme


@pytest.fixture
def copied(tmp_path):
    """The headroom data and a Markdown file with its generated table, outside the repository."""
    (tmp_path / "data").mkdir()
    shutil.copyfile(HEADROOM_DATA, tmp_path / "data" / "headroom.json")
    page = tmp_path / "headroom.md"
    page.write_text(
        "# Title\n\n<!-- results-table:begin data/headroom.json headroom -->\n<!-- results-table:end -->\n"
    )
    main(["report", "--readme", str(page)])
    return page


def test_a_stale_number_is_caught_and_regenerated(copied, capsys):
    main(["report", "--readme", str(copied), "--check"])
    assert "up to date" in capsys.readouterr().out
    original = copied.read_text()
    assert "| synthetic-noisy-aux | target:toys | 600 | 86.2 | +4.0 [+2.8, +5.9] |" in original
    copied.write_text(original.replace("86.2 | +4.0", "86.2 | +4.1"))
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--readme", str(copied), "--check"])
    assert exit_info.value.code == 1 and "differ from their data" in capsys.readouterr().out
    main(["report", "--readme", str(copied)])
    assert copied.read_text() == original


def test_a_changed_data_file_changes_the_table(copied):
    data_path = copied.parent / "data" / "headroom.json"
    data = json.loads(data_path.read_text())
    data["headroom"]["rows"][0]["static_headroom"]["mean"] = 4.4
    data_path.write_text(json.dumps(data))
    assert update_tables([copied]) == [copied]
    assert "+4.4 [+2.8, +5.9]" in copied.read_text()


def test_the_known_answer_table_marks_a_missed_goal():
    """Each check's result carries its per-seed values; a result that misses its goal is bold."""
    data = json.loads((ROOT / "docs" / "results" / "data" / "known_answer.json").read_text(encoding="utf-8"))
    data.update(
        bandit_optimal_states=2,
        bandit_per_seed={"0": 3, "1": 2, "2": 3},
        imbalanced_distance=0.9,
        imbalanced_per_seed={"0": {"distance": 0.9}, "1": {"distance": 0.3}, "2": {"distance": 0.2}},
    )
    table = render_table(data, "known-answer", ROOT / "docs", ROOT / "docs" / "results" / "data" / "k.json")
    rows = [line for line in table.splitlines() if line.startswith("| ") and "check" not in line]
    assert len(rows) == 4
    assert "**2 of 3 (per seed 3, 2, 3)** (goal missed)" in rows[0]
    assert "**0.90 (per seed 0.90, 0.30, 0.20)** (goal missed) | below uniform's 0.64 |" in rows[3]
    assert "goal missed" not in rows[1] + rows[2]
    with pytest.raises(ValueError, match="holds no bandit_optimal_states"):
        render_table({"capture": []}, "known-answer", ROOT / "docs", ROOT / "x.json")


def test_the_capture_summary_shows_what_each_row_measured():
    """A captured fraction only where the static headroom is resolved; the difference from the best
    static mixture only where a row has it."""
    cell = {"mean": 1.0, "ci_low": 0.5, "ci_high": 1.5, "resolved": True}
    row = {"paired": cell, "captured": 0.5, "largest_share": 0.6, "smallest_share": 0.1}

    def block(suite: str, resolved: bool, deployment: str, **extra) -> dict:
        static = {"mean": 2.0, "ci_low": 1.0 if resolved else -1.0, "ci_high": 3.0, "resolved": resolved}
        return {"suite": suite, "objective": "mean", "budget": 300, "static_headroom": static,
                "methods": {"qls": {**row, **extra}}, "deployment": deployment, "command": "c"}  # fmt: skip

    data = {
        "title": "T",
        "capture": [
            block("a", True, "first", vs_static={**cell, "mean": -0.4, "ci_low": -0.9, "resolved": False}),
            block("b", False, "first"),
            block("a", True, "second"),
        ],
    }
    table = render_table(data, "capture-summary", ROOT, ROOT / "data.json").splitlines()
    first, second = (line for line in table if line.startswith(("| first", "| second")))
    assert "| +1.0 [+0.5, +1.5], 50%, largest share 0.60; vs best static -0.4 [-0.9, +1.5] (n.s.) |" in first
    assert "| +1.0 [+0.5, +1.5], largest share 0.60 |" in first  # suite b: headroom not resolved
    assert second.endswith("| +1.0 [+0.5, +1.5], 50%, largest share 0.60 | – |")


def test_bad_markers_fail_naming_the_file(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- results-table:begin data/none.json headroom -->\n")
    with pytest.raises(ValueError, match="unmatched results-table markers"):
        update_tables([page])
    page.write_text("<!-- results-table:begin data/none.json headroom -->\n<!-- results-table:end -->\n")
    with pytest.raises(ValueError, match="data/none.json not found"):
        update_tables([page])
    (tmp_path / "data").mkdir()
    shutil.copyfile(HEADROOM_DATA, tmp_path / "data" / "none.json")
    page.write_text("<!-- results-table:begin data/none.json nonsense -->\n<!-- results-table:end -->\n")
    with pytest.raises(ValueError, match="unknown results table 'nonsense'"):
        update_tables([page])


def _bench_from(command: str) -> BenchConfig:
    from mtl_gym.bench.config import config_from_args

    return config_from_args(build_parser().parse_args(shlex.split(command)[1:]))


@pytest.mark.parametrize(
    "config",
    [
        BenchConfig(),
        BenchConfig(
            suite="fsmtl",
            suite_options={"max_len": 64, "domains": ["books", "dvd"], "dev_size": 100},
            model={"name": "cnn", "embedding_dim": 64, "hidden_dim": 64},
            methods=[
                "uniform",
                "fixed-weights:books=2,dvd=1",
                "proportional:temperature=2",
                "equal+adatask",
                "qls",
            ],
            seeds=2,
            budget=2400,
            lr_grid=[1e-3, 3e-3],
            env={"objective": "target:books", "features": ["share", "since"]},
            trainer={"batch_size": 32},
            agent_options={"fast": True, "exploration_kwargs": {"c": 2}},
            agent_timesteps=300_000,
            transfer=["all"],
            pareto=["books", "dvd"],
            workers=2,
            ray="local",
        ),
        BenchConfig(suite="fsmtl-noisy-aux", suite_options={"max_len": 64}, model={"name": "cnn"}),
    ],
)
def test_bench_command_gives_back_the_config(config):
    command = bench_command(config, "runs/x")
    assert command.startswith("mtl-gym bench ") and command.endswith("--out runs/x")
    assert "--config" not in command
    assert _bench_from(command) == config


def test_a_config_the_flags_cannot_give_falls_back_to_its_file():
    # Flags cannot drop the default model's name, so this config is named by its file.
    config = BenchConfig(model={"hidden_dim": 64})
    assert bench_command(config, "runs/x") == "mtl-gym bench --config runs/x/config.json --out runs/x"


def test_headroom_command_gives_back_the_config():
    config = HeadroomConfig(
        suite="ner-target",
        suite_options={"max_len": 64},
        budget=300,
        seeds=3,
        trials=6,
        lr=1e-2,
        lookahead_k=0,
    )
    command = headroom_command(config, "runs/h")
    assert command.startswith("mtl-gym headroom ") and "--config" not in command
    assert headroom_from_args(build_parser().parse_args(shlex.split(command)[1:])) == config


def _headroom_folder(folder: Path) -> None:
    """A finished ``mtl-gym headroom`` folder as the measurement leaves it (no trials)."""
    folder.mkdir()
    config = HeadroomConfig(suite="synthetic-noisy-aux", budget=60, seeds=2, trials=3)
    (folder / "config.json").write_text(json.dumps(config.to_dict()))
    ci = {"mean": 2.5, "ci_low": 1.0, "ci_high": 4.0, "resolved": True}
    report = {
        "suite": "synthetic-noisy-aux",
        "objective": "target:toys",
        "budget": 60,
        "lr": 3e-3,
        "seeds": 2,
        "metric": "f1",
        "mixtures_tried": 3,
        "uniform": {"dev": 70.0, "test": 71.25, "test_per_seed": [70.0, 72.5]},
        "best_static": {"weights": {"books": 0.7, "electronics": 0.1, "kitchen": 0.1, "toys": 0.1}},
        "static_headroom": ci,
        "dynamic_headroom": None,
        "run_s": 12.0,
        "wall_s": 13.0,
    }
    (folder / "headroom.json").write_text(json.dumps(report))


@pytest.mark.slow
def test_page_from_bench_and_headroom_folders(tmp_path, capsys):
    config = BenchConfig(
        suite="synthetic",
        suite_options={"dev_size": 40, "test_size": 60},
        model={"name": "cnn", "embedding_dim": 16, "hidden_dim": 16},
        methods=["uniform", "equal"],
        seeds=2,
        budget=40,
        lr_grid=[1e-3],
        evaluations=2,
        weightings=50,
    )
    (tmp_path / "tiny.json").write_text(config.to_json())
    bench = tmp_path / "runs" / "tiny"
    main(["bench", "--config", str(tmp_path / "tiny.json"), "--out", str(bench), "--quiet"])
    _headroom_folder(tmp_path / "runs" / "head")
    page = tmp_path / "docs" / "results" / "tiny.md"
    main(["report", str(bench), str(tmp_path / "runs" / "head"), "--page", str(page), "--title", "Tiny"])
    text = page.read_text()
    data = json.loads((page.parent / "data" / "tiny.json").read_text())

    # The command that wrote the page, first; then each folder's rerun command and its numbers.
    report_command = shlex.join(
        [
            "mtl-gym",
            "report",
            str(bench),
            str(tmp_path / "runs" / "head"),
            "--page",
            str(page),
            "--title",
            "Tiny",
        ]
    )
    assert (
        text.startswith("# Tiny\n") and f"$ {report_command}\n" in text and data["command"] == report_command
    )
    assert (
        f"$ {bench_command(config, bench)}\n" in text and _bench_from(bench_command(config, bench)) == config
    )
    assert "2 of 2 trials finished" not in text and "4 of 4 trials finished" in text
    assert "Trials ran at commit" in text or "hold no provenance" in text
    for heading in ("### Test accuracy", "### Aggregates", "### Ranking", "### Figures"):
        assert heading in text
    assert (bench / "table.md").read_text().split("\n", 2)[2].strip() in text  # the table itself, as rendered
    for figure in ("curves.png", "timeline.png", "aggregate.png"):
        assert (page.parent / "tiny" / "tiny" / figure).is_file() and f"](tiny/tiny/{figure})" in text
    assert (
        "mtl-gym headroom" in text
        and "| synthetic-noisy-aux | target:toys | 60 | 71.2 | +2.5 [+1.0, +4.0] |" in text
    )

    # The page's data feeds tables elsewhere.
    assert set(data["bench"][0]["methods"]) == {"uniform", "equal"} and data["page"] == "../tiny.md"
    readme = tmp_path / "README.md"
    readme.write_text(
        "<!-- results-table:begin docs/results/data/tiny.json bench-summary -->\n<!-- results-table:end -->\n"
    )
    main(["report", "--readme", str(readme)])
    table = readme.read_text()
    assert "| method | lr | average | Δ vs uniform (paired) |" in table and "](docs/results/tiny.md)" in table
    uniform = data["bench"][0]["methods"]["uniform"]
    assert f"| uniform | 0.001 | {uniform['cells']['average']}" in table.replace("**", "")
    capsys.readouterr()
    main(["report", "--readme", str(readme), "--check"])
    assert "up to date" in capsys.readouterr().out


def test_report_needs_a_folder_or_readme(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report"])
    assert exit_info.value.code == 2 and "needs a bench folder" in capsys.readouterr().err
