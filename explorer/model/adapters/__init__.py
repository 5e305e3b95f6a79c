"""Models the explorer did not train, each seen through ``LatentModel``, and
the one door every model comes in through (``open_model``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from explorer.model import checkpoint
from explorer.model.adapters import contract, diffusers, pythae
from explorer.model.adapters.module import ModelContractError, build
from explorer.model.protocol import LatentModel

__all__ = [
    "ModelContractError",
    "fingerprint",
    "is_reference",
    "needs_data",
    "open_model",
    "wrap",
]


def is_reference(ref: str) -> bool:
    """``package.module:factory`` or ``file.py:factory`` (not a folder); a bare
    ``file.py`` too, so that it is told it names no factory."""
    return (":" in ref or ref.endswith(".py")) and not Path(ref).is_dir()


def needs_data(ref: str) -> bool:
    """Whether ``ref`` is a model the explorer did not train (checked on data)."""
    path = Path(ref)
    return is_reference(ref) or diffusers.is_folder(path) or pythae.is_folder(path)


def wrap(
    obj: object,
    name: str,
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> LatentModel:
    """A model object (the explorer's own, or anything with ``encode`` and
    ``decode``) as a checked ``LatentModel``; ``images`` ``[B, C, H, W]`` in
    [0, 1] (two or more) are the data it is checked on.

    Raises:
        ModelContractError: what breaks the contract.
    """
    if len(images) < 2:
        raise ModelContractError("two_images")
    if isinstance(obj, LatentModel):  # it implements the protocol itself
        model = obj
    else:
        model = contract.probe(obj, name, images, labels, value_range)
    y = labels[:2] if model.num_classes else None
    model.decode_ms = contract.check(model, images[:2], y)
    return model


def _needs_images(ref: str, images: torch.Tensor | None) -> torch.Tensor:
    if images is None:
        raise ModelContractError("needs_images", ref=ref)
    return images


def open_model(
    ref: str | Path,
    images: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    allow_pickle: bool = False,
) -> LatentModel:
    """Opens the model ``ref`` names.

    Args:
        ref: a checkpoint folder or name (the explorer's own); a user's
            ``package.module:factory`` or ``path/to/file.py:factory``; a
            pythae model folder; or a diffusers ``AutoencoderKL`` /
            ``AutoencoderTiny`` folder.
        images: data images ``[B, C, H, W]`` in [0, 1]; a model the explorer
            did not train is checked on them (and its latent size found).
        labels: their labels, for a conditional model.
        value_range: the pixel range a user's module takes and makes.
        allow_pickle: let a pythae folder's pickled custom networks load
            (they run code; refused by default).

    Raises:
        CheckpointError: a broken checkpoint folder of the explorer's own.
        ModelContractError: any other model that cannot be opened or breaks
            the contract, in one line.
    """
    ref = str(ref)
    path = Path(ref)
    if is_reference(ref):
        images = _needs_images(ref, images)
        obj = build(ref)
        return wrap(obj, ref.rpartition(":")[2], images, labels, value_range)
    if diffusers.is_folder(path):
        images = _needs_images(ref, images)
        return wrap(diffusers.open_folder(path, images), path.name, images)
    if pythae.is_folder(path):
        images = _needs_images(ref, images)
        return wrap(pythae.open_folder(path, allow_pickle), path.name, images)
    return checkpoint.load_checkpoint(ref)


def _module_of(model: object) -> torch.nn.Module | None:
    """The ``nn.Module`` that holds a model's weights: the model itself, or
    the network an adapter wraps."""
    for m in (model, *(getattr(model, a, None) for a in ("obj", "vae", "model"))):
        if isinstance(m, torch.nn.Module):
            return m
    return None


def fingerprint(model: LatentModel) -> str | None:
    """A SHA-256 that changes whenever the model's weights do: a checkpoint
    folder's weights-file hash, else a hash of the wrapped network's class,
    its state dict (names, dtypes, shapes, bytes) and the pixel range it is
    read with. None for an object with no ``nn.Module`` to hash (its
    encodings cannot be reused safely)."""
    path = getattr(model, "path", None)
    if path is not None and (Path(path) / checkpoint.WEIGHTS_FILE).is_file():
        return checkpoint.weights_hash(path)
    module = _module_of(model)
    if module is None:
        return None
    h = hashlib.sha256(type(module).__qualname__.encode())
    h.update(repr(getattr(model, "value_range", None)).encode())
    for key, t in module.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{key}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
