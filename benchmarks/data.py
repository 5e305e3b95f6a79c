"""The data the suites measure on: the 70,000-point map's images, and a
million made from them."""

from __future__ import annotations

import math

import numpy as np
import torch

from explorer.data.dataset import DatasetError, ImageDataset, concatenate
from explorer.data.load import load_dataset

MAP_POINTS = 70_000
MODEL = "fashion-mnist-vae-z2"  # the model the model rows and baselines measure


class ShiftedCopies(torch.utils.data.Dataset):
    """``n`` images made from ``base``: image i is base image ``i % len(base)``
    shifted by up to 2 pixels each way (seeded; the first copy unshifted), with
    its label. A stand-in for a million-image dataset, made on the fly."""

    def __init__(self, base: ImageDataset, n: int):
        self.base, self.n = base, n
        self.class_names = base.class_names
        self.image_shape = base.image_shape
        self.labels = base.labels[np.arange(n) % len(base)]
        self.name = f"{base.name} x{n / len(base):.1f} shifted"
        self.shifts = np.random.default_rng(0).integers(-2, 3, (n, 2)).astype(np.int8)
        self.shifts[: len(base)] = 0

    def __len__(self) -> int:
        return self.n

    def __getitems__(self, index: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = np.asarray(index)
        images = self.base.images[index % len(self.base)].copy()
        shifts = self.shifts[index]
        for dy, dx in np.unique(shifts, axis=0):
            if dy or dx:
                rows = np.all(shifts == (dy, dx), axis=1)
                images[rows] = np.roll(images[rows], (int(dy), int(dx)), axis=(2, 3))
        return torch.from_numpy(images), torch.from_numpy(self.labels[index])


def map_dataset(data_dir: str | None) -> tuple[ImageDataset, str]:
    """70,000 Fashion-MNIST images (test + train), or the test split tiled."""
    test = load_dataset("fashion-mnist", "test", data_dir)
    try:
        train = load_dataset("fashion-mnist", "train", data_dir, download=False)
        return concatenate([test, train]), "fashion-mnist test + train"
    except DatasetError:
        reps = math.ceil(MAP_POINTS / len(test))
        tiled = test.subset(np.tile(np.arange(len(test)), reps)[:MAP_POINTS])
        return (
            tiled,
            "fashion-mnist test split tiled 7x (train split not on this machine)",
        )
