"""Smoke tests on the real data in ../shared/data (CI has it there)."""

from __future__ import annotations

import pytest

from mtl_gym.data import load_suite
from mtl_gym.methods.run import run_method
from mtl_gym.models import ModelConfig
from mtl_gym.training import Trainer, TrainerConfig, seed_everything

# Loading and training on the real data sets: seconds each.
pytestmark = pytest.mark.slow


def test_fsmtl16_counts_match_its_data_source(data_dir):
    suite = load_suite("fsmtl", data_dir, domains=("video", "camera_photo", "software", "baby"))
    summary = {t["name"]: t for t in suite.summary()["tasks"]}
    # The figures DATA_SOURCE.md gives for duplicates and train/test overlap.
    assert summary["video"]["train_duplicates"] == 279 and summary["video"]["train_test_overlap"] == 66
    assert (
        summary["camera_photo"]["train_duplicates"] == 174
        and summary["camera_photo"]["train_test_overlap"] == 64
    )
    assert summary["software"]["train_duplicates"] == 152 and summary["software"]["train_test_overlap"] == 61
    assert (summary["baby"]["train"], summary["baby"]["dev"], summary["baby"]["test"]) == (1300, 200, 400)


def test_fsmtl16_two_domains_learn_above_chance(data_dir):
    suite = load_suite("fsmtl", data_dir / "fsmtl16", domains=("books", "kitchen_housewares"), max_len=64)
    seed_everything(0)
    model = ModelConfig(name="cnn", embedding_dim=64, hidden_dim=64)(suite)
    trainer = Trainer(model, suite, TrainerConfig(lr=2e-3, batch_size=32))
    for step in range(160):
        trainer.step([step % 2])
    test = trainer.evaluate("test")
    assert min(m.accuracy for m in test.values()) > 0.6, test


def test_all_twelve_domains_and_the_dvd_cp1252_line(data_dir):
    suite = load_suite("fsmtl", data_dir)
    assert len(suite) == 12 and len(suite.vocab) == 30_000
    assert suite["dvd"].counts["cp1252_lines"] == 1
    assert all(len(t.test) == 400 and len(t.dev) == 200 for t in suite)


def test_conll2000_and_wnut17(data_dir):
    conll = load_suite("conll2000", data_dir)
    pos, chunk = conll["pos"], conll["chunk"]
    assert len(pos.train) + len(pos.dev) == 8936 and len(pos.test) == 2012
    assert int(pos.test.lengths.sum()) == 47377
    assert chunk.counts["labels_only_in_eval"] == 1  # I-LST occurs in test only
    assert len(conll.names) == 2
    ukp = load_suite("conll2000", data_dir, dev_file="dev_ukp_unofficial.txt")
    assert len(ukp["pos"].dev) == 1844 and len(ukp["pos"].train) == 8936
    wnut = load_suite("wnut17", data_dir)
    ner = wnut["ner"]
    assert (len(ner.train), len(ner.test)) == (3394, 1287)
    assert ner.num_labels == 13 and ner.counts["bom_removed"] == 2


def test_heterogeneous_tagging_suite(data_dir):
    suite = load_suite("conll2000+wnut17", data_dir)
    assert suite.names == ["pos", "chunk", "ner"]
    assert len(suite["ner"].test) == 1287 and len(suite["pos"].test) == 2012
    assert suite.vocab.token_to_id("Empire") > 1  # a WNUT-17 train word in the shared vocabulary


def test_runs_on_chunking_report_chunk_f1(data_dir):
    suite = load_suite("conll2000", data_dir).subset(["chunk"])
    model = ModelConfig(name="cnn", embedding_dim=16, hidden_dim=16)
    result = run_method("uniform", suite, 40, 0, model=model, evaluations=1)
    chunk = result.tasks["chunk"]
    assert 0 < chunk["test_f1"] < 1 and 0 <= chunk["dev_f1"] < 1
    assert chunk["test_f1"] != chunk["test_acc"]


def test_fsmtl16_dev_and_test_lines_found_in_train(data_dir):
    # Counted independently from the files: of video's 200 dev lines (the end of train) 51 also
    # occur in the rest of train, and 97 of its 400 test lines do.
    video = load_suite("fsmtl", data_dir, domains=("video",)).summary()["tasks"][0]
    assert (video["dev_in_train"], video["test_in_train"]) == (51, 97)
    assert video["dev_held_out"] == 200 and not video["dev_size_warning"] and video["skipped_lines"] == 0
    deduped = load_suite("fsmtl", data_dir, domains=("video",), dedupe_dev=True)["video"]
    assert deduped.counts["dev_in_train"] == 0 and len(deduped.train) == 1400 - 125
    assert deduped.counts["dropped_dev_overlap"] == 125
