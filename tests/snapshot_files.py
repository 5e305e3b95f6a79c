"""Snapshot files written directly, for the replay's tests (the app and the
browser): the trainer's own writer (``explorer.training.snapshots.Recorder``)
fed with made-up frames, so a test needs no training run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from explorer.training.snapshots import Frame, Recorder

STEPS_PER_EPOCH = 100


def write_snapshots(
    folder: Path,
    steps: list[int],
    n: int,
    dim: int,
    vae: bool,
    seed: int = 0,
    classes: int = 10,
) -> np.ndarray:
    """Writes ``folder/snapshots.safetensors``: ``n`` points of ``dim``
    dimensions at ``steps`` (``STEPS_PER_EPOCH`` a epoch), spreading out from
    the origin with a seeded wobble, labels ``i % classes``; returns the
    means ``[S, n, dim]``."""
    rng = np.random.default_rng(seed)
    end = rng.normal(size=(n, dim)).astype(np.float32) * 3
    means = np.stack(
        [
            end * (k + 1) / len(steps) + rng.normal(size=(n, dim)) * 0.1
            for k in range(len(steps))
        ]
    ).astype(np.float32)
    labels = torch.arange(n) % classes
    rec = Recorder(
        torch.zeros(n, 1), labels, np.arange(n), steps, STEPS_PER_EPOCH, seed,
        {"dataset": "fashion-mnist", "split": "test"},
    )  # fmt: skip
    for k, s in enumerate(steps):
        rec.frames[s] = Frame(
            s, s / STEPS_PER_EPOCH, torch.from_numpy(means[k]),
            torch.zeros(n, dim) if vae else None, 500.0 / (k + 1),
            float(k + 1) if vae else 0.0,
        )  # fmt: skip
    rec.write(Path(folder))
    return means
