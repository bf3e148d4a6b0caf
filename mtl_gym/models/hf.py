"""A Hugging Face ``transformers`` encoder as the shared encoder (``pip install -c constraints.txt
-e ".[hf]"``).

The encoder reads the suite's own token ids: the data layer encodes every suite with its own
word-level vocabulary (``mtl_gym.data.Vocabulary``: one id per word, id 0 pads) and has no hook for
a model's subword tokenizer. So a ``config`` encoder gets the suite's vocabulary size and padding
id, and a ``pretrained`` one must have been saved for exactly this vocabulary (pretrained on the
suite's ids, or saved from a ``config`` run): a checkpoint with another vocabulary, such as
``bert-base-uncased``, would read the suite's ids as unrelated word pieces, so its vocabulary size
must match or building fails.

The example feature is the mean of the last hidden states over the real (non-padding) tokens,
not the first token's: the suite's ids carry no ``[CLS]`` token, so the first position is just the
first word. A linear projection maps the encoder's width to ``hidden_dim`` when they differ;
tagging heads read the projected per-token states.

``transformers`` is imported only when an encoder is built, so ``import mtl_gym`` stays fast and
works without the extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data import PAD_ID, TaskKind
from ..spec import close_matches
from .heads import SequenceFeatures, TaskSpec, linear_heads

INSTALL_HINT = 'model "hf" needs transformers: pip install -c constraints.txt -e ".[hf]"'


class MissingExtraError(ImportError, ValueError):
    """An optional dependency is not installed. A ValueError too, so that the CLI prints it as one line."""


def require_transformers() -> Any:
    """The ``transformers`` module, or one clear error saying which extra installs it."""
    try:
        import transformers
    except ImportError:
        raise MissingExtraError(INSTALL_HINT) from None
    return transformers


def check_hf_options(config: Mapping[str, Any] | None, pretrained: str | None) -> None:
    """Exactly one source of the encoder: a transformers config dict or a local checkpoint folder."""
    if (config is None) == (pretrained is None):
        raise ValueError(
            'model "hf" takes exactly one of config={...} (a transformers config dict with a model_type) '
            "or pretrained=DIR (a local save_pretrained folder)"
            + (", not both" if config is not None else "")
        )
    if config is not None:
        if not isinstance(config, Mapping):
            raise ValueError(f'model "hf": config must be a dict (JSON object), got {config!r}')
        if not isinstance(config.get("model_type"), str):
            raise ValueError(
                'model "hf": config needs a model_type, e.g. {"model_type": "bert", "hidden_size": 64}'
            )
    if pretrained is not None and not isinstance(pretrained, str):
        raise ValueError(f'model "hf": pretrained must be a folder path, got {pretrained!r}')


def build_encoder(vocab_size: int, config: Mapping[str, Any] | None, pretrained: str | None) -> nn.Module:
    """A randomly initialised ``AutoModel`` for ``config`` (vocabulary size and padding id set to the
    suite's), or the one saved in the local folder ``pretrained`` (never downloaded)."""
    check_hf_options(config, pretrained)
    transformers = require_transformers()
    if config is not None:
        values = dict(config)
        model_type = values.pop("model_type")
        if model_type not in transformers.CONFIG_MAPPING:
            known = list(transformers.CONFIG_MAPPING.keys())
            raise ValueError(
                f'model "hf": transformers knows no model_type {model_type!r}{close_matches(str(model_type), known)}'
            )
        for key, value in (("vocab_size", vocab_size), ("pad_token_id", PAD_ID)):
            if values.setdefault(key, value) != value:
                raise ValueError(
                    f'model "hf": config sets {key}={values[key]} but the suite\'s is {value}; leave it '
                    "out and the suite's is used"
                )
        encoder = transformers.AutoModel.from_config(transformers.AutoConfig.for_model(model_type, **values))
    else:
        if not Path(pretrained).is_dir():
            raise ValueError(
                f'model "hf": pretrained={pretrained!r} is not a local folder; give a folder written by '
                "save_pretrained (hub names are not downloaded)"
            )
        encoder = transformers.AutoModel.from_pretrained(pretrained, local_files_only=True)
    rows = encoder.get_input_embeddings().num_embeddings
    if rows != vocab_size:
        raise ValueError(
            f'model "hf": the encoder has {rows} token ids but the suite\'s vocabulary has {vocab_size}; '
            "the encoder reads the suite's own word ids (mtl-gym does not apply a model's tokenizer), so "
            "it must have been saved for this vocabulary"
        )
    return encoder


def max_positions(encoder: nn.Module) -> int | None:
    """The longest input the encoder's position embeddings cover, when its config says."""
    return getattr(encoder.config, "max_position_embeddings", None)


class HFEncoderMTL(nn.Module):
    """A ``transformers`` ``AutoModel`` as the shared encoder, a linear projection to
    ``hidden_dim`` (left out when the widths agree) and a linear head per task.

    ``encode`` returns ``SequenceFeatures``: the projected last hidden states (only when a task
    tags) and their mean over the non-padding tokens. Classification heads read the mean, tagging
    heads each token's state.
    """

    def __init__(
        self,
        vocab_size: int,
        tasks: Sequence[TaskSpec],
        hidden_dim: int = 100,
        dropout: float = 0.0,
        config: Mapping[str, Any] | None = None,
        pretrained: str | None = None,
        max_len: int | None = None,
    ):
        super().__init__()
        self.encoder = build_encoder(vocab_size, config, pretrained)
        limit = max_positions(self.encoder)
        if max_len is not None and limit is not None and max_len > limit:
            raise ValueError(
                f'model "hf": the suite has examples of {max_len} tokens but the encoder\'s '
                f"max_position_embeddings is {limit}; raise it in the config or load the suite with a "
                f"smaller max_len (--max-len {limit})"
            )
        width = self.encoder.config.hidden_size
        self.hidden_dim = hidden_dim
        self.project = nn.Identity() if width == hidden_dim else nn.Linear(width, hidden_dim)
        self.kinds = [spec.kind for spec in tasks]
        self.tags_tokens = TaskKind.TAGGING in self.kinds
        self.dropout = nn.Dropout(dropout)
        self.heads = linear_heads(hidden_dim, tasks)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> SequenceFeatures:
        mask = tokens.ne(PAD_ID)
        states = self.encoder(input_ids=tokens, attention_mask=mask.long()).last_hidden_state
        states = self.project(states)
        weights = mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        per_token = self.dropout(states) if self.tags_tokens else None
        return SequenceFeatures(per_token, self.dropout(pooled))

    def head(self, task_index: int, features: SequenceFeatures) -> torch.Tensor:
        if self.kinds[task_index] is TaskKind.TAGGING:
            return self.heads[task_index](features.tokens)
        return self.heads[task_index](features.pooled)
