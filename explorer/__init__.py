"""Latent Explorer: look inside autoencoders."""

from explorer.data.dataset import DatasetError, ImageDataset
from explorer.data.load import load_dataset
from explorer.model.autoencoder import MODELS, Encoding, ModelOutput, build_model
from explorer.model.checkpoint import (
    CheckpointError,
    list_checkpoints,
    load_model,
    save_checkpoint,
)
from explorer.model.config import ModelConfig
from explorer.model.loss import LossTerms, kl_divergence, loss_terms

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
