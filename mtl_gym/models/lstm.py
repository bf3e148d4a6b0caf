"""The FS-MTL model of the QLS paper (§3, §4.4): fully shared LSTM, task-specific softmax layers."""

from __future__ import annotations

import torch
from torch import nn

from .heads import LinearHeadsMTL, SequenceFeatures


class LSTMEncoderMTL(LinearHeadsMTL):
    """300-d embeddings, one LSTM layer whose last hidden state h_T is the shared feature (eq. 1),
    Xavier initialisation, and a linear+softmax head per task (per token for tagging).

    ``hidden_dim`` defaults to 100, the FS-MTL setting of Liu et al. 2017 that the QLS paper builds
    on; the QLS paper does not state it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lstm = nn.LSTM(self.embedding.embedding_dim, self.hidden_dim, num_layers=1, batch_first=True)
        for name, weight in self.lstm.named_parameters():
            if name.startswith("weight"):
                nn.init.xavier_uniform_(weight)
            else:
                nn.init.zeros_(weight)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> SequenceFeatures:
        # The padded batch runs through the LSTM unpacked and h_T is read at each example's last
        # real position: right padding cannot reach earlier states of a forward LSTM, and on the
        # CPU the packed-sequence backward re-zeroes the whole input at every time step (3x slower).
        outputs, _ = self.lstm(self.dropout(self.embedding(tokens)))
        last = outputs[torch.arange(tokens.shape[0], device=tokens.device), lengths - 1]
        per_token = self.dropout(outputs) if self.tags_tokens else None
        return SequenceFeatures(per_token, self.dropout(last))
