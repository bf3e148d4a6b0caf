"""MTL models: the protocol users implement, three shipped models, and Hugging Face encoders (``hf``)."""

from .bilstm import BiLSTMTaggerMTL
from .cnn import ConvEncoderMTL
from .config import MODELS, ModelConfig
from .heads import LinearHeadsMTL, SequenceFeatures, TaskSpec, task_specs
from .hf import HFEncoderMTL
from .lstm import LSTMEncoderMTL
from .protocol import MTLModel, check_model, shared_parameters

__all__ = [
    "MODELS",
    "BiLSTMTaggerMTL",
    "ConvEncoderMTL",
    "HFEncoderMTL",
    "LSTMEncoderMTL",
    "LinearHeadsMTL",
    "MTLModel",
    "ModelConfig",
    "SequenceFeatures",
    "TaskSpec",
    "check_model",
    "shared_parameters",
    "task_specs",
]
