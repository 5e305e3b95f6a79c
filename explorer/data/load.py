"""Opening a dataset by name: a built-in one or ``folder:<path>``."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from explorer.data.builtin import load_builtin
from explorer.data.dataset import FOLDER_PREFIX, ArrayImages, ImageDataset
from explorer.data.folder import FolderImages, load_folder


def load_dataset(
    name: str,
    split: str = "test",
    data_dir: str | Path | None = None,
    size: tuple[int, int] = (28, 28),
    channels: int = 1,
    download: bool = True,
) -> ImageDataset:
    """Loads a built-in dataset by name, or ``folder:<path>``, into memory."""
    if name.startswith(FOLDER_PREFIX):
        return load_folder(name[len(FOLDER_PREFIX) :], size, channels, split)
    return load_builtin(name, split, data_dir, download)


def open_images(
    name: str,
    split: str = "test",
    data_dir: str | Path | None = None,
    size: tuple[int, int] = (28, 28),
    channels: int = 1,
) -> ImageDataset | FolderImages:
    """A dataset to stream through a ``DataLoader``: ``folder:<path>`` read
    lazily (it may not fit in memory), a built-in one loaded into memory."""
    if name.startswith(FOLDER_PREFIX):
        return FolderImages(name[len(FOLDER_PREFIX) :], size, channels, split)
    return load_builtin(name, split, data_dir)


def torch_view(dataset) -> torch.utils.data.Dataset:
    """A torch dataset of ``(image, label)`` items for an ``ImageDataset``
    (read from memory) or a ``FolderImages`` (read lazily)."""
    if isinstance(dataset, ImageDataset):
        return ArrayImages(dataset.images, dataset.labels)
    return dataset


def loader_workers(dataset: ImageDataset | FolderImages) -> int:
    """Default ``DataLoader`` worker processes: up to 4 to decode a folder's
    files, none for images already in memory."""
    return min(4, os.cpu_count() or 1) if isinstance(dataset, FolderImages) else 0
