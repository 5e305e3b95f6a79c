"""Non-linear maps of a 16-D VAE's means: fit times (UMAP at each size,
t-SNE at the first; PCA as the baseline), the inverse per click, and on
held-out codes the round trip ``inverse(project(mu))``: its latent error and
what it does to the decoded image."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from benchmarks.data import map_dataset
from benchmarks.rows import Row, row, timed
from explorer.latent.space import encode_all
from explorer.model.checkpoint import load_checkpoint

MODEL = "fashion-mnist-vae-z16"
HELD = 1_000  # held-out codes for the round trips


@dataclass
class Fits:
    """At one size: PCA's fit and each other kind's (seconds)."""

    n: int
    pca: float
    seconds: dict[str, float]  # by kind


@dataclass
class Samples:
    source: str
    held: int
    first_fit: float  # seconds of the first UMAP fit in the process
    fits: list[Fits] = field(default_factory=list)
    clicks: dict[str, list[float]] = field(default_factory=dict)  # by kind
    clicks_n: int = 0  # the points of the map the clicks were timed on
    errors: dict[str, np.ndarray] = field(default_factory=dict)  # by kind
    mse: dict[str, np.ndarray] = field(default_factory=dict)  # by kind


def measure(data_dir: str | None, sizes=(10_000, 70_000)) -> Samples:
    from explorer.latent import maps

    model = load_checkpoint(MODEL)
    ds, source = map_dataset(data_dir)
    x, _ = ds.tensors()
    mu, _ = encode_all(model, x, None)
    order = np.random.default_rng(0).permutation(len(mu))
    held, pool = mu[order[:HELD]], mu[order[HELD:]]

    def decode(z: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model.decode(torch.as_tensor(z, dtype=torch.float32)).numpy()

    # umap-learn's numba kernels compile on the first fit in a process: that
    # once, on a small fit, as its own row; the fits below are warm
    t = time.perf_counter()
    maps.make_projection("umap", pool[:HELD])
    out = Samples(source, HELD, time.perf_counter() - t)
    # (a size above the codes there are is fitted on all of them)
    for n in dict.fromkeys(min(n, len(pool)) for n in sizes):
        t = time.perf_counter()
        maps.make_projection("pca", pool[:n])
        fit = Fits(n, time.perf_counter() - t, {})
        out.fits.append(fit)
        first = n == min(sizes[0], len(pool))
        kinds = ("umap", "tsne") if first else ("umap",)
        fitted = {"pca": maps.make_projection("pca", pool[:n])}
        for kind in kinds:
            t = time.perf_counter()
            fitted[kind] = maps.make_projection(kind, pool[:n])
            fit.seconds[kind] = time.perf_counter() - t
        if not first:
            continue
        lo, hi = fitted["umap"].coords.min(0), fitted["umap"].coords.max(0)
        clicks = np.random.default_rng(1).uniform(lo, hi, (50, 2))
        out.clicks_n = n
        for kind, proj in fitted.items():
            proj.inverse(clicks[:1])  # the triangulation, built once per map
            out.clicks[kind] = [
                s_
                for c in clicks
                for s_ in timed(lambda c=c, p=proj: p.inverse(c), 1, 0)
            ]
        direct = decode(held)
        for kind, proj in fitted.items():
            back = proj.inverse(proj.project(held))
            out.errors[kind] = maps.roundtrip_error(proj, held)
            out.mse[kind] = (
                ((decode(back) - direct) ** 2).reshape(len(held), -1).mean(1)
            )
    return out


def report(s: Samples) -> list[Row]:
    from explorer.latent.maps import LABELS

    rows = [
        row(
            f"UMAP first fit in a process, {s.held:,} points",
            "s",
            [s.first_fit],
            note="mostly numba compiling umap-learn's kernels, which each "
            "server process does once",
        )
    ]
    for fit in s.fits:
        rows += [
            row(
                f"{LABELS[kind]} fit, {fit.n:,} points",
                "s",
                [took],
                baseline=f"PCA: {fit.pca * 1e3:.0f} ms",
                note=f"{MODEL} means ({s.source}); umap-learn with a seed "
                "runs on one thread, 500 epochs up to 10,000 points and 200 "
                "above (its default); openTSNE on 2",
            )
            for kind, took in fit.seconds.items()
        ]
        if fit.n != s.clicks_n:
            continue
        rows.append(
            row(
                f"inverse of one click (UMAP map, {fit.n:,} points)",
                "ms",
                s.clicks["umap"],
                baseline=f"PCA: {np.median(s.clicks['pca']) * 1e3:.3f} ms; t-SNE: "
                f"{np.median(s.clicks['tsne']) * 1e3:.3f} ms",
                scale=1e3,
                note="barycentric in the Delaunay triangle under the click "
                "(SciPy), outside the hull the nearest code",
            )
        )
        rows += [
            row(
                f"round trip on held-out codes, {LABELS[kind]}: latent error",
                "ratio",
                list(err),
                note=f"|inverse(project(mu)) - mu| over the means' RMS spread, "
                f"{s.held:,} codes not fitted; decoded, against decoding "
                f"mu: MSE {np.median(s.mse[kind]):.4f} median, "
                f"{np.percentile(s.mse[kind], 95):.4f} p95 (pixels in [0, 1])",
            )
            for kind, err in s.errors.items()
        ]
    return rows
