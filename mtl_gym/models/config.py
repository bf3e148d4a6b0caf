"""Shipped models by name, and the one config that builds them for a suite."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..data import TaskSuite, load_word_vectors
from ..spec import Settings
from .cnn import ConvEncoderMTL
from .heads import task_specs
from .lstm import LSTMEncoderMTL

MODELS: dict[str, type[nn.Module]] = {"lstm": LSTMEncoderMTL, "cnn": ConvEncoderMTL}


@dataclass(frozen=True)
class ModelConfig(Settings):
    """A model factory: calling it with a suite returns a fresh model for that suite."""

    name: str = "lstm"
    """Shipped model: ``lstm`` (the paper's FS-MTL LSTM) or ``cnn`` (fast, for quick runs)."""
    embedding_dim: int = 300
    """Word embedding size (the paper uses 300-d GloVe)."""
    hidden_dim: int = 100
    """Size of the shared feature."""
    dropout: float = 0.0
    """Dropout on embeddings and shared features."""
    vectors: str | None = None
    """GloVe/word2vec text file to initialise the embeddings from; words it lacks get a random init."""

    def __post_init__(self):
        if self.name not in MODELS:
            raise ValueError(f"unknown model {self.name!r}; known models: {sorted(MODELS)}")

    def __call__(self, suite: TaskSuite) -> nn.Module:
        vectors = None
        if self.vectors:
            vectors, _ = load_word_vectors(self.vectors, suite.vocab)
            if vectors.shape[1] != self.embedding_dim:
                raise ValueError(
                    f"{self.vectors} holds {vectors.shape[1]}-d vectors but embedding_dim is {self.embedding_dim}"
                )
        return MODELS[self.name](
            len(suite.vocab),
            task_specs(suite),
            embedding_dim=self.embedding_dim,
            hidden_dim=self.hidden_dim,
            dropout=self.dropout,
            vectors=vectors,
        )
