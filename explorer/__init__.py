"""Latent Explorer: look inside autoencoders."""

from explorer.checkpoint import (
    CheckpointError,
    list_checkpoints,
    load_model,
    save_checkpoint,
)
from explorer.data import DatasetError, ImageDataset, load_dataset
from explorer.models import (
    MODELS,
    Encoding,
    LossTerms,
    ModelConfig,
    ModelOutput,
    build_model,
    kl_divergence,
    loss_terms,
)

__all__ = [
    "MODELS",
    "CheckpointError",
    "DatasetError",
    "Encoding",
    "ImageDataset",
    "LossTerms",
    "ModelConfig",
    "ModelOutput",
    "build_model",
    "kl_divergence",
    "list_checkpoints",
    "load_dataset",
    "load_model",
    "loss_terms",
    "save_checkpoint",
]
