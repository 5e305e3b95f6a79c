"""The one interface every model comes in through.

The explorer's own models implement it natively; a model it did not train (a
user's module, a pythae or a diffusers folder) gets an adapter in
``explorer.model.adapters`` that maps its conventions onto it. Every latent
operation (maps, clicks, sliders, interpolation, grids, prior samples,
measures, uploads) sees only this.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch

KINDS = ("ae", "vae", "cvae")


@dataclass
class Encoding:
    """The encoder's output.

    Attributes:
        mean: ``[B, D]``: the code (AE) or the posterior mean (VAE).
        logvar: ``[B, D]`` log-variance of q(z|x), or None for an AE.
    """

    mean: torch.Tensor
    logvar: torch.Tensor | None = None


@runtime_checkable
class LatentModel(Protocol):
    """What the explorer needs of a model.

    Attributes:
        name: the name shown on the page.
        kind: ``ae``, ``vae`` (its encoding has a log-variance) or ``cvae``
            (also takes the class labels ``y``).
        latent_dim: D, the size of a code.
        image_shape: ``(C, H, W)`` of the images it encodes and decodes.
        num_classes: the labels a ``cvae`` is conditioned on, else None.
        exportable: its decoder can be exported to run in the browser.
    """

    name: str
    kind: str
    latent_dim: int
    image_shape: tuple[int, int, int]
    num_classes: int | None
    exportable: bool

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Encoding:
        """Encodes images ``[B, C, H, W]`` in [0, 1] (a cvae also needs ``y``)."""
        ...

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Decodes codes ``[B, D]`` to images ``[B, C, H, W]`` in [0, 1]."""
        ...


def batched(
    model: LatentModel, x, y, batch_size: int
) -> Iterator[tuple[slice, object, object]]:
    """The one batching loop of inference: ``(rows, x[rows], y[rows])`` for
    consecutive chunks of at most ``batch_size`` images. ``x`` and ``y`` may be
    tensors or arrays (a store's memory map); ``y`` is passed on only to a
    conditional model, so the others ignore labels they do not use.
    """
    for i in range(0, len(x), batch_size):
        rows = slice(i, min(i + batch_size, len(x)))
        yield rows, x[rows], (y[rows] if model.num_classes else None)
