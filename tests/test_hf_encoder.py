"""Hugging Face encoders (``--model hf``, the ``hf`` extra): a tiny randomly initialised BERT over
the suite's own locally built vocabulary follows the model protocol, trains under ``run`` (API and
CLI), reloads from a local ``save_pretrained`` folder without network access, and bad options
fail with one clear line. Nothing here downloads."""

from __future__ import annotations

import json
import socket
import sys

import pytest
import torch

pytest.importorskip("transformers")

from mtl_gym.cli import main  # noqa: E402
from mtl_gym.data import TaskKind, load_suite  # noqa: E402
from mtl_gym.methods import run_method  # noqa: E402
from mtl_gym.models import HFEncoderMTL, ModelConfig, check_model  # noqa: E402
from mtl_gym.models.hf import INSTALL_HINT, MissingExtraError  # noqa: E402

TINY = {
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
}


@pytest.fixture(scope="module")
def synthetic():
    return load_suite("synthetic")


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection fails, so a test passes only if nothing is fetched."""

    def refuse(*args, **kwargs):
        raise AssertionError("the hf model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def tiny(**fields) -> ModelConfig:
    return ModelConfig.of({"name": "hf", "config": TINY, "hidden_dim": 16, **fields})


def test_classification_features_follow_the_protocol(synthetic, no_network):
    model = tiny()(synthetic)
    check_model(model, len(synthetic))
    assert isinstance(model, HFEncoderMTL)
    assert model.encoder.config.vocab_size == len(synthetic.vocab) and model.encoder.config.pad_token_id == 0
    batch = synthetic[0].train.batch(torch.arange(5))
    features = model.encode(batch.tokens, batch.lengths)
    assert features.tokens is None and features.pooled.shape == (5, 16)
    assert model.head(0, features).shape == (5, synthetic[0].num_labels)


def test_pooling_is_the_mean_over_real_tokens(synthetic):
    model = tiny(hidden_dim=32)(synthetic).eval()
    assert isinstance(model.project, torch.nn.Identity)  # widths agree: no projection
    tokens = torch.tensor([[5, 6, 7, 0, 0]])
    with torch.no_grad():
        pooled = model.encode(tokens, torch.tensor([3])).pooled
        states = model.encoder(input_ids=tokens, attention_mask=tokens.ne(0).long()).last_hidden_state
    torch.testing.assert_close(pooled, states[:, :3].mean(1))


def test_tagging_gets_per_token_features(tagging_suite):
    suite = tagging_suite(4)
    model = tiny()(suite)
    batch = suite[0].train.batch(torch.arange(3))
    features = model.encode(batch.tokens, batch.lengths)
    width = batch.tokens.shape[1]
    assert suite[0].kind is TaskKind.TAGGING and features.tokens.shape == (3, width, 16)
    assert model.head(0, features).shape == (3, width, suite[0].num_labels)


def test_run_trains_end_to_end(synthetic, no_network):
    built, trained = [], []

    def factory(suite):
        model = tiny()(suite)
        built.append({name: value.clone() for name, value in model.state_dict().items()})
        return model

    result = run_method(
        "uniform",
        synthetic,
        budget=10,
        seed=0,
        model=factory,
        after_training=lambda trainer: trained.append(trainer.model.state_dict()),
    )
    assert sum(result.action_counts.values()) == 10 and 0.0 <= result.avg_test_acc <= 1.0
    changed = [name for name, value in trained[0].items() if not torch.equal(value, built[0][name])]
    assert any(name.startswith("encoder.embeddings.word_embeddings") for name in changed)
    assert any(name.startswith("encoder.encoder.layer.0") for name in changed)
    assert any(name.startswith("heads.") for name in changed)


def test_cli_run_with_a_config_option(capsys, no_network):
    main(
        [
            "run",
            "--method",
            "uniform",
            "--budget",
            "10",
            "--model",
            "hf",
            "--model-option",
            f"config={json.dumps(TINY)}",
            "--model-option",
            "hidden_dim=16",
            "--option",
            "dev_size=20",
            "--option",
            "test_size=20",
            "--json",
            "--threads",
            "1",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert result["method"] == "uniform" and sum(result["action_counts"].values()) == 10


def test_pretrained_loads_a_local_folder_without_network(synthetic, tmp_path, no_network):
    saved = tiny()(synthetic)
    saved.encoder.save_pretrained(tmp_path / "encoder")
    loaded = ModelConfig.of({"name": "hf", "pretrained": str(tmp_path / "encoder"), "hidden_dim": 16})(
        synthetic
    )
    for name, value in saved.encoder.state_dict().items():
        assert torch.equal(loaded.encoder.state_dict()[name], value), name


def test_pretrained_with_another_vocabulary_is_refused(synthetic, tagging_suite, tmp_path):
    other = tiny()(tagging_suite(1))
    other.encoder.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=rf"has {len(tagging_suite(1).vocab)} token ids but the suite's"):
        ModelConfig.of({"name": "hf", "pretrained": str(tmp_path)})(synthetic)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of config"),
        ({"config": TINY, "pretrained": "/x"}, "not both"),
        ({"config": {"hidden_size": 32}}, "needs a model_type"),
        ({"config": "bert"}, "config must be a dict"),
        ({"config": TINY, "embedding_dim": 64}, "no option embedding_dim or vectors"),
    ],
)
def test_bad_option_combinations_fail_clearly(fields, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig.of({"name": "hf", **fields})


def test_hf_options_belong_to_hf_only():
    with pytest.raises(ValueError, match="model 'cnn' has no option 'config'"):
        ModelConfig.of({"name": "cnn", "config": TINY})


def test_options_checked_when_the_model_is_built(synthetic):
    with pytest.raises(ValueError, match="knows no model_type 'bret'; did you mean 'bert'"):
        tiny(config={**TINY, "model_type": "bret"})(synthetic)
    with pytest.raises(ValueError, match="config sets vocab_size=7 but the suite's is"):
        tiny(config={**TINY, "vocab_size": 7})(synthetic)
    with pytest.raises(ValueError, match="is not a local folder"):
        ModelConfig.of({"name": "hf", "pretrained": "bert-base-uncased"})(synthetic)
    with pytest.raises(ValueError, match="max_position_embeddings is 8"):
        tiny(config={**TINY, "max_position_embeddings": 8})(synthetic)


def test_missing_transformers_is_one_line_naming_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers now fails
    with pytest.raises(MissingExtraError, match="pip install"):
        tiny()
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", "uniform", "--budget", "1", "--model", "hf", "--model-option", "config={}"])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and err == f"mtl-gym: error: {INSTALL_HINT}"


def test_cli_bad_combination_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", "uniform", "--budget", "1", "--model", "hf"])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1 and "exactly one of config" in err
