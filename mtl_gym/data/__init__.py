"""The data layer: text tasks as pre-padded id tensors over one shared vocabulary."""

from .errors import DataError, DataWarning
from .suites import SUITES, default_data_dir, load_suite, suite_objective
from .task import IGNORE_INDEX, Batch, RawSplit, RawTask, Split, Task, TaskKind, TaskSuite, build_suite
from .vectors import load_word_vectors
from .vocab import PAD_ID, UNK_ID, VocabConfig, Vocabulary

__all__ = [
    "IGNORE_INDEX",
    "PAD_ID",
    "SUITES",
    "UNK_ID",
    "Batch",
    "DataError",
    "DataWarning",
    "RawSplit",
    "RawTask",
    "Split",
    "Task",
    "TaskKind",
    "TaskSuite",
    "VocabConfig",
    "Vocabulary",
    "build_suite",
    "default_data_dir",
    "load_suite",
    "suite_objective",
    "load_word_vectors",
]
