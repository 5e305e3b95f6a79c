"""Latent Explorer: look inside autoencoders."""

from explorer.api import explore, load_model
from explorer.data.dataset import DatasetError, ImageDataset
from explorer.data.load import load_dataset
from explorer.model.adapters import ModelContractError
from explorer.model.autoencoder import MODELS, ModelOutput, build_model
from explorer.model.checkpoint import CheckpointError, list_checkpoints, save_checkpoint
from explorer.model.config import ModelConfig
from explorer.model.loss import LossTerms, kl_divergence, loss_terms
from explorer.model.protocol import Encoding, LatentModel

__all__ = [
    "MODELS",
    "CheckpointError",
    "DatasetError",
    "Encoding",
    "ImageDataset",
    "LatentModel",
    "LossTerms",
    "ModelConfig",
    "ModelContractError",
    "ModelOutput",
    "build_model",
    "explore",
    "kl_divergence",
    "list_checkpoints",
    "load_dataset",
    "load_model",
    "loss_terms",
    "save_checkpoint",
]
