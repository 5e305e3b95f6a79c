"""Latent Explorer: look inside autoencoders.

The names below are imported on first use (PEP 562), so that importing a
light part of the package (``explorer.app.routes``, which the server imports
at start) does not import PyTorch.
"""

from importlib import import_module

_WHERE = {
    "explore": "explorer.api",
    "Served": "explorer.api",
    "load_model": "explorer.api",
    "StoreError": "explorer.data.store",
    "DatasetError": "explorer.data.dataset",
    "ImageDataset": "explorer.data.dataset",
    "load_dataset": "explorer.data.load",
    "ModelContractError": "explorer.model.adapters",
    "MODELS": "explorer.model.autoencoder",
    "ModelOutput": "explorer.model.autoencoder",
    "build_model": "explorer.model.autoencoder",
    "CheckpointError": "explorer.model.checkpoint",
    "list_checkpoints": "explorer.model.checkpoint",
    "save_checkpoint": "explorer.model.checkpoint",
    "ModelConfig": "explorer.model.config",
    "LossTerms": "explorer.model.loss",
    "kl_divergence": "explorer.model.loss",
    "loss_terms": "explorer.model.loss",
    "Encoding": "explorer.model.protocol",
    "LatentModel": "explorer.model.protocol",
    "make_projection": "explorer.latent.maps",
    "MapProjection": "explorer.latent.maps",
    "ProjectionError": "explorer.latent.maps",
    "align": "explorer.latent.align",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'explorer' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
