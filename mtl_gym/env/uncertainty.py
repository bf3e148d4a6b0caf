"""Uncertainty of a classifier's prediction and the histogram observation of QLS §4.2.

Every measure is scaled to [0, 1] so that one set of histogram bins serves every task:

- ``margin`` (the paper's choice, eq. 4): zeta = 1 - p(y_1|x) + p(y_2|x), with y_1, y_2 the two
  most probable labels. 0 means certain, 1 means the top two labels tie.
- ``entropy``: Shannon entropy divided by log C.
- ``least-confidence``: (1 - p(y_1|x)) divided by its maximum, 1 - 1/C.
"""

from __future__ import annotations

import math

import torch

UNCERTAINTY_MEASURES = ("margin", "entropy", "least-confidence")


def uncertainty(probabilities: torch.Tensor, measure: str = "margin") -> torch.Tensor:
    """Uncertainty in [0, 1] of each row of ``probabilities`` ``[N, C]``."""
    classes = probabilities.shape[-1]
    if measure == "margin":
        top = probabilities.topk(2, dim=-1).values
        return 1.0 - top[..., 0] + top[..., 1]
    if measure == "entropy":
        entropy = -(probabilities * probabilities.clamp_min(1e-12).log()).sum(-1)
        return entropy / math.log(classes)
    if measure == "least-confidence":
        return (1.0 - probabilities.amax(-1)) / (1.0 - 1.0 / classes)
    raise ValueError(f"unknown uncertainty measure {measure!r}; expected one of {UNCERTAINTY_MEASURES}")


def histogram(values: torch.Tensor, bins: int) -> torch.Tensor:
    """Normalised ``bins``-bin histogram of ``values`` in [0, 1]; it sums to 1."""
    counts = torch.histc(values.float().clamp(0.0, 1.0), bins=bins, min=0.0, max=1.0)
    return counts / counts.sum()


def histograms(values: torch.Tensor, bins: int, valid: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`histogram` of each row of ``values`` ``[..., n]`` at once (``[..., bins]``), counting
    only the entries where ``valid`` (broadcastable to ``values``) is True. Bins are assigned as
    ``torch.histc`` assigns them, so a row's histogram equals :func:`histogram` of its valid entries
    (NaN entries are not counted, as histc counts none; a row of them gives NaN, as histc does)."""
    values = values.float()
    counted = ~values.isnan()
    scaled = values.nan_to_num(nan=0.0, posinf=1.0, neginf=0.0).clamp(0.0, 1.0) * bins
    index = scaled.long().clamp_(max=bins - 1)
    weights = counted.float() if valid is None else (valid.expand_as(scaled) & counted).float()
    counts = torch.zeros(*values.shape[:-1], bins, dtype=weights.dtype, device=values.device)
    counts.scatter_add_(-1, index, weights)
    return counts / counts.sum(-1, keepdim=True)
