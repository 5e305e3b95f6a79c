"""Images with optional labels, as stored (uint8), and the torch view that
streams them through a ``DataLoader``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.fileio import cache_dir  # noqa: F401 - re-exported
from explorer.problem import Problem

DATA_DIR_ENV = "EXPLORER_DATA_DIR"
FOLDER_PREFIX = "folder:"


class DatasetError(Problem, RuntimeError):
    """A dataset could not be found, fetched, verified or parsed."""

    MESSAGES = {
        "unknown": "unknown dataset {name!r}; choose from {choices}",
        "not_builtin": "{name} is not a built-in dataset; to explore your own "
        "images, encode them into a store: {command}",
        "no_split": "{name} has no split {split!r}; choose from {choices}",
        "counts": "{name}/{split}: {images} images but {labels} labels",
        "idx_short": "{path}: too short for an IDX header ({size} bytes)",
        "idx_magic": "{path}: bad IDX magic number {found}, expected {magic}",
        "idx_size": "{path}: IDX header declares shape {shape} ({want} bytes) but "
        "the file holds {size} bytes (truncated or corrupt)",
        "gzip": "{path}: not a complete gzip file ({reason})",
        "md5": "{path}: checksum mismatch (md5 of file {got}, of content {raw}; "
        "expected {want} or {want_raw})",
        "download": "could not download {name} from {url}: {reason}",
        "not_published": "{file} of {name} is not published for download; put "
        "it in one of: {places}",
        "not_here": "{file} of {name} is not on this machine; put it in one of: "
        "{places}",
        "downloads": "no download of {file} of {name} worked: {reasons}",
        "no_folder": "{path}: no such folder",
        "folder_split": "a folder dataset has splits all, train and test, not "
        "{split!r}",
        "no_images": "{path}: no images found",
        "bad_image": "{path}: not a readable image ({reason}); remove it from the "
        "folder",
        "unreadable_image": "{path}: not a readable image ({reason})",
        "integrity": "{path}: unsupported integrity {algo!r}",
        "sha512": "{path}: checksum mismatch (sha512 {got}..., expected "
        "{want}...); the file is corrupt or not the published package",
        "package": "{path}: not the {package} package ({reason})",
        "array_shape": "images must be [N, C, H, W]; got shape {shape}",
        "array_range": "float images must be in [0, 1]",
        "label_count": "{labels} labels for {images} images",
        "store": "{name}: {reason}",
    }


@dataclass
class ImageDataset:
    """Images with optional labels, as stored (uint8).

    Attributes:
        images: uint8 array ``[N, C, H, W]``.
        labels: int64 array ``[N]``, or None for unlabelled data.
        class_names: one name per label value.
        name: the dataset's name (``mnist``, ``folder:/path``...).
        split: which split this is.
    """

    images: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    name: str
    split: str

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Returns images as float ``[N, C, H, W]`` in [0, 1] and labels ``[N]``."""
        x = torch.from_numpy(self.images.astype(np.float32)).div_(255.0)
        y = None if self.labels is None else torch.from_numpy(self.labels.copy())
        return x, y

    def subset(self, index: np.ndarray, split: str | None = None) -> ImageDataset:
        labels = None if self.labels is None else self.labels[index]
        return ImageDataset(
            self.images[index], labels, self.class_names, self.name, split or self.split
        )


def concatenate(parts: list[ImageDataset]) -> ImageDataset:
    """One dataset of several splits, in order (all must share shape and classes)."""
    first = parts[0]
    labels = None
    if all(p.labels is not None for p in parts):
        labels = np.concatenate([p.labels for p in parts])
    return ImageDataset(
        np.concatenate([p.images for p in parts]),
        labels,
        first.class_names,
        first.name,
        "+".join(p.split for p in parts),
    )


class ArrayImages(torch.utils.data.Dataset):
    """A torch view of uint8 images ``[N, C, H, W]`` (in memory or memory-mapped)
    and their labels; batches are read with one slice (``__getitems__``)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = torch.from_numpy(np.array(self.images[i])).float().div_(255.0)
        return x, -1 if self.labels is None else int(self.labels[i])

    def __getitems__(self, index: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = np.asarray(index)
        x = torch.from_numpy(np.asarray(self.images[index])).float().div_(255.0)
        y = (
            torch.full((len(index),), -1, dtype=torch.long)
            if self.labels is None
            else torch.from_numpy(np.asarray(self.labels[index], dtype=np.int64))
        )
        return x, y


def collate_batch(batch):
    """``DataLoader`` collate: a ``__getitems__`` batch as is, else stacked."""
    if isinstance(batch, tuple):
        return batch
    return torch.utils.data.default_collate(batch)
