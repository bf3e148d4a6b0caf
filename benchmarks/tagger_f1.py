"""Single-task chunk F1 of the BiLSTM tagger: CoNLL-2000 chunking and WNUT-17 NER, with and without
character features.

    python -m benchmarks.tagger_f1 [--data-dir DIR] [--tasks chunk,ner] [--setups word,char]
        [--budget 3000] [--lr 1e-3] [--seeds 1] [--option KEY=VALUE ...] [--json]

Each (task, setup, seed) trains a fresh ``bilstm`` on that task alone (its suite holds only it) for
``--budget`` task-minibatches through the Trainer, then reports chunk F1 on the test split as
``trainer.evaluate("test")`` computes it (conlleval's counting), the dev F1 at the end and its
best over ``--evaluations`` periodic dev evaluations (to show whether the budget converged), and
the wall time. ``--option`` overrides a ModelConfig field in every setup.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time

import torch

from mtl_gym.data import VocabConfig, load_suite
from mtl_gym.models import ModelConfig
from mtl_gym.training import Trainer, TrainerConfig, seed_everything

TASK_SUITES = {"chunk": "conll2000", "pos": "conll2000", "ner": "wnut17"}
"""Which suite holds each task."""
BASE = ModelConfig(name="bilstm", embedding_dim=100, hidden_dim=200, dropout=0.5)
"""Lample et al. 2016's sizes: 100-d words, 100 LSTM units per direction, dropout 0.5."""
SETUPS = {
    "word": BASE,
    "char": dataclasses.replace(BASE, char_dim=30, char_filters=30),
}
"""Without and with character features, as Ma & Hovy 2016 size them (30-d characters, 30 filters
of width 3); ``--option word_dropout=0.25`` and the like change both."""


def run_one(suite, model: ModelConfig, config: TrainerConfig, budget: int, evaluations: int) -> dict:
    seed_everything(config.seed)
    trainer = Trainer(model(suite), suite, config)
    name = suite.names[0]
    every = max(1, budget // evaluations)
    dev_curve, test_curve = [], []
    start = time.perf_counter()
    for step in range(1, budget + 1):
        trainer.step([0])
        if step % every == 0 or step == budget:
            dev_curve.append(100 * trainer.evaluate("dev")[name].chunk_f1)
            test_curve.append(100 * trainer.evaluate("test")[name].chunk_f1)
    wall = time.perf_counter() - start
    test = trainer.evaluate("test")[name]
    best = max(range(len(dev_curve)), key=dev_curve.__getitem__)
    return {
        "test_f1": 100 * test.chunk_f1,
        "test_acc": 100 * test.accuracy,
        "dev_f1": dev_curve[-1],
        "best_dev_f1": dev_curve[best],
        "test_f1_at_best_dev": test_curve[best],
        "wall_s": wall,
        "dev_curve": dev_curve,
        "test_curve": test_curve,
    }


def parse_option(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    return key, json.loads(value)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--tasks", default="chunk,ner")
    parser.add_argument("--setups", default="word,char")
    parser.add_argument("--budget", type=int, default=3000, help="task-minibatches per run")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--evaluations", type=int, default=6, help="periodic dev evaluations per run")
    parser.add_argument("--option", action="append", default=[], type=parse_option, metavar="KEY=VALUE")
    parser.add_argument(
        "--train-vocab-only",
        action="store_true",
        help="leave dev/test-only words unknown (VocabConfig.eval_words off): their spelling is lost",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows = []
    for task in args.tasks.split(","):
        vocab = VocabConfig(eval_words=not args.train_vocab_only)
        suite = load_suite(TASK_SUITES[task], args.data_dir, vocab=vocab).subset([task])
        for setup in args.setups.split(","):
            model = dataclasses.replace(SETUPS[setup], **dict(args.option))
            runs = [
                run_one(
                    suite,
                    model,
                    TrainerConfig(batch_size=args.batch_size, lr=args.lr, seed=seed),
                    args.budget,
                    args.evaluations,
                )
                for seed in range(args.seeds)
            ]
            row = {"task": task, "setup": setup, "model": model.to_dict(), "runs": runs}
            for key in runs[0]:
                if not key.endswith("_curve"):
                    row[key] = statistics.mean(run[key] for run in runs)
            rows.append(row)
            if not args.json:
                print(
                    f"{task:<6} {setup:<11} test F1 {row['test_f1']:5.1f}  dev F1 {row['dev_f1']:5.1f} "
                    f"(best {row['best_dev_f1']:5.1f}, test F1 there {row['test_f1_at_best_dev']:5.1f})  "
                    f"test acc {row['test_acc']:5.1f}  "
                    f"{row['wall_s']:6.0f} s/run",
                    flush=True,
                )
    settings = {
        "budget": args.budget,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "seeds": args.seeds,
        "eval_words": not args.train_vocab_only,
        "torch_threads": torch.get_num_threads(),
    }
    if args.json:
        print(json.dumps({"settings": settings, "rows": rows}, indent=2))
    else:
        print(", ".join(f"{k} {v}" for k, v in settings.items()) + "; F1 and accuracy in %, mean over seeds")


if __name__ == "__main__":
    main()
