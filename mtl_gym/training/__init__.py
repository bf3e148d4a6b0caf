"""Training: the single trainer, its optimizers, losses and the one evaluation path."""

from .chunks import chunk_f1, chunks
from .device import available_devices, check_device, resolve_device
from .evaluation import TaskMetrics, evaluate, evaluate_task, split_logits
from .losses import DistillationLoss, example_losses, task_loss
from .optim import EMBEDDING_UPDATES, CombinedOptimizer, OptimizerFactory, adam, build_optimizer
from .runs import ModelFactory, RunRecorder, RunResult, build_trainer, first_model_seed
from .sampling import EpochSampler
from .trainer import (
    Backward,
    Budget,
    LossFunction,
    NonFiniteLossError,
    Snapshot,
    StepGraph,
    StepResult,
    Trainer,
    TrainerConfig,
    seed_everything,
    supervised_loss,
    weighted_sum_backward,
)
from .transfer import TransferConfig, TransferResult, cross_validate_head

__all__ = [
    "EMBEDDING_UPDATES",
    "Backward",
    "Budget",
    "LossFunction",
    "ModelFactory",
    "RunRecorder",
    "RunResult",
    "CombinedOptimizer",
    "DistillationLoss",
    "EpochSampler",
    "NonFiniteLossError",
    "OptimizerFactory",
    "Snapshot",
    "StepGraph",
    "StepResult",
    "TaskMetrics",
    "Trainer",
    "TrainerConfig",
    "TransferConfig",
    "TransferResult",
    "adam",
    "available_devices",
    "build_optimizer",
    "build_trainer",
    "first_model_seed",
    "chunk_f1",
    "chunks",
    "check_device",
    "cross_validate_head",
    "evaluate",
    "evaluate_task",
    "example_losses",
    "resolve_device",
    "seed_everything",
    "supervised_loss",
    "split_logits",
    "task_loss",
    "weighted_sum_backward",
]
