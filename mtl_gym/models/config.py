"""Shipped models by name, and the one config that builds them for a suite."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import nn

from ..data import IGNORE_INDEX, Task, TaskSuite, load_word_vectors
from ..spec import Settings
from .bilstm import BiLSTMTaggerMTL
from .cnn import ConvEncoderMTL
from .heads import task_specs
from .hf import HFEncoderMTL, check_hf_options, require_transformers
from .lstm import LSTMEncoderMTL

MODELS: dict[str, type[nn.Module]] = {
    "lstm": LSTMEncoderMTL,
    "cnn": ConvEncoderMTL,
    "bilstm": BiLSTMTaggerMTL,
    "hf": HFEncoderMTL,
}
MODEL_OPTIONS: dict[str, tuple[str, ...]] = {
    "bilstm": ("char_dim", "char_filters", "word_dropout", "lowercase_words", "logit_adjustment"),
    "hf": ("config", "pretrained"),
}
"""The ModelConfig fields that only some models read; setting one for another model is an error."""


@dataclass(frozen=True)
class ModelConfig(Settings):
    """A model factory: calling it with a suite returns a fresh model for that suite."""

    name: str = "lstm"
    """Shipped model: ``lstm`` (the paper's FS-MTL LSTM), ``cnn`` (fast, for quick runs) or
    ``bilstm`` (a BiLSTM tagger, for NER and chunking); ``hf``, a Hugging Face ``transformers``
    encoder (needs the ``hf`` extra; give ``config`` or ``pretrained``)."""
    embedding_dim: int = 300
    """Word embedding size (the paper uses 300-d GloVe)."""
    hidden_dim: int = 100
    """Size of the shared feature."""
    dropout: float = 0.0
    """Dropout on embeddings and shared features."""
    vectors: str | None = None
    """GloVe/word2vec text file to initialise the embeddings from; words it lacks get a random init."""
    char_dim: int = 0
    """``bilstm`` only: character embedding size of the per-word character CNN; 0 leaves it out."""
    char_filters: int = 30
    """``bilstm`` only: character-CNN filters, the size of the spelling feature of a word."""
    word_dropout: float = 0.0
    """``bilstm`` only: probability of replacing a training token by the unknown word."""
    lowercase_words: bool = False
    """``bilstm`` only: words that differ only in case share one word embedding ("Apple" reads
    "apple"'s); unlike ``VocabConfig.lowercase``, ids keep their case, so the character features
    and the casing class still see it."""
    logit_adjustment: float = 0.0
    """``bilstm`` only: at evaluation, subtract this times the log of each label's training
    frequency from the logits (post-hoc logit adjustment, Menon et al. 2021), so that rare labels
    such as WNUT-17's entity tags win the per-token argmax more often; 0 leaves the logits as
    trained. Training is unchanged; the evaluation loss is that of the adjusted logits."""
    config: dict | None = None
    """``hf`` only: a transformers config as a dict with a ``model_type``, e.g. ``{"model_type":
    "bert", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
    "intermediate_size": 128}``; the encoder starts from a random init, and its ``vocab_size`` and
    ``pad_token_id`` are the suite's."""
    pretrained: str | None = None
    """``hf`` only: a local folder written by ``save_pretrained``, loaded without network access.
    The encoder reads the suite's own word ids, so it must have this suite's vocabulary size."""

    def __post_init__(self):
        if self.name not in MODELS:
            raise ValueError(f"unknown model {self.name!r}; known models: {sorted(MODELS)}")
        reads = MODEL_OPTIONS.get(self.name, ())
        for option in {name for names in MODEL_OPTIONS.values() for name in names} - set(reads):
            if getattr(self, option) != _default(self, option):
                raise ValueError(f"model {self.name!r} has no option {option!r}")
        if self.name == "hf":
            require_transformers()
            check_hf_options(self.config, self.pretrained)
            if self.vectors is not None or self.embedding_dim != _default(self, "embedding_dim"):
                raise ValueError(
                    'model "hf" has no option embedding_dim or vectors: the transformers encoder has its own'
                )

    def __call__(self, suite: TaskSuite) -> nn.Module:
        if self.name == "hf":
            return HFEncoderMTL(
                len(suite.vocab),
                task_specs(suite),
                hidden_dim=self.hidden_dim,
                dropout=self.dropout,
                config=self.config,
                pretrained=self.pretrained,
                max_len=max(
                    split.tokens.shape[1] for task in suite for split in (task.train, task.dev, task.test)
                ),
            )
        vectors = None
        if self.vectors:
            vectors, _ = load_word_vectors(self.vectors, suite.vocab)
            if vectors.shape[1] != self.embedding_dim:
                raise ValueError(
                    f"{self.vectors} holds {vectors.shape[1]}-d vectors but embedding_dim is {self.embedding_dim}"
                )
        options = {name: getattr(self, name) for name in MODEL_OPTIONS.get(self.name, ())}
        if options.get("char_dim") or options.get("lowercase_words"):
            options["words"] = suite.vocab.words()
        if options.get("logit_adjustment"):
            options["label_counts"] = [label_counts(task) for task in suite]
        return MODELS[self.name](
            len(suite.vocab),
            task_specs(suite),
            embedding_dim=self.embedding_dim,
            hidden_dim=self.hidden_dim,
            dropout=self.dropout,
            vectors=vectors,
            **options,
        )


def _default(config: ModelConfig, name: str):
    return next(f.default for f in fields(config) if f.name == name)


def label_counts(task: Task) -> torch.Tensor:
    """``[num_labels]`` occurrences of each label in ``task``'s training split (per token for tagging)."""
    labels = task.train.labels
    return torch.bincount(labels[labels.ne(IGNORE_INDEX)], minlength=task.num_labels)
