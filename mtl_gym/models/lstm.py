"""The FS-MTL model of the QLS paper (§3, §4.4): fully shared LSTM, task-specific softmax layers."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .heads import LinearHeadsMTL, SequenceFeatures, TaskSpec


class LSTMEncoderMTL(LinearHeadsMTL):
    """300-d embeddings, one LSTM layer whose last hidden state h_T is the shared feature (eq. 1),
    Xavier initialisation, and a linear+softmax head per task (per token for tagging).

    ``hidden_dim`` defaults to 100, the FS-MTL setting of Liu et al. 2017 that the QLS paper builds
    on; the QLS paper does not state it.
    """

    def __init__(
        self,
        vocab_size: int,
        tasks: Sequence[TaskSpec],
        embedding_dim: int = 300,
        hidden_dim: int = 100,
        **kwargs,
    ):
        super().__init__(vocab_size, tasks, embedding_dim, hidden_dim, **kwargs)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, num_layers=1, batch_first=True)
        for name, weight in self.lstm.named_parameters():
            if name.startswith("weight"):
                nn.init.xavier_uniform_(weight)
            else:
                nn.init.zeros_(weight)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> SequenceFeatures:
        embedded = self.dropout(self.embedding(tokens))
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, (hidden, _) = self.lstm(packed)
        per_token = None
        if self.tags_tokens:
            per_token, _ = pad_packed_sequence(outputs, batch_first=True, total_length=tokens.shape[1])
            per_token = self.dropout(per_token)
        return SequenceFeatures(per_token, self.dropout(hidden[-1]))
