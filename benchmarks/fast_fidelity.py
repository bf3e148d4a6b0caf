"""Does the fast env rank static mixtures as the full env does? An agent trained on the fast env can
only learn a suite's answer if the fast env holds it.

    python -m benchmarks.fast_fidelity FOLDER [FOLDER ...] [--fast-seeds N] [--features JSON] [--env JSON]
        [--agents] [--json]

Each FOLDER is a finished ``mtl-gym headroom`` folder. Every static schedule it ran (uniform, each
mixture of its search, a target alone) is run again on the fast env that
``benchmarks.headroom_capture`` trains its agents on (frozen, cached encoder features; the folder's
suite, model, trainer, budget and objective), on the folder's seeds, and scored on test under the
objective. Per folder:

- ``rank_correlation``: Spearman's rho between the schedules' mean test scores on the two envs;
- ``fast_headroom``: on the fast env, the paired difference from uniform of the full env's best
  static schedule (chosen on dev, as ``headroom`` chooses it) with its bootstrap 95% CI, over the
  folder's seeds or ``--fast-seeds``; the full env's ``static_headroom`` beside it;
- ``fast_best``: the fast env's own best schedule and its paired difference from uniform;
- ``reward_*``: the same for what the agent learns from, its reward at the run's end (minus the
  objective's loss over the whole dev split): ``reward_rank_correlation`` against the full env's
  test scores, ``reward_headroom`` (the full env's best against uniform, in loss units) and
  ``reward_best``;
- ``return_*``: the same for the env's reward averaged over the run's decisions, the agents' reward
  (the penalty included, as they train; ``--env '{"reference": null}'`` leaves it out): what an agent
  maximises when it looks to the run's end (at gamma 0.99 it looks about 100 decisions ahead):
  ``return_headroom`` (the full env's best against uniform) and ``return_best``;
- with ``--agents``, ``agent`` and ``agent:greedy``: the folder's QLS agent deployed on the fast env,
  its paired test and reward differences from uniform there and its task shares: whether it learned
  the answer of the env it trained on.

A suite whose full-env answer is not the fast env's is one that a fast-env agent cannot learn,
whatever its learning signal. Runs all schedules of a folder at once in one batched env: 5 to 30 s
a folder of 12 to 18 schedules x 20 seeds on one core.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mtl_gym.bench.fidelity import AGENT_POLICIES, fidelity


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="+", help="finished mtl-gym headroom folders")
    parser.add_argument(
        "--fast-seeds",
        type=int,
        help="seeds 0..N-1 of the fast-env runs (default: the folder's own seeds); the fast env is "
        "cheap, so more seeds narrow its intervals",
    )
    parser.add_argument(
        "--features",
        type=json.loads,
        default={},
        help="FeatureConfig fields of the fast env as JSON, e.g. '{\"encoder_budget\": 300}'",
    )
    parser.add_argument(
        "--env",
        type=json.loads,
        default={},
        help="EnvConfig fields over the agents' training env as JSON, e.g. '{\"reference\": null}' "
        "(the reward without the penalty)",
    )
    parser.add_argument(
        "--agents",
        action="store_true",
        help="also deploy each folder's QLS agent (FOLDER/agents/qls/agent.zip) on the fast env",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [
        fidelity(Path(folder), args.fast_seeds, args.features, args.agents, args.env)
        for folder in args.folders
    ]
    if args.json:
        print(
            json.dumps(
                {"features": args.features, "env": args.env, "fast_seeds": args.fast_seeds, "folders": rows},
                indent=2,
            )
        )
        return
    for row in rows:
        full, fast, reward = row["static_headroom"], row["fast_headroom"], row["reward_headroom"]
        print(
            f"{row['suite']} ({row['objective']}, {row['budget']}): rho {row['rank_correlation']:+.2f}  "
            f"full {full['mean']:+.1f} [{full['ci_low']:+.1f}, {full['ci_high']:+.1f}]  "
            f"fast {fast['mean']:+.1f} [{fast['ci_low']:+.1f}, {fast['ci_high']:+.1f}]  "
            f"fast best {row['fast_best']} {row['fast_best_headroom']['mean']:+.1f}  "
            f"reward rho {row['reward_rank_correlation']:+.2f}  reward {reward['mean']:+.3f} "
            f"[{reward['ci_low']:+.3f}, {reward['ci_high']:+.3f}]  reward best {row['reward_best']}  "
            f"over the run {row['return_headroom']['mean']:+.4f}  best {row['return_best']}"
        )
        for label in AGENT_POLICIES if args.agents else ():
            deployed = row[label]
            print(
                f"  {label}: test {deployed['test']['mean']:+.1f}  reward {deployed['reward']['mean']:+.3f}  "
                f"shares {deployed['shares']}"
            )


if __name__ == "__main__":
    main()
