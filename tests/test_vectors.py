"""Pretrained word vectors in GloVe / word2vec text format, written by the test."""

from __future__ import annotations

import pytest
import torch

from mtl_gym.data import DataError, load_word_vectors
from mtl_gym.models import ModelConfig
from mtl_gym.training import Trainer, TrainerConfig


def test_glove_file_fills_known_rows(tmp_path, small_suite):
    vocab = small_suite.vocab
    known = [vocab.id_to_token(i) for i in (2, 3)]
    path = tmp_path / "glove.txt"
    path.write_text(f"{known[0]} 0.5 -1 2 0\nunrelated 9 9 9 9\n{known[1]} 1 1 1 1\n", encoding="utf-8")
    matrix, found = load_word_vectors(path, vocab, seed=0)
    assert found == 2 and matrix.shape == (len(vocab), 4)
    assert matrix[2].tolist() == [0.5, -1.0, 2.0, 0.0] and matrix[3].tolist() == [1.0] * 4
    assert torch.all(matrix[0] == 0)
    assert matrix[4:].abs().max() <= 0.25 and matrix[4:].abs().sum() > 0
    again, _ = load_word_vectors(path, vocab, seed=0)
    assert torch.equal(matrix, again)


def test_word2vec_header_and_frozen_embedding(tmp_path, small_suite):
    word = small_suite.vocab.id_to_token(5)
    path = tmp_path / "w2v.txt"
    path.write_text(f"1 3\n{word} 0.1 0.2 0.3\n", encoding="utf-8")
    config = ModelConfig(name="cnn", embedding_dim=3, hidden_dim=8, vectors=str(path))
    model = config(small_suite)
    assert torch.allclose(model.embedding.weight[5], torch.tensor([0.1, 0.2, 0.3]))
    trainer = Trainer(model, small_suite, TrainerConfig(embedding_update="frozen"))
    trainer.step([0])
    assert torch.allclose(model.embedding.weight[5], torch.tensor([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="holds 3-d vectors but embedding_dim is 300"):
        ModelConfig(vectors=str(path))(small_suite)


def test_bad_vector_lines(tmp_path, small_suite):
    path = tmp_path / "bad.txt"
    path.write_text("a 1 2 3\nb 1 2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt:2: expected a word and 3 numbers"):
        load_word_vectors(path, small_suite.vocab)
    path.write_text("a 1 2 x\n", encoding="utf-8")
    word = small_suite.vocab.id_to_token(2)
    path.write_text(f"{word} 1 2 x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt:1: non-numeric vector value"):
        load_word_vectors(path, small_suite.vocab)
