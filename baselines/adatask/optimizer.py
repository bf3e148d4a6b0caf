"""The AdaTask optimizer: separate accumulated gradients per task for every shared parameter.

Yang et al. 2023 (AdaTask, AAAI), Alg. 2: for a shared parameter, task k keeps its own moments
G^k (and m^k for Adam) from its own gradients g^k only, and the update is the sum of the
per-task updates, theta -= sum_k lr * m^k_hat / (sqrt(G^k_hat) + eps). Task-head parameters,
which one task updates anyway, keep the plain rule. With one task the optimizer is plain Adam,
RMSProp or AdaGrad (torch's conventions: eps outside the square root).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor, nn

from .dominance import TaskDominance

VARIANTS = ("adam", "rmsprop", "adagrad")
DEFAULT_EPS = {"adam": 1e-8, "rmsprop": 1e-8, "adagrad": 1e-10}
"""torch's defaults for Adam (Kingma and Ba's value), RMSprop and Adagrad."""


class AdaTask(torch.optim.Optimizer):
    """Task-wise adaptive learning rates (Yang et al. 2023, Alg. 2, and LAdaTask, eqs. 8-9).

    ``params`` are the parameters to update; those also in ``shared`` get per-task state and
    take their gradients from :meth:`add_task_gradient` (the AdaTask ``Backward`` hook calls it),
    the rest are updated from ``.grad``. In a step, only the tasks that sent a gradient update
    their moments and contribute an update, so a scheduler that trains one task per step moves
    only that task's moments (the paper: "when optimizing a sample from one task, only the
    accumulative gradients w.r.t. that task is used").

    ``layerwise`` is LAdaTask (Appendix A): each shared parameter tensor keeps one accumulator G
    of the summed gradient plus one scalar C^k per task, the decayed mean of task k's squared
    gradients, and task k's accumulator is C^k / sum_j C^j * G. The paper defines it for the
    accumulated squared gradients of RMSProp and AdaGrad; Adam's per-task first moments would
    cost the O(NK) memory that LAdaTask exists to save, so it is refused for Adam.

    ``task_wise=False`` is the baseline the paper measures against: one accumulator of the summed
    gradient, as in plain Adam, RMSProp or AdaGrad, so the parameters move exactly as under those.
    The update is still split into per-task parts, for the rAU diagnostic of baselines (the
    paper's Figs. 2 and 6): it is linear in the first moment, so task k's part is
    -lr * m^k_hat / (sqrt(G_hat) + eps) with m^k the first moment of task k's gradients alone
    (g^k / (sqrt(G) + eps) for RMSProp and AdaGrad). The parts sum to the plain update.
    """

    def __init__(
        self,
        params: Iterable[nn.Parameter],
        shared: Iterable[nn.Parameter],
        num_tasks: int,
        variant: str = "adam",
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        alpha: float = 0.99,
        eps: float | None = None,
        layerwise: bool = False,
        dominance: TaskDominance | None = None,
        task_wise: bool = True,
    ):
        if variant not in VARIANTS:
            raise ValueError(f"AdaTask variant must be one of {VARIANTS}, got {variant!r}")
        if layerwise and not task_wise:
            raise ValueError(
                "layer-wise AdaTask is a task-wise optimizer; task_wise=False has one accumulator"
            )
        if layerwise and variant == "adam":
            raise ValueError(
                "layer-wise AdaTask (LAdaTask) splits accumulated squared gradients only; use 'rmsprop' or 'adagrad'"
            )
        if num_tasks < 1:
            raise ValueError(f"AdaTask needs at least one task, got {num_tasks}")
        eps = DEFAULT_EPS[variant] if eps is None else eps
        super().__init__(params, {"lr": lr, "betas": betas, "alpha": alpha, "eps": eps})
        self.variant = variant
        self.layerwise = layerwise
        self.task_wise = task_wise
        self.num_tasks = num_tasks
        self.dominance = dominance
        self._shared = {id(p) for p in shared}
        self._pending: dict[int, dict[int, Tensor]] = {}

    def owns(self, parameter: nn.Parameter) -> bool:
        """Whether ``parameter`` is a shared parameter with per-task state here."""
        return id(parameter) in self._shared

    def add_task_gradient(self, task: int, parameter: nn.Parameter, grad: Tensor) -> None:
        """Task ``task``'s gradient of the shared ``parameter`` for the next step (summed if sent twice)."""
        if not self.owns(parameter):
            raise ValueError("add_task_gradient takes shared parameters only; heads use .grad")
        if not 0 <= task < self.num_tasks:
            raise IndexError(f"task {task} is out of range for {self.num_tasks} tasks")
        pending = self._pending.setdefault(id(parameter), {})
        pending[task] = grad if task not in pending else pending[task] + grad

    @torch.no_grad()
    def step(self, closure: None = None) -> None:
        if closure is not None:
            raise ValueError("AdaTask takes per-task gradients from its Backward hook, not from a closure")
        for group in self.param_groups:
            for parameter in group["params"]:
                if self.owns(parameter):
                    self._step_shared(parameter, group)
                elif parameter.grad is not None:
                    parameter.add_(self._update(self._state(parameter, 1), 0, parameter.grad, group))

    def _step_shared(self, parameter: nn.Parameter, group: dict) -> None:
        grads = self._pending.pop(id(parameter), None)
        if grads is None:
            if parameter.grad is not None:
                raise RuntimeError(
                    "AdaTask got a summed gradient for a shared parameter but no per-task gradients; "
                    "install its Backward hook (attach_adatask or adatask_factory)"
                )
            return
        if self.layerwise:
            updates = self._layerwise_updates(parameter, grads, group)
        elif not self.task_wise:
            updates = self._shared_updates(parameter, grads, group)
        else:
            state = self._state(parameter, self.num_tasks)
            updates = {task: self._update(state, task, grad, group) for task, grad in grads.items()}
        parameter.add_(sum(updates.values()))
        if self.dominance is not None:
            self.dominance.record(parameter, updates)

    def _state(self, parameter: nn.Parameter, slots: int, first_moment_slots: int | None = None) -> dict:
        """Moments in ``slots`` slots; Adam's first moment in ``first_moment_slots`` (default: as many)."""
        state = self.state[parameter]
        if not state:
            moments = (slots, *parameter.shape)
            if self.variant == "adam":
                state["step"] = torch.zeros(slots, dtype=torch.float64)
                state["exp_avg"] = parameter.new_zeros((first_moment_slots or slots, *parameter.shape))
                state["exp_avg_sq"] = parameter.new_zeros(moments)
            else:
                state["accumulator"] = parameter.new_zeros(moments)
        return state

    def _update(self, state: dict, slot: int, grad: Tensor, group: dict) -> Tensor:
        """The update of one slot (a task, or the only slot of a head parameter) from its gradient."""
        if self.variant == "adam":
            beta1, beta2 = group["betas"]
            state["step"][slot] += 1
            step = float(state["step"][slot])
            exp_avg, exp_avg_sq = state["exp_avg"][slot], state["exp_avg_sq"][slot]
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (exp_avg_sq.sqrt() / math.sqrt(1 - beta2**step)).add_(group["eps"])
            return exp_avg / denom * (-group["lr"] / (1 - beta1**step))
        accumulator = state["accumulator"][slot]
        self._accumulate(accumulator, grad * grad, group)
        return grad / accumulator.sqrt().add_(group["eps"]) * -group["lr"]

    def _shared_updates(
        self, parameter: nn.Parameter, grads: dict[int, Tensor], group: dict
    ) -> dict[int, Tensor]:
        # One accumulator of the summed gradient, but Adam's first moment kept per task.
        state = self._state(parameter, 1, first_moment_slots=self.num_tasks)
        total = sum(grads.values())
        if self.variant != "adam":
            accumulator = state["accumulator"][0]
            self._accumulate(accumulator, total * total, group)
            denom = accumulator.sqrt().add_(group["eps"])
            return {task: grad / denom * -group["lr"] for task, grad in grads.items()}
        beta1, beta2 = group["betas"]
        state["step"][0] += 1
        step = float(state["step"][0])
        task_exp_avg = state["exp_avg"]
        task_exp_avg.mul_(beta1)
        for task, grad in grads.items():
            task_exp_avg[task].add_(grad, alpha=1 - beta1)
        state["exp_avg_sq"][0].mul_(beta2).addcmul_(total, total, value=1 - beta2)
        denom = (state["exp_avg_sq"][0].sqrt() / math.sqrt(1 - beta2**step)).add_(group["eps"])
        scale = -group["lr"] / (1 - beta1**step)
        # Every task with momentum left moves the parameter, not only the tasks of this step.
        return {task: task_exp_avg[task] / denom * scale for task in range(self.num_tasks)}

    def _layerwise_updates(
        self, parameter: nn.Parameter, grads: dict[int, Tensor], group: dict
    ) -> dict[int, Tensor]:
        state = self._state(parameter, 1)
        if "task_share" not in state:
            state["task_share"] = parameter.new_zeros(self.num_tasks)
        total = sum(grads.values())
        self._accumulate(state["accumulator"][0], total * total, group)
        for task, grad in grads.items():
            self._accumulate(state["task_share"][task], (grad * grad).mean(), group)
        shares = state["task_share"] / state["task_share"].sum().clamp_min(torch.finfo(total.dtype).tiny)
        return {
            task: grad / (shares[task] * state["accumulator"][0]).sqrt().add_(group["eps"]) * -group["lr"]
            for task, grad in grads.items()
        }

    def _accumulate(self, accumulator: Tensor, square: Tensor, group: dict) -> None:
        if self.variant == "rmsprop":
            accumulator.mul_(group["alpha"]).add_(square, alpha=1 - group["alpha"])
        else:
            accumulator.add_(square)
