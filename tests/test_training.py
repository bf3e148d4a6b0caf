"""The trainer, the shipped models, the model protocol, snapshots and evaluation."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from mtl_gym.models import ModelConfig, shared_parameters
from mtl_gym.training import (
    EpochSampler,
    NonFiniteLossError,
    Trainer,
    TrainerConfig,
    chunk_f1,
    chunks,
    seed_everything,
)


def make_trainer(suite, model="cnn", seed=0, **config):
    seed_everything(seed)
    net = ModelConfig(name=model, embedding_dim=32, hidden_dim=24)(suite)
    return Trainer(net, suite, TrainerConfig(seed=seed, **config))


def weights(trainer):
    return torch.cat([p.detach().flatten() for p in trainer.model.parameters()])


@pytest.mark.parametrize("model", ["cnn", "lstm"])
def test_same_seed_same_weights(small_suite, model):
    runs = []
    for _ in range(2):
        trainer = make_trainer(small_suite, model)
        for step in range(12):
            trainer.step([step % 3])
        runs.append(weights(trainer))
    assert torch.equal(runs[0], runs[1])
    other = make_trainer(small_suite, model, seed=1)
    for step in range(12):
        other.step([step % 3])
    assert not torch.equal(runs[0], weights(other))


def test_training_improves_dev_accuracy(small_suite):
    trainer = make_trainer(small_suite, lr=3e-3)
    before = trainer.evaluate("dev")["alpha"].accuracy
    for step in range(300):
        trainer.step([step % 3])
    after = trainer.evaluate("dev")
    assert after["alpha"].accuracy > max(before + 0.2, 0.75)
    assert trainer.budget.per_task == [100, 100, 100] and trainer.budget.total == 300


def test_joint_step_costs_k_and_weights_scale_gradients(small_suite):
    trainer = make_trainer(small_suite)
    result = trainer.step([0, 1, 2], weights=[1.0, 0.5, 0.0])
    assert trainer.budget.total == 3 and len(result.losses) == 3
    head_before = trainer.model.heads[2].weight.detach().clone()
    trainer.step([2], weights=[0.0])
    # A zero-weighted task leaves its own head untouched (Adam with zero gradients and zero moments).
    assert torch.equal(head_before, trainer.model.heads[2].weight)
    with pytest.raises(ValueError, match="2 weights for 1 tasks"):
        trainer.step([0], weights=[1.0, 1.0])


def test_out_of_range_task_raises(small_suite):
    trainer = make_trainer(small_suite)
    with pytest.raises(IndexError, match="task index 3 is out of range for 3 tasks"):
        trainer.step([3])


def test_nan_loss_raises_before_any_update(small_suite):
    trainer = make_trainer(small_suite)
    before = weights(trainer)
    with torch.no_grad():
        trainer.model.heads[1].weight.fill_(float("nan"))
    poisoned = weights(trainer)
    with pytest.raises(NonFiniteLossError, match="task 'beta' produced a non-finite training loss"):
        trainer.step([0, 1])
    assert torch.equal(weights(trainer).nan_to_num(7.0), poisoned.nan_to_num(7.0))
    assert trainer.budget.total == 0 and not torch.equal(before.nan_to_num(7.0), poisoned.nan_to_num(7.0))


def test_snapshot_restore_round_trip(small_suite):
    trainer = make_trainer(small_suite)
    for step in range(5):
        trainer.step([step % 3])
    snap = trainer.snapshot()
    saved, saved_dev = weights(trainer), trainer.evaluate("dev")
    continued = make_trainer(small_suite)
    for step in range(5):
        continued.step([step % 3])
    for _ in range(20):
        trainer.step([0])
    assert not torch.equal(saved, weights(trainer))
    trainer.restore(snap)
    assert torch.equal(saved, weights(trainer))
    assert trainer.evaluate("dev") == saved_dev
    # The optimizer state came back too: the next update equals that of a run that never diverged.
    trainer.samplers[1] = copy.deepcopy(continued.samplers[1])
    trainer.step([1])
    continued.step([1])
    assert torch.equal(weights(trainer), weights(continued))


@pytest.mark.parametrize("mode", ["sparse", "dense", "frozen"])
def test_embedding_update_modes(small_suite, mode):
    trainer = make_trainer(small_suite, embedding_update=mode)
    embedding = trainer.model.embedding.weight.detach().clone()
    trainer.step([0])
    changed = not torch.equal(embedding, trainer.model.embedding.weight)
    assert changed == (mode != "frozen")
    assert trainer.model.embedding.sparse == (mode == "sparse")


def test_sparse_embedding_touches_only_batch_rows(small_suite):
    trainer = make_trainer(small_suite, embedding_update="sparse")
    before = trainer.model.embedding.weight.detach().clone()
    batch_sampler_state = EpochSampler(len(small_suite[0].train), 16, seed=[0, 0])
    rows = torch.unique(small_suite[0].train.tokens[batch_sampler_state.next_index()])
    trainer.step([0])
    changed = (trainer.model.embedding.weight != before).any(dim=1).nonzero().flatten()
    assert set(changed.tolist()) <= set(rows.tolist()) - {0}
    assert len(changed) > 0


def test_epoch_sampler_covers_each_example_once_per_epoch():
    sampler = EpochSampler(10, 4, seed=3)
    first_epoch = torch.cat([sampler.next_index() for _ in range(3)])
    assert sorted(first_epoch.tolist()) == list(range(10))
    assert sampler.epoch == 0
    sampler.next_index()
    assert sampler.epoch == 1


class TinyUserModel(nn.Module):
    """A user model in a few lines, as the README shows: mean of embeddings, one head per task."""

    def __init__(self, suite):
        super().__init__()
        self.embedding = nn.Embedding(len(suite.vocab), 16, padding_idx=0)
        self.heads = nn.ModuleList(nn.Linear(16, task.num_labels) for task in suite)

    def encode(self, tokens, lengths):
        return self.embedding(tokens).sum(1) / lengths.unsqueeze(1)

    def head(self, task_index, features):
        return self.heads[task_index](features)


def test_custom_model_plugs_in(small_suite):
    seed_everything(0)
    trainer = Trainer(TinyUserModel(small_suite), small_suite, TrainerConfig(embedding_update="dense"))
    for step in range(60):
        trainer.step([step % 3])
    metrics = trainer.evaluate("test")
    assert set(metrics) == {"alpha", "beta", "gamma"}
    assert all(0.0 <= m.accuracy <= 1.0 and math.isfinite(m.loss) for m in metrics.values())
    assert len(shared_parameters(trainer.model)) == 1


def test_protocol_violation_is_explained(small_suite):
    with pytest.raises(TypeError, match=r"lacks \['encode', 'head', 'heads'\]"):
        Trainer(nn.Linear(2, 2), small_suite)


def test_evaluation_matches_a_manual_pass(small_suite):
    trainer = make_trainer(small_suite)
    for step in range(30):
        trainer.step([step % 3])
    metrics = trainer.evaluate("test", tasks=[1])["beta"]
    test = small_suite[1].test
    trainer.model.eval()
    with torch.no_grad():
        logits = trainer.model.head(1, trainer.model.encode(test.tokens, test.lengths))
    assert metrics.accuracy == pytest.approx((logits.argmax(1) == test.labels).float().mean().item())
    expected_loss = nn.functional.cross_entropy(logits, test.labels).item()
    assert metrics.loss == pytest.approx(expected_loss, rel=1e-5)


def test_chunk_extraction_and_f1():
    assert chunks(["B-NP", "I-NP", "O", "B-VP", "I-NP", "I-NP"]) == {(0, 2, "NP"), (3, 4, "VP"), (4, 6, "NP")}
    assert chunks(["I-PER", "I-PER", "B-PER"]) == {(0, 2, "PER"), (2, 3, "PER")}
    gold = [["B-NP", "I-NP", "O", "B-VP"]]
    assert chunk_f1(gold, gold) == 1.0
    # one of two predicted chunks is right, one of two gold chunks found: P = R = F1 = 0.5
    assert chunk_f1(gold, [["B-NP", "I-NP", "O", "B-NP"]]) == 0.5
    assert chunk_f1(gold, [["O", "O", "O", "O"]]) == 0.0


def test_lstm_last_state_equals_packed_sequence_result(small_suite):
    from torch.nn.utils.rnn import pack_padded_sequence

    seed_everything(0)
    model = ModelConfig(name="lstm", embedding_dim=16, hidden_dim=8)(small_suite)
    split = small_suite[1].dev
    batch = split.batch(torch.arange(20))
    assert batch.lengths.min() < batch.tokens.shape[1]  # some rows are padded
    with torch.no_grad():
        pooled = model.encode(batch.tokens, batch.lengths).pooled
        packed = pack_padded_sequence(
            model.embedding(batch.tokens), batch.lengths, batch_first=True, enforce_sorted=False
        )
        _, (hidden, _) = model.lstm(packed)
    assert torch.allclose(pooled, hidden[-1], atol=1e-6)


def test_tagging_task_learns_its_tags(tagging_suite):
    suite = tagging_suite(10)
    trainer = make_trainer(suite, lr=1e-2)
    for _ in range(60):
        trainer.step([0])
    assert trainer.evaluate("test")["pos"].accuracy > 0.95
