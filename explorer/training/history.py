"""A checkpoint's training history, as its ``training.json`` records it: one
row per epoch (the learning rate; the training and validation loss and their
two terms, reconstruction and KL) and the best epoch (the lowest validation
loss, whose weights the checkpoint keeps). What the app's Training tab draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from explorer.fileio import read_json
from explorer.model.checkpoint import TRAINING_FILE

# the columns of an epoch's row, as train.py writes them
SERIES = (
    "train_loss",
    "val_loss",
    "train_recon",
    "val_recon",
    "train_kl",
    "val_kl",
    "lr",
)


@dataclass(frozen=True)
class History:
    """Per-epoch series of one run.

    Attributes:
        epochs: the epoch numbers (1, 2, ...).
        series: each name of ``SERIES`` the run recorded -> one value per
            epoch (NaN where an epoch has none: a run without validation).
        best_epoch: the epoch whose weights were kept, or None.
        epochs_planned: the run's ``--epochs`` (more than ``epochs`` when it
            was stopped early), or None.
    """

    epochs: list[int]
    series: dict[str, list[float]]
    best_epoch: int | None
    epochs_planned: int | None


def _number(v) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def read_history(folder: str | Path) -> History | None:
    """The history in ``folder``'s ``training.json``; None when there is no
    such file, or it records no epoch (a model the explorer did not train,
    or one saved before its first epoch ended). Rows that are not records of
    an epoch are left out."""
    record = read_json(Path(folder) / TRAINING_FILE)
    if not isinstance(record, dict):
        return None
    state = record.get("state") or {}
    rows = [
        r
        for r in state.get("history") or []
        if isinstance(r, dict) and isinstance(r.get("epoch"), int)
    ]
    if not rows:
        return None
    rows.sort(key=lambda r: r["epoch"])
    series = {
        name: [_number(r.get(name)) for r in rows]
        for name in SERIES
        if any(name in r for r in rows)
    }
    best = state.get("best_epoch")
    epochs = [r["epoch"] for r in rows]
    planned = (record.get("train") or {}).get("epochs")
    return History(
        epochs,
        series,
        best if isinstance(best, int) and best in epochs else None,
        planned if isinstance(planned, int) else None,
    )
