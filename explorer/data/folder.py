"""Image folders: one sub-folder per class, or flat (unlabelled); read into
memory (``load_folder``) or lazily, one file per item (``FolderImages``)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from explorer.data.dataset import FOLDER_PREFIX, DatasetError, ImageDataset
from explorer.data.images import to_8bit


def load_image(path: Path, size: tuple[int, int], channels: int) -> np.ndarray:
    """Reads one image file as uint8 ``[C, H, W]`` of the given size and channels.

    Transparent pixels are composited on black, so an RGBA digit on a clear
    background reads like MNIST.

    Raises:
        OSError, ValueError or PIL errors when the file is not a readable image.
    """
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode in ("RGBA", "LA", "PA") or (
            im.mode == "P" and "transparency" in im.info
        ):
            rgba = im.convert("RGBA")
            im = Image.alpha_composite(
                Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba
            )
        im = to_8bit(im).convert("L" if channels == 1 else "RGB")
        im = im.resize((size[1], size[0]), Image.Resampling.LANCZOS)
        arr = np.asarray(im, dtype=np.uint8)
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def _list_folder(root: Path) -> tuple[list[Path], np.ndarray | None, tuple[str, ...]]:
    """The files of an image folder (sorted), their labels and the class names:
    one sub-folder per class, or a flat folder (unlabelled)."""
    if not root.is_dir():
        raise DatasetError("no_folder", path=root)
    classes = tuple(
        sorted(
            p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
    )
    if classes:
        pairs = [
            (f, i)
            for i, c in enumerate(classes)
            for f in sorted((root / c).rglob("*"))
            if f.is_file() and not f.name.startswith(".")
        ]
    else:
        pairs = [
            (f, -1)
            for f in sorted(root.iterdir())
            if f.is_file() and not f.name.startswith(".")
        ]
    files = [f for f, _ in pairs]
    labels = np.array([c for _, c in pairs], dtype=np.int64) if classes else None
    return files, labels, classes


def _split_index(n: int, split: str, test_fraction: float, seed: int) -> np.ndarray:
    """The sorted indices of a folder's seeded ``train``/``test`` split, or all."""
    if split == "all":
        return np.arange(n)
    if split not in ("train", "test"):
        raise DatasetError("folder_split", split=split)
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(test_fraction * n)) if n > 1 else 0
    return np.sort(order[:n_test] if split == "test" else order[n_test:])


class FolderImages(torch.utils.data.Dataset):
    """An image folder read lazily: one file is decoded per item, when asked.

    Only the file list is held in memory, so a ``DataLoader`` with workers can
    stream a folder of any size. Files are listed as by ``load_folder`` (same
    order and classes; the same seeded split when every file is an image). A
    file that cannot be decoded raises
    ``DatasetError`` naming it (a lazy reader cannot skip it without changing
    every later index).

    Items are ``(image, label)``: float ``[C, H, W]`` in [0, 1] and an int64
    label (-1 for an unlabelled folder).
    """

    def __init__(
        self,
        root: str | Path,
        size: tuple[int, int] = (28, 28),
        channels: int = 1,
        split: str = "all",
        test_fraction: float = 0.1,
        seed: int = 0,
    ):
        self.root = Path(root)
        files, labels, self.class_names = _list_folder(self.root)
        if not files:
            raise DatasetError("no_images", path=self.root)
        index = _split_index(len(files), split, test_fraction, seed)
        self.files = [files[i] for i in index]
        self.labels = None if labels is None else labels[index]
        self.size, self.channels, self.split = tuple(size), channels, split
        self.name = f"{FOLDER_PREFIX}{self.root}"

    def __len__(self) -> int:
        return len(self.files)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels, *self.size)  # type: ignore[return-value]

    def read(self, i: int) -> np.ndarray:
        """The ``i``-th image as stored: uint8 ``[C, H, W]``."""
        from PIL import Image, UnidentifiedImageError

        path = self.files[i]
        try:
            return load_image(path, self.size, self.channels)
        except (
            OSError,
            ValueError,
            SyntaxError,
            UnidentifiedImageError,
            Image.DecompressionBombError,
        ) as e:
            raise DatasetError("bad_image", path=path, reason=e) from e

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = torch.tensor(self.read(i), dtype=torch.float32).div_(255.0)
        return x, -1 if self.labels is None else int(self.labels[i])


def load_folder(
    root: str | Path,
    size: tuple[int, int] = (28, 28),
    channels: int = 1,
    split: str = "all",
    test_fraction: float = 0.1,
    seed: int = 0,
) -> ImageDataset:
    """Loads a folder of images into memory: one sub-folder per class, or flat
    (unlabelled). For folders larger than memory use ``FolderImages``.

    Args:
        root: the folder.
        size: output ``(H, W)``.
        channels: 1 (grey) or 3 (RGB).
        split: ``all``, or ``train``/``test`` for a seeded random split.
        test_fraction: the share of images in ``test``.
        seed: seed of the split.

    Returns:
        The dataset. Files that are not readable images are skipped, with one
        warning that counts them.
    """
    folder = FolderImages(root, size, channels, "all")
    images, keep = [], []
    for i in range(len(folder)):
        try:
            images.append(folder.read(i))
            keep.append(i)
        except DatasetError:
            pass
    skipped = len(folder) - len(keep)
    if skipped:
        warnings.warn(
            f"{folder.root}: skipped {skipped} file(s) that are not readable images",
            stacklevel=2,
        )
    if not images:
        raise DatasetError("no_images", path=folder.root)
    labels = None if folder.labels is None else folder.labels[keep]
    ds = ImageDataset(np.stack(images), labels, folder.class_names, folder.name, "all")
    if split == "all":
        return ds
    return ds.subset(_split_index(len(ds), split, test_fraction, seed), split)
