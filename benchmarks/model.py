"""The model's speed: encoding the map's images (float32, bfloat16 as the
baseline) and decoding one image and a 30x30 grid (fashion-mnist-vae-z2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from benchmarks.data import MODEL
from benchmarks.rows import Row, rate_row, row, timed
from explorer.model.checkpoint import load_checkpoint
from explorer.model.protocol import batched


@dataclass
class Encoding:
    """Images per second over ``n`` images, in float32 and in bfloat16, and
    the bfloat16 means' mean deviation over the float32 means' spread."""

    n: int
    source: str
    rate: list[float]
    bf16: list[float]
    deviation: float


@dataclass
class Decoding:
    """Seconds per decode of one image, and of a 30x30 grid."""

    one: list[float]
    grid: list[float]


@dataclass
class Samples:
    encoding: Encoding
    decoding: Decoding


def measure_encoding(x: torch.Tensor, repeats: int, source: str) -> Encoding:
    """Args: x: the images ``[N, C, H, W]``; ``source`` names them."""
    model = load_checkpoint(MODEL)

    def encode(m=model):
        with torch.inference_mode():
            for _, xb, _ in batched(m, x, None, 10_000):
                m.encode(xb)

    def encode_bf16():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            encode()

    rate = [len(x) / s for s in timed(encode, repeats)]
    bf16 = [len(x) / s for s in timed(encode_bf16, repeats)]
    with torch.inference_mode():
        exact = model.encode(x[:5000]).mean
        with torch.autocast("cpu", dtype=torch.bfloat16):
            approx = model.encode(x[:5000]).mean.float()
    dev = float((exact - approx).abs().mean() / exact.std())
    return Encoding(len(x), source, rate, bf16, dev)


def measure_decoding(repeats: int) -> Decoding:
    model = load_checkpoint(MODEL)
    z1 = torch.zeros(1, model.config.latent_dim)
    g = np.linspace(-2, 2, 30)
    zg = torch.tensor(
        np.stack(np.meshgrid(g, g), -1).reshape(-1, 2), dtype=torch.float32
    )

    def dec(z):
        with torch.inference_mode():
            model.decode(z)

    one = timed(lambda: dec(z1), repeats * 20, warmup=5)
    grid = timed(lambda: dec(zg), repeats * 4, warmup=2)
    return Decoding(one, grid)


def measure(x: torch.Tensor, repeats: int, source: str) -> Samples:
    return Samples(measure_encoding(x, repeats, source), measure_decoding(repeats))


def encoding_rows(s: Encoding) -> list[Row]:
    med, bf16 = float(np.median(s.rate)), np.median(s.bf16)
    baseline = (
        f"bfloat16: {bf16:,.0f}/s ({bf16 / med:.1f}x), "
        f"mean deviation {s.deviation:.1%} of the latent's spread"
    )
    return [
        rate_row(
            f"encode {s.n:,} images (vae-z2)",
            "images/s",
            s.rate,
            ">= 100,000",
            lambda m, p: m >= 100_000,
            baseline=baseline,
            note=f"float32 (what the app uses); {s.source}; the p95 column is the "
            "5th percentile of the rate",
        )
    ]


def decoding_rows(s: Decoding) -> list[Row]:
    return [
        row(
            "decode one image",
            "ms",
            s.one,
            "<= 1 ms",
            lambda m, p: m <= 1.0,
            scale=1e3,
        ),
        row(
            "decode a 30x30 grid",
            "ms",
            s.grid,
            "<= 20 ms",
            lambda m, p: m <= 20,
            scale=1e3,
        ),
    ]


def report(s: Samples) -> list[Row]:
    return encoding_rows(s.encoding) + decoding_rows(s.decoding)
