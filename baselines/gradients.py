"""Per-task gradients of one trainer step, and the sinks that turn them into ``.grad`` fields.

One ``loss.backward()`` gives the sum of the task gradients; gradient methods (PCGrad, MGDA,
GradNorm, ...) and AdaTask need each task's gradient of the shared parameters on its own.
:class:`TaskGradients` computes them, one ``torch.autograd.grad`` per task loss.

A joint method decides per-task coefficients; a :class:`GradientSink` decides what they become.
:class:`SumSink` gives every parameter the weighted sum (plain optimizers); AdaTask's sink
hands each task's share of the shared gradient to its optimizer, which is how AdaTask composes
with any joint method (the AdaTask paper combines it with PCGrad and CAGrad, its Table 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from mtl_gym.training import StepGraph


@dataclass
class TaskGradients:
    """The gradient of each loss of a step, computed separately.

    ``shared[j][i]`` is the gradient of ``graph.losses[j]`` with respect to
    ``graph.shared_parameters[i]``, sparse for an embedding with ``sparse=True`` and None where
    the loss does not reach the parameter; ``heads[j][i]`` is that of ``head_parameters[j][i]``,
    the parameters of the loss's own head.
    """

    shared: list[list[Tensor | None]]
    heads: list[list[Tensor | None]]
    head_parameters: list[list[nn.Parameter]]

    @classmethod
    def compute(cls, graph: StepGraph, model: nn.Module) -> TaskGradients:
        shared, heads, head_parameters = [], [], []
        last = len(graph.losses) - 1
        for index, (task, loss) in enumerate(zip(graph.tasks, graph.losses, strict=True)):
            head = [p for p in model.heads[task].parameters() if p.requires_grad]
            grads = torch.autograd.grad(
                loss,
                [*graph.shared_parameters, *head],
                # Each task's loss has its own forward pass, but a model may share graph pieces.
                retain_graph=index < last,
                allow_unused=True,
            )
            split = len(graph.shared_parameters)
            shared.append(list(grads[:split]))
            heads.append(list(grads[split:]))
            head_parameters.append(head)
        return cls(shared, heads, head_parameters)

    def jacobian(self, parameters: Sequence[nn.Parameter]) -> Tensor:
        """The ``[tasks, n]`` Jacobian of the losses with respect to the shared ``parameters``.

        A sparse embedding gradient contributes only the rows some task's batch touched: the
        other rows are zero columns for every task, which change no Gramian, no projection and
        no weighted combination of the rows, so gradient methods see the full Jacobian's geometry.
        """
        blocks = []
        for index, parameter in enumerate(parameters):
            column = [task[index] for task in self.shared]
            if any(g is not None and g.is_sparse for g in column):
                blocks.append(_touched_rows(column))
            else:
                blocks.append(torch.stack([_dense(g, parameter).flatten() for g in column]))
        return torch.cat(blocks, dim=1)


def _dense(grad: Tensor | None, parameter: nn.Parameter) -> Tensor:
    return torch.zeros_like(parameter) if grad is None else grad


def _touched_rows(grads: list[Tensor | None]) -> Tensor:
    coalesced = [None if g is None else g.coalesce() for g in grads]
    present = [g for g in coalesced if g is not None]
    rows = torch.unique(torch.cat([g.indices()[0] for g in present]))
    block = present[0].values().new_zeros((len(grads), len(rows), *present[0].shape[1:]))
    for task, grad in enumerate(coalesced):
        if grad is not None:
            block[task].index_add_(0, torch.searchsorted(rows, grad.indices()[0]), grad.values())
    return block.flatten(1)


def add_grad(parameter: nn.Parameter, grad: Tensor) -> None:
    parameter.grad = grad if parameter.grad is None else parameter.grad + grad


def add_scaled(parameters: Sequence[nn.Parameter], grads: Sequence[Tensor | None], scale: float) -> None:
    for parameter, grad in zip(parameters, grads, strict=True):
        if grad is not None:
            add_grad(parameter, scale * grad)


def weighted_loss(graph: StepGraph, coefficients: Tensor) -> Tensor:
    return sum(float(c) * loss for c, loss in zip(coefficients, graph.losses, strict=True))


@runtime_checkable
class GradientSink(Protocol):
    """Where a joint method's per-task coefficients go.

    ``from_coefficients``: every parameter gets ``sum_j c_j * grad L_j``. ``from_gradients``:
    the gradients are already computed; the shared parameters get ``sum_j shared[j] * g_j`` and
    each head ``heads[j] * h_j`` (gradient methods leave heads unweighted, as ``torchjd``'s
    ``mtl_backward`` does).
    """

    def from_coefficients(self, graph: StepGraph, coefficients: Tensor) -> None: ...

    def from_gradients(
        self, graph: StepGraph, gradients: TaskGradients, shared: Tensor, heads: Tensor
    ) -> None: ...


class SumSink:
    """Weighted sums into ``.grad``, for any ordinary optimizer."""

    def from_coefficients(self, graph: StepGraph, coefficients: Tensor) -> None:
        weighted_loss(graph, coefficients).backward()

    def from_gradients(
        self, graph: StepGraph, gradients: TaskGradients, shared: Tensor, heads: Tensor
    ) -> None:
        for index in range(len(graph.tasks)):
            add_scaled(graph.shared_parameters, gradients.shared[index], float(shared[index]))
            add_scaled(gradients.head_parameters[index], gradients.heads[index], float(heads[index]))
