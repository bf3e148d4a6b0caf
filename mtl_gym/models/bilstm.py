"""A BiLSTM sequence tagger, optionally with a character CNN per word (Lample et al. 2016; Ma & Hovy 2016).

The small ``cnn`` and the FS-MTL ``lstm`` read each token only through its left context (or a
3-word window), which is enough for POS but leaves NER at a few F1 points. This model follows
the neural taggers of Lample et al. 2016 ("Neural Architectures for Named Entity Recognition")
and Ma & Hovy 2016 ("End-to-end Sequence Labeling via Bi-directional LSTM-CNNs-CRF"): word
embeddings, optionally concatenated with a max-pooled character CNN over the word's spelling
(Ma & Hovy's choice; cheaper than Lample's character BiLSTM), a bidirectional LSTM, and a
linear softmax head per task on every token. The CRF layer of both papers is left out: the
trainer's loss is per-token cross-entropy and evaluation takes a per-token argmax.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..data import PAD_ID, UNK_ID
from .heads import LinearHeadsMTL, SequenceFeatures, TaskSpec


def char_table(words: Sequence[str], max_chars: int) -> tuple[torch.Tensor, int]:
    """Character ids ``[len(words), max_chars]`` of each vocabulary word (0 pads, 1 is a character
    no word has), and the size of the character inventory. Built once per model from the
    vocabulary's strings, so the data layer keeps handing out word ids only."""
    spelled = [word for row, word in enumerate(words) if row != PAD_ID]
    alphabet = {c: i for i, c in enumerate(sorted({c for word in spelled for c in word}), start=2)}
    table = torch.zeros(len(words), max_chars, dtype=torch.long)
    for row, word in enumerate(words):
        if row == PAD_ID:
            continue
        ids = [alphabet[c] for c in word[:max_chars]]
        table[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return table, len(alphabet) + 2


CASINGS = ("other", "numeric", "mainly_numeric", "all_lower", "all_upper", "initial_upper", "contains_digit")
"""Reimers & Gurevych 2017's casing classes of a word."""


def casing(word: str) -> int:
    """Index in ``CASINGS`` of ``word``'s casing class."""
    digits = sum(c.isdigit() for c in word)
    if word.isdigit():
        return CASINGS.index("numeric")
    if digits / max(len(word), 1) > 0.5:
        return CASINGS.index("mainly_numeric")
    if word.islower():
        return CASINGS.index("all_lower")
    if word.isupper():
        return CASINGS.index("all_upper")
    if word[:1].isupper():
        return CASINGS.index("initial_upper")
    return CASINGS.index("contains_digit" if digits else "other")


class CharCNN(nn.Module):
    """Ma & Hovy 2016 §2.1: character embeddings, one convolution, max over the word's characters;
    followed by a one-hot of the word's casing class (Reimers & Gurevych 2017), which the
    convolution would otherwise have to learn from few examples within a short budget."""

    def __init__(
        self, words: Sequence[str], char_dim: int, filters: int, width: int = 3, max_chars: int = 20
    ):
        super().__init__()
        table, alphabet_size = char_table(words, max_chars)
        # Derived from the vocabulary, so it stays out of the state dict (and out of snapshots).
        self.register_buffer("table", table, persistent=False)
        # A plain parameter rather than an nn.Embedding: the trainer applies its embedding policy
        # (sparse, frozen) to every nn.Embedding, and freezing pretrained word vectors must not
        # freeze the character embeddings that nothing pretrained.
        self.weight = nn.Parameter(torch.empty(alphabet_size, char_dim))
        nn.init.uniform_(self.weight, -((3 / char_dim) ** 0.5), (3 / char_dim) ** 0.5)  # Ma & Hovy's init
        self.conv = nn.Conv1d(char_dim, filters, kernel_size=width, padding=width // 2)
        cases = [casing(word) for word in words]
        self.register_buffer("casing", F.one_hot(torch.tensor(cases), len(CASINGS)).float(), persistent=False)
        self.size = filters + len(CASINGS)
        """Features per word."""

    def forward(self, tokens: torch.Tensor, dropout: nn.Module) -> torch.Tensor:
        """``[B, T, size]`` spelling features of the word ids ``tokens``."""
        # Each distinct word of the batch is spelled out once, however often it occurs.
        unique, inverse = tokens.unique(return_inverse=True)
        chars = self.table[unique]
        embedded = dropout(F.embedding(chars, self.weight, padding_idx=0))
        states = self.conv(embedded.transpose(1, 2)).transpose(1, 2)
        has_char = chars.ne(0)
        pooled = states.masked_fill(~has_char.unsqueeze(-1), float("-inf")).amax(dim=1)
        # The padding word has no characters: its feature is zero rather than -inf.
        pooled = torch.where(has_char.any(dim=1, keepdim=True), pooled, torch.zeros_like(pooled))
        return torch.cat([pooled, self.casing[unique]], dim=-1)[inverse]


class BiLSTMTaggerMTL(LinearHeadsMTL):
    """Word embeddings (+ optional character-CNN features), one shared BiLSTM layer, a linear head
    per task: per token for tagging, on the max over real positions of the BiLSTM states for
    classification (the max-pooled BiLSTM sentence encoder of Conneau et al. 2017).

    ``hidden_dim`` is the size of the shared feature, both directions together (``hidden_dim // 2``
    each). ``word_dropout`` replaces a training token's word embedding by the unknown word's with
    that probability (its spelling stays), so that the unknown-word embedding is trained on real
    contexts (Lample et al. 2016 §4 do this for singletons): two thirds of WNUT-17's test entity
    tokens are not training words.

    ``lowercase_words`` gives words that differ only in case one embedding row (the character
    features still read the id's own spelling and casing). ``logit_adjustment`` (tau) subtracts
    tau times the log training frequency of each label from the logits in evaluation mode only,
    trading precision for recall on rare labels (WNUT-17 NER tags about 9% of its tokens).

    Without pretrained vectors, a word id whose embedding no training batch has touched (a word of
    dev or test only, see ``VocabConfig.eval_words``) reads as the unknown word at evaluation,
    rather than as its random initial row; the character features still read its spelling.
    """

    def __init__(
        self,
        vocab_size: int,
        tasks: Sequence[TaskSpec],
        embedding_dim: int = 100,
        hidden_dim: int = 200,
        dropout: float = 0.5,
        vectors: torch.Tensor | None = None,
        *,
        words: Sequence[str] | None = None,
        char_dim: int = 0,
        char_filters: int = 30,
        word_dropout: float = 0.0,
        lowercase_words: bool = False,
        logit_adjustment: float = 0.0,
        label_counts: Sequence[torch.Tensor] | None = None,
    ):
        if hidden_dim % 2:
            raise ValueError(f"the BiLSTM splits hidden_dim between two directions; got odd {hidden_dim}")
        super().__init__(vocab_size, tasks, embedding_dim, hidden_dim, dropout, vectors)
        self.word_dropout = word_dropout
        # With lowercase_words, the row of the word embedding that each id reads: one row per
        # lowercased spelling, so "Apple" and "apple" share one (the spelling and its casing class
        # stay with the character features). None reads row = id.
        self.register_buffer("rows", None, persistent=False)
        if lowercase_words:
            if words is None or len(words) != vocab_size:
                raise ValueError("lowercase_words needs the vocabulary's words, one per id")
            self.rows = lowercase_rows(words)
        # Which ids a training batch has held; None with pretrained vectors, whose rows all mean something.
        self.register_buffer(
            "trained", torch.zeros(vocab_size, dtype=torch.bool) if vectors is None else None
        )
        self.logit_adjustment = logit_adjustment
        if logit_adjustment:
            if label_counts is None or len(label_counts) != len(tasks):
                raise ValueError("logit_adjustment needs each task's training label counts")
            for index, counts in enumerate(label_counts):
                prior = (counts.float() + 1) / (counts.sum() + len(counts))
                # Derived from the training labels, so it stays out of the state dict.
                self.register_buffer(f"log_prior{index}", prior.log(), persistent=False)
        self.chars = None
        if char_dim:
            if words is None or len(words) != vocab_size:
                raise ValueError("character features need the vocabulary's words, one per id")
            self.chars = CharCNN(words, char_dim, char_filters)
        inputs = embedding_dim + (self.chars.size if self.chars is not None else 0)
        # Two unidirectional LSTMs rather than one bidirectional: the backward one reads each
        # example reversed within its own length, so right padding never reaches a real token's
        # state, without the packed sequences that make the CPU backward pass 3x slower (lstm.py).
        self.forward_lstm = nn.LSTM(inputs, hidden_dim // 2, batch_first=True)
        self.backward_lstm = nn.LSTM(inputs, hidden_dim // 2, batch_first=True)
        for lstm in (self.forward_lstm, self.backward_lstm):
            for name, weight in lstm.named_parameters():
                if name.startswith("weight"):
                    nn.init.xavier_uniform_(weight)
                else:
                    nn.init.zeros_(weight)
            # Forget-gate bias 1 (Jozefowicz et al. 2015) so that early gradients reach far
            # tokens; PyTorch orders the gates i, f, g, o and adds bias_ih to bias_hh.
            lstm.bias_ih_l0.data[hidden_dim // 2 : hidden_dim] = 1.0

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> SequenceFeatures:
        real = tokens.ne(PAD_ID)
        words = tokens if self.rows is None else self.rows[tokens]
        if self.trained is not None:
            if self.training:
                self.trained[words] = True
            else:
                words = words.masked_fill(~self.trained[words] & real, UNK_ID)
        if self.training and self.word_dropout > 0:
            dropped = real & (torch.rand(tokens.shape, device=tokens.device) < self.word_dropout)
            words = words.masked_fill(dropped, UNK_ID)
        inputs = self.embedding(words)
        if self.chars is not None:
            inputs = torch.cat([inputs, self.chars(tokens, self.dropout)], dim=-1)
        inputs = self.dropout(inputs)
        forward, _ = self.forward_lstm(inputs)
        flip = reverse_index(lengths, tokens.shape[1]).unsqueeze(-1)
        backward, _ = self.backward_lstm(inputs.gather(1, flip.expand(-1, -1, inputs.shape[-1])))
        backward = backward.gather(1, flip.expand(-1, -1, backward.shape[-1]))
        states = torch.cat([forward, backward], dim=-1)
        pooled = states.masked_fill(~real.unsqueeze(-1), float("-inf")).amax(dim=1)
        per_token = self.dropout(states) if self.tags_tokens else None
        return SequenceFeatures(per_token, self.dropout(pooled))

    def head(self, task_index: int, features: SequenceFeatures) -> torch.Tensor:
        logits = super().head(task_index, features)
        if self.logit_adjustment and not self.training:
            # Post-hoc logit adjustment (Menon et al. 2021): argmax of p(y|x) / p(y)^tau.
            logits = logits - self.logit_adjustment * getattr(self, f"log_prior{task_index}")
        return logits


def lowercase_rows(words: Sequence[str]) -> torch.Tensor:
    """``[len(words)]`` embedding row of each id: the smallest id with the same lowercased word.
    Training words have smaller ids than dev/test-only ones (``VocabConfig.eval_words``), so a
    dev/test word whose lowercased form a training word shares reads that word's trained row.
    The padding and unknown ids keep their own rows."""
    first: dict[str, int] = {}
    rows = []
    for row, word in enumerate(words):
        if row in (PAD_ID, UNK_ID):
            rows.append(row)
        else:
            rows.append(first.setdefault(word.lower(), row))
    return torch.tensor(rows, dtype=torch.long)


def reverse_index(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """``[B, width]`` positions that reverse each row's first ``lengths[b]`` entries and keep the
    padding in place; applying it twice is the identity."""
    positions = torch.arange(width, device=lengths.device).unsqueeze(0)
    flipped = lengths.unsqueeze(1) - 1 - positions
    return torch.where(positions < lengths.unsqueeze(1), flipped, positions)
