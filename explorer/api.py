"""The public Python API for models: open any model the explorer can take,
checked on data images."""

from __future__ import annotations

from pathlib import Path

import torch

from explorer.data.dataset import ImageDataset
from explorer.data.load import load_dataset
from explorer.model.adapters import needs_data, open_model, wrap
from explorer.model.protocol import LatentModel

CHECK_IMAGES = 2  # the contract is checked on this many data images


def _sample(
    data: ImageDataset | torch.Tensor | str | None,
    split: str,
    data_dir: str | Path | None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    if data is None:
        raise ValueError(
            "a model the explorer did not train is checked on data images: pass "
            "data= (a dataset name, an ImageDataset, or images [B, C, H, W] in [0, 1])"
        )
    if isinstance(data, torch.Tensor):
        return data[:CHECK_IMAGES].float(), None
    if isinstance(data, str):
        data = load_dataset(data, split, data_dir)
    part = data.subset(slice(0, CHECK_IMAGES))
    return part.tensors()


def load_model(
    ref: str | Path | object,
    data: ImageDataset | torch.Tensor | str | None = None,
    split: str = "test",
    value_range: tuple[float, float] = (0.0, 1.0),
    data_dir: str | Path | None = None,
    allow_pickle: bool = False,
) -> LatentModel:
    """Opens a model for the explorer.

    Args:
        ref: a checkpoint folder or name of the explorer's own (as before);
            a user's ``package.module:factory`` or ``path/to/file.py:factory``;
            a pythae or a diffusers (``AutoencoderKL``, ``AutoencoderTiny``)
            folder; or a model object with ``encode`` and ``decode``.
        data: the data a user's model is checked on (and its latent size
            found by a trial encode): a dataset name, an ``ImageDataset``, or
            images ``[B, C, H, W]`` in [0, 1]. Not needed for a checkpoint.
        split: the split of a named dataset.
        value_range: the pixel range a user's model takes and makes.
        allow_pickle: let a pythae folder's pickled custom networks load.

    Returns:
        A ``LatentModel``: the explorer's own ``Autoencoder``, or an adapter.

    Raises:
        CheckpointError: a broken checkpoint folder.
        ModelContractError: a user's model that breaks the contract, in one
            line naming what is wrong.
    """
    if isinstance(ref, str | Path) and not needs_data(str(ref)):
        return open_model(ref)
    images, labels = _sample(data, split, data_dir)
    if isinstance(ref, str | Path):
        return open_model(ref, images, labels, value_range, allow_pickle)
    return wrap(ref, type(ref).__name__, images, labels, value_range)
