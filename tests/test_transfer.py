"""Leave-one-out transfer (QLS paper Table 3): a new head on a frozen encoder, scored by k-fold CV."""

from __future__ import annotations

import pytest
import torch

from mtl_gym.methods.run import run_method
from mtl_gym.models import ModelConfig
from mtl_gym.training import TransferConfig, cross_validate_head

MODEL = ModelConfig(name="cnn", embedding_dim=32, hidden_dim=32)


@pytest.fixture(scope="module")
def encoder(small_suite):
    """An encoder trained on alpha and beta only; gamma is held out."""
    kept = []
    run_method(
        "uniform",
        small_suite.subset(["alpha", "beta"]),
        300,
        0,
        model=MODEL,
        after_training=lambda trainer: kept.append(trainer.model),
    )
    return kept[0]


def test_subset_keeps_the_vocabulary_and_order(small_suite):
    subset = small_suite.subset(["gamma", "alpha"])
    assert subset.names == ["gamma", "alpha"] and subset.vocab is small_suite.vocab
    assert subset["gamma"] is small_suite["gamma"]
    with pytest.raises(KeyError, match="no task 'delta'"):
        small_suite.subset(["delta"])
    with pytest.raises(ValueError, match="at least one task"):
        small_suite.subset([])


def test_a_trained_encoder_transfers_better_than_an_untrained_one(small_suite, encoder):
    target = small_suite.subset(["gamma"])
    trained = cross_validate_head(encoder, MODEL, target)
    torch.manual_seed(0)
    untrained = cross_validate_head(MODEL(small_suite.subset(["alpha", "beta"])), MODEL, target)
    gamma = small_suite["gamma"]
    assert trained.examples == len(gamma.train) + len(gamma.dev) + len(gamma.test)
    assert len(trained.fold_accuracies) == 5
    assert trained.accuracy > untrained.accuracy + 0.1, (trained, untrained)


def test_the_encoder_stays_frozen_and_results_repeat(small_suite, encoder):
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    target = small_suite.subset(["gamma"])
    config = TransferConfig(folds=3, epochs=5, seed=4)
    first = cross_validate_head(encoder, MODEL, target, config)
    assert first == cross_validate_head(encoder, MODEL, target, config)
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    assert first != cross_validate_head(encoder, MODEL, target, TransferConfig(folds=3, epochs=5, seed=5))


def test_transfer_rejects_tagging_and_a_mismatched_encoder(small_suite, encoder, tagging_suite):
    with pytest.raises(ValueError, match="one classification task"):
        cross_validate_head(encoder, MODEL, tagging_suite(2))
    with pytest.raises(ValueError, match="one classification task"):
        cross_validate_head(encoder, MODEL, small_suite)
    wider = ModelConfig(name="cnn", embedding_dim=32, hidden_dim=48)
    with pytest.raises(RuntimeError, match="size mismatch"):
        cross_validate_head(encoder, wider, small_suite.subset(["gamma"]))
    with pytest.raises(ValueError, match="folds >= 2"):
        TransferConfig(folds=1)
