"""Checkpoints: ``<dir>/config.json`` + ``model.safetensors`` (+ ``metrics.json``).

Loading rebuilds the model from its config and loads the tensors strictly.
Nothing is ever unpickled; every way a checkpoint can be broken gives a
``CheckpointError`` that names the file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as save_safetensors

from explorer.fileio import (  # noqa: F401 - where checkpoints live, re-exported
    REPO_WEIGHTS,
    WEIGHTS_ENV,
    atomic_write,
    load_json,
    read_json,
    weights_dir,
    write_json,
)
from explorer.model.autoencoder import Autoencoder, build_model
from explorer.model.config import ModelConfig
from explorer.problem import Problem

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.json"
TRAINING_FILE = "training.json"


class CheckpointError(Problem, RuntimeError):
    """A checkpoint is missing, unreadable or does not match its config."""

    MESSAGES = {
        "no_config": "{path}: missing (not a checkpoint folder?)",
        "bad_config": "{path}: invalid config: {reason}",
        "missing": "{path}: missing",
        "pickle": "{path}: looks like a pickle or torch.save file; only "
        "safetensors is loaded, because unpickling can run arbitrary code",
        "bad_weights": "{path}: not a valid safetensors file ({reason})",
        "no_folder": "{path}: no such checkpoint folder",
        "tensors": "{path}: tensors do not match {config} (missing {missing}, "
        "unexpected {unexpected})",
        "shape": "{path}: tensor {name} has shape {shape} but {config} implies {want}",
        "finite": "{path}: tensor {name} holds NaN or infinite values",
        "bad_snapshots": "{path}: not a file of training snapshots ({reason})",
    }


def checkpoint_name(config: ModelConfig) -> str:
    return config.default_name


def resolve(path_or_name: str | Path) -> Path:
    """A checkpoint folder from a path, or a name under ``weights_dir()``."""
    path = Path(path_or_name)
    if path.is_dir() or len(path.parts) > 1:
        return path
    return weights_dir() / path


def list_checkpoints(root: str | Path | None = None) -> list[Path]:
    """Folders under ``root`` (default ``weights_dir()``) that hold a config.json."""
    root = Path(root) if root else weights_dir()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / CONFIG_FILE).is_file())


def save_checkpoint(model: Autoencoder, folder: str | Path) -> None:
    """Writes config.json and model.safetensors atomically."""
    folder = Path(folder)
    tensors = {
        k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()
    }
    atomic_write(folder / WEIGHTS_FILE, save_safetensors(tensors))
    write_json(folder / CONFIG_FILE, model.config.to_dict())


def read_config(folder: str | Path) -> ModelConfig:
    """Reads and validates ``config.json``."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError("no_config", path=path)
    try:
        return ModelConfig.from_dict(load_json(path))
    except (ValueError, TypeError, UnicodeDecodeError) as e:
        raise CheckpointError("bad_config", path=path, reason=e) from e


def read_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Reads a safetensors file; refuses pickles and reports truncation."""
    return read_tensors_and_metadata(path)[0]


def read_tensors_and_metadata(
    path: str | Path,
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """``read_tensors``, plus the file's string metadata (empty when none),
    both from one opening of the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError("missing", path=path)
    with path.open("rb") as f:
        head = f.read(9)
    # safetensors: an 8-byte header length, then the JSON header's "{" (whose
    # length's first byte may well be 0x80, a pickle's first byte)
    safetensors = len(head) == 9 and head[8:9] == b"{"
    if not safetensors and (head[:1] == b"\x80" or head[:2] == b"PK"):
        raise CheckpointError("pickle", path=path)
    try:
        # safe_open maps the file: each tensor is cloned, so none shares
        # memory with a file that may be rewritten or deleted afterwards.
        with safe_open(path, framework="pt") as f:
            tensors = {k: f.get_tensor(k).clone() for k in f.keys()}
            return tensors, dict(f.metadata() or {})
    except (SafetensorError, ValueError, RuntimeError, OSError) as e:
        raise CheckpointError("bad_weights", path=path, reason=e) from e


def weights_hash(checkpoint: str | Path) -> str:
    """The SHA-256 of a checkpoint folder's weights file."""
    return hashlib.sha256((Path(checkpoint) / WEIGHTS_FILE).read_bytes()).hexdigest()


def load_checkpoint(path_or_name: str | Path) -> Autoencoder:
    """Loads a checkpoint for inference.

    Args:
        path_or_name: a checkpoint folder, or a name such as
            ``fashion-mnist-vae-z2`` under ``weights_dir()``.

    Returns:
        The model in eval mode with gradients off; ``model.config`` holds its
        ``ModelConfig`` and ``model.metrics`` its ``metrics.json`` (or None).

    Raises:
        CheckpointError: naming the file that is missing, broken or mismatched.
    """
    folder = resolve(path_or_name)
    if not folder.is_dir():
        raise CheckpointError("no_folder", path=folder)
    config = read_config(folder)
    model = build_model(config)
    weights = folder / WEIGHTS_FILE
    tensors = read_tensors(weights)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            "tensors",
            path=weights,
            config=CONFIG_FILE,
            missing=missing[:4],
            unexpected=unexpected[:4],
        )
    for k, v in expected.items():
        if tensors[k].shape != v.shape:
            raise CheckpointError(
                "shape",
                path=weights,
                name=k,
                shape=tuple(tensors[k].shape),
                config=CONFIG_FILE,
                want=tuple(v.shape),
            )
        if not torch.isfinite(tensors[k]).all():
            raise CheckpointError("finite", path=weights, name=k)
    model.load_state_dict({k: t.to(v.dtype) for k, t in tensors.items()}, strict=True)
    model.eval().requires_grad_(False)
    model.metrics = read_json(folder / METRICS_FILE)
    model.path = folder
    return model
