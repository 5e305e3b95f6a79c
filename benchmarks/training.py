"""Training: one epoch of vae-z2 on the 60,000 Fashion-MNIST training images."""

from __future__ import annotations

import math
import tempfile

from benchmarks.data import MODEL
from benchmarks.rows import Row, row
from explorer.data.dataset import DatasetError
from explorer.data.load import load_dataset
from explorer.model.checkpoint import load_checkpoint

NAME = "train vae-z2, one epoch"


def measure(data_dir: str | None, epochs: int) -> list[float] | None:
    """Seconds per epoch; None without the training split."""
    from explorer.model.config import ModelConfig
    from explorer.training.config import TrainConfig
    from explorer.training.train import train

    model = load_checkpoint(MODEL)
    try:
        ds = load_dataset("fashion-mnist", "train", data_dir, download=False)
    except DatasetError:
        return None
    cfg = ModelConfig(**{**model.config.to_dict(), "dataset": "fashion-mnist"})
    with tempfile.TemporaryDirectory() as tmp:
        state = train(
            cfg,
            TrainConfig(epochs=epochs, seed=0),
            tmp,
            dataset=ds,
            progress=False,
            verbose=False,
        )
    return [h["seconds"] for h in state.history]


def report(secs: list[float] | None) -> list[Row]:
    if secs is None:
        note = "skipped: the Fashion-MNIST train split is not on this machine"
        return [Row(NAME, "s", math.nan, math.nan, 0, note=note)]
    note = "60,000 training images (57,000 steps + 3,000 validation)"
    return [row(NAME, "s", secs, note=note)]
