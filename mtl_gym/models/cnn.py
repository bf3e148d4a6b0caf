"""A fast small encoder for quick runs and tests: embeddings, one convolution, masked max-pooling."""

from __future__ import annotations

import torch
from torch import nn

from .heads import LinearHeadsMTL, SequenceFeatures


class ConvEncoderMTL(LinearHeadsMTL):
    """Kim-style CNN: a width-3 convolution over embeddings gives per-token features (so it tags
    too); their max over real positions is the example feature. No recurrence, so it is several
    times faster than the LSTM at the same sizes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conv = nn.Conv1d(self.embedding.embedding_dim, self.hidden_dim, kernel_size=3, padding=1)
        nn.init.xavier_uniform_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> SequenceFeatures:
        embedded = self.dropout(self.embedding(tokens))
        states = torch.relu(self.conv(embedded.transpose(1, 2))).transpose(1, 2)
        padding = tokens.eq(0).unsqueeze(-1)
        pooled = states.masked_fill(padding, float("-inf")).amax(dim=1)
        per_token = self.dropout(states) if self.tags_tokens else None
        return SequenceFeatures(per_token, self.dropout(pooled))
