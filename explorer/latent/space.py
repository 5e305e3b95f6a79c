"""A model together with its encoded dataset: what one latent map shows."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from explorer.data.dataset import ImageDataset
from explorer.fileio import atomic_write, exclusive
from explorer.latent.measures import DimensionReport, dimension_report
from explorer.latent.neighbours import NearestData, typical_distance
from explorer.latent.projection import Projection, SliderBasis
from explorer.model.protocol import LatentModel, batched
from explorer.problem import Problem

MAX_SLIDERS = 8


class SpaceError(Problem, ValueError):
    """A model's codes of a dataset that cannot be made."""

    MESSAGES = {
        "labels": "{model} is conditional: give the class labels",
        "image_shape": "{model} expects images of shape {want}, the dataset has "
        "{shape}",
        "no_labels": "{model} is conditional but the dataset has no labels",
    }


@dataclass
class LatentSpace:
    """A checkpoint's view of a dataset. Shared between sessions: read-only.

    Attributes:
        name: the checkpoint's name.
        model: the model, in eval mode.
        z: ``[N, D]`` posterior means (codes for an AE) of every image.
        logvar: ``[N, D]`` or None (AE).
        coords: ``[N, 2]`` map coordinates of ``z``.
        projection: latent <-> map.
        basis: the sliders' directions.
        nearest: nearest-data-point index over ``z`` (built on first use).
        spacing: the median distance between neighbouring data points
            (measured on first use, with ``nearest``).
        dims: per-dimension KL and active units (a VAE), else None.
    """

    name: str
    model: LatentModel
    z: np.ndarray
    logvar: np.ndarray | None
    coords: np.ndarray
    projection: Projection
    basis: SliderBasis
    nearest: NearestData
    dims: DimensionReport | None = None

    @cached_property
    def spacing(self) -> float:
        return typical_distance(self.z, nearest=self.nearest)

    @property
    def latent_dim(self) -> int:
        return self.z.shape[1]

    @property
    def conditional(self) -> bool:
        return self.model.kind == "cvae"

    def _classes(self, labels: np.ndarray | None, n: int) -> torch.Tensor | None:
        """A conditional model's class for each of ``n`` inputs, else None."""
        if not self.conditional:
            return None
        if labels is None:
            raise SpaceError("labels", model=self.name)
        return torch.as_tensor(np.broadcast_to(labels, (n,)).copy(), dtype=torch.long)

    def decode(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Decodes ``z`` ``[M, D]`` to uint8 images ``[M, C, H, W]``."""
        z_t = torch.tensor(np.atleast_2d(z), dtype=torch.float32)
        y = self._classes(labels, len(z_t))
        with torch.inference_mode():
            x = self.model.decode(z_t, y)
        # clipped: a model's own pixels may stray a rounding step outside [0, 1]
        return (x.numpy().clip(0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)

    def encode(
        self, images: np.ndarray, labels: np.ndarray | None = None
    ) -> np.ndarray:
        """The posterior means ``[M, D]`` (an AE's codes) of uint8 images
        ``[M, C, H, W]``."""
        x = torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0)
        y = self._classes(labels, len(x))
        with torch.inference_mode():
            return self.model.encode(x, y).mean.double().numpy()

    def from_map(self, xy: np.ndarray) -> np.ndarray:
        """The latent point ``[D]`` under map coordinates ``[2]``."""
        return self.projection.inverse(np.asarray(xy, dtype=np.float64))[0]

    def to_map(self, z: np.ndarray) -> np.ndarray:
        """Map coordinates ``[M, 2]`` of latent points ``[M, D]``."""
        return self.projection.project(np.asarray(z, dtype=np.float64))

    def nearest_point(self, z: np.ndarray) -> tuple[int, float]:
        """Index of, and latent distance to, the data point nearest ``z``."""
        dist, idx = self.nearest.query(z[None])
        return int(idx[0, 0]), float(dist[0, 0])


@torch.inference_mode()
def encode_all(
    model: LatentModel, x: torch.Tensor, y: torch.Tensor | None, batch_size: int = 2000
) -> tuple[np.ndarray, np.ndarray | None]:
    """Posterior means ``[N, D]`` and log-variances ``[N, D]`` (None for an AE),
    encoded in batches; labels are used by a conditional model only."""
    means, logvars = [], []
    for _, xb, yb in batched(model, x, y, batch_size):
        enc = model.encode(xb, yb)
        means.append(enc.mean)
        if enc.logvar is not None:
            logvars.append(enc.logvar)
    mean = torch.cat(means).numpy()
    return mean, (torch.cat(logvars).numpy() if logvars else None)


@torch.inference_mode()
def encode_space(
    name: str, model: LatentModel, dataset: ImageDataset, cache: Path | None = None
) -> LatentSpace:
    """Encodes every image of ``dataset`` and prepares the map and sliders.

    With ``cache`` (a folder named by the weights and the data), the codes
    are read from it when an earlier run wrote them there, else written to
    it: a model encodes a dataset once, not at every start.
    """
    if cache is None:
        return build_space(name, model, *_encode(name, model, dataset))
    codes = _read_codes(cache, len(dataset))
    if codes is None:
        # One process encodes (several serve the page); the others wait, read.
        with exclusive(cache / "done"):
            codes = _read_codes(cache, len(dataset))
            if codes is None:
                codes = _encode(name, model, dataset)
                write_codes(cache, *codes)
    return build_space(name, model, *codes)


def _read_codes(cache: Path, n: int):
    """``(mean, logvar)`` written by an earlier run, or None (none yet, a
    damaged one, or another number of images)."""
    try:
        mean = np.load(cache / "mean.npy", mmap_mode="r", allow_pickle=False)
        lv = cache / "logvar.npy"
        logvar = None
        if lv.is_file():
            logvar = np.load(lv, mmap_mode="r", allow_pickle=False)
        if (cache / "done").is_file() and len(mean) == n:
            return mean, logvar
    except (OSError, ValueError):
        pass
    return None


def _encode(name: str, model: LatentModel, dataset: ImageDataset):
    x, y = dataset.tensors()
    if tuple(model.image_shape) != dataset.image_shape:
        raise SpaceError(
            "image_shape",
            model=name,
            want=tuple(model.image_shape),
            shape=dataset.image_shape,
        )
    if model.num_classes and y is None:
        raise SpaceError("no_labels", model=name)
    return encode_all(model, x, y, batch_size=5000)


def write_codes(folder: Path, mean: np.ndarray, logvar: np.ndarray | None) -> None:
    """Saves codes as .npy files (no pickles), each written whole then
    renamed, and a ``done`` mark last; a cache that cannot be written is
    skipped (the codes are in memory)."""
    try:
        for name, a in (("mean", mean), ("logvar", logvar)):
            if a is not None:
                buf = io.BytesIO()
                np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
                atomic_write(folder / f"{name}.npy", buf.getvalue())
        atomic_write(folder / "done", b"")
    except OSError:
        pass


def build_space(
    name: str, model: LatentModel, mean: np.ndarray, logvar: np.ndarray | None
) -> LatentSpace:
    """The map and sliders of already encoded images (``[N, D]`` means, and a
    VAE's log-variances): from ``encode_space``, or read from a store."""
    z = np.asarray(mean, dtype=np.float64)
    logvar = None if logvar is None else np.asarray(logvar, dtype=np.float32)
    projection = Projection.fit(z)
    dims = None if logvar is None else dimension_report(z, logvar.astype(np.float64))
    if dims is not None and z.shape[1] > 2:
        # A VAE's sliders: its dimensions by KL, so the ones it uses come first
        # and collapsed ones (KL ~ 0, decoded the same everywhere) last or not at all.
        order = dims.order[:MAX_SLIDERS]
        labels = tuple(
            f"z[{d}] (KL {dims.kl[d]:.2f}{'' if dims.active[d] else ', collapsed'})"
            for d in order
        )
        basis = SliderBasis.along(z, order, labels)
    else:
        basis = SliderBasis.fit(z)
    nearest = NearestData(z)
    return LatentSpace(
        name=name,
        model=model,
        z=z,
        logvar=logvar,
        coords=projection.project(z).astype(np.float32),
        projection=projection,
        basis=basis,
        nearest=nearest,
        dims=dims,
    )
