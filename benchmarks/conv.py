"""Convolutional models (the server decodes them: no browser export): the
conv VAE's decode of one image and of a 30x30 grid, and its encode rate, at
64x64 RGB and 28x28 grey; the MLP VAE (fashion-mnist-vae-z2) measured the
same way, in the same run, is the baseline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from benchmarks.data import MODEL
from benchmarks.rows import Row, rate_row, row, timed
from explorer.model.checkpoint import load_checkpoint
from explorer.model.protocol import batched

CONV_SHAPES = {"64x64 RGB": (3, 64, 64), "28x28 grey": (1, 28, 28)}


def conv_model(
    shape: tuple[int, int, int], kind: str = "vae", latent: int = 16, gain: float = 1
):
    """A conv model as ``train --arch conv`` makes it (default channels and
    widths); random weights: the time of a decode does not depend on them.
    ``gain`` scales the decoder's weights, so that its image changes visibly
    with z (at initialisation it is a nearly uniform grey whatever z)."""
    from explorer.model.autoencoder import build_model
    from explorer.model.config import ModelConfig

    torch.manual_seed(0)
    config = ModelConfig(
        model_type=kind,
        latent_dim=latent,
        image_shape=shape,
        hidden=(256,),
        arch="conv",
        channels=(32, 32, 64, 64),
        dataset="bench",
    )
    model = build_model(config).eval().requires_grad_(False)
    for name, p in model.named_parameters():
        if name.startswith(("head.", "decoder.")) and name.endswith("weight"):
            p.mul_(gain)
    return model


@dataclass
class Speed:
    """Seconds per decode of one image and of a 30x30 grid, and encoded
    images per second."""

    one: list[float]
    grid: list[float]
    rate: list[float]


@dataclass
class Samples:
    mlp: Speed
    conv: dict[str, Speed]  # by CONV_SHAPES' label
    params: dict[str, int]  # the conv models' parameters, by label


def _dec(model, z):
    with torch.inference_mode():
        model.decode(z)


def _rate(model, x, repeats: int) -> list[float]:
    def run():
        with torch.inference_mode():
            for _, xb, _ in batched(model, x, None, 1024):
                model.encode(xb)

    return [len(x) / s for s in timed(run, max(2, repeats // 2))]


def measure(repeats: int, x28: torch.Tensor) -> Samples:
    """Args: x28: 28x28 grey images ``[N, 1, 28, 28]`` to encode (2,000 used)."""
    mlp = load_checkpoint(MODEL)
    g = np.linspace(-2, 2, 30)
    grid2 = torch.tensor(np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)).float()
    base = Speed(
        timed(lambda: _dec(mlp, torch.zeros(1, 2)), repeats * 20, 5),
        timed(lambda: _dec(mlp, grid2), repeats * 4, 2),
        _rate(mlp, x28[:2000], repeats),
    )
    conv, params = {}, {}
    for label, shape in CONV_SHAPES.items():
        model = conv_model(shape)
        z1 = torch.zeros(1, model.latent_dim)
        zg = torch.randn(
            900, model.latent_dim, generator=torch.Generator().manual_seed(0)
        )
        one = timed(lambda m=model, z=z1: _dec(m, z), repeats * 20, warmup=5)
        grid = timed(lambda m=model, z=zg: _dec(m, z), repeats, warmup=1)
        if shape == (1, 28, 28):
            x = x28[:2000]
        else:
            x = torch.rand(1000, *shape, generator=torch.Generator().manual_seed(0))
        conv[label] = Speed(one, grid, _rate(model, x, repeats))
        params[label] = sum(p.numel() for p in model.parameters())
    return Samples(base, conv, params)


def report(s: Samples) -> list[Row]:
    mlp_one, mlp_grid = np.median(s.mlp.one), np.median(s.mlp.grid)
    mlp_rate = np.median(s.mlp.rate)
    rows = []
    for label, c in s.conv.items():
        note = f"conv VAE, z=16, {s.params[label] / 1e6:.2f} M parameters, float32"
        rows += [
            row(
                f"conv decode one image ({label})",
                "ms",
                c.one,
                baseline=f"MLP VAE (28x28): {mlp_one * 1e3:.2f} ms "
                f"({np.median(c.one) / mlp_one:.1f}x)",
                note=note,
                scale=1e3,
            ),
            row(
                f"conv decode a 30x30 grid ({label})",
                "ms",
                c.grid,
                baseline=f"MLP VAE (28x28): {mlp_grid * 1e3:.1f} ms "
                f"({np.median(c.grid) / mlp_grid:.1f}x)",
                note=note,
                scale=1e3,
            ),
            rate_row(
                f"conv encode ({label})",
                "images/s",
                c.rate,
                baseline=f"MLP VAE (28x28): {mlp_rate:,.0f}/s "
                f"({mlp_rate / np.median(c.rate):.0f}x faster)",
                note=note + "; batches of 1,024; the p95 column is the 5th percentile",
            ),
        ]
    return rows
