"""How to train: the settings a run stores in ``training.json``, its state
between epochs, and its learning-rate schedule and validation split."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


class TrainingError(RuntimeError):
    """Training cannot go on (NaN loss, mismatched resume state...)."""


@dataclass
class TrainConfig:
    """How to train; stored in ``training.json`` so a resume can check it.

    Attributes:
        dataset: a built-in name or ``folder:<path>``.
        train_split: the split to train on.
        eval_split: the held-out split ``evaluate`` uses (never trained on).
        epochs: number of passes over the training images.
        batch_size: images per step, over all processes (the global batch).
        lr: Adam's peak learning rate (cosine decay to ``lr_min_ratio * lr``).
        lr_min_ratio: the final learning rate as a fraction of ``lr``.
        val_fraction: share of the training split held out for validation
            and best-checkpoint selection.
        seed: seeds the initial weights, the validation split, the shuffles
            and the noise.
        limit: use only the first ``limit`` training images (smoke tests).
    """

    dataset: str = "fashion-mnist"
    train_split: str = "train"
    eval_split: str = "test"
    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    lr_min_ratio: float = 0.05
    val_fraction: float = 0.05
    seed: int = 0
    limit: int | None = None


@dataclass
class TrainState:
    epochs_done: int = 0
    best_val: float = math.inf
    best_epoch: int = 0
    wall_time_s: float = 0.0
    history: list[dict] = field(default_factory=list)


def split_validation(
    n: int, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) indices of ``n`` items."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(fraction * n)) if fraction > 0 else 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def epoch_lr(cfg: TrainConfig, epoch: int) -> float:
    """Cosine decay from ``lr`` to ``lr * lr_min_ratio`` over the run."""
    lo = cfg.lr * cfg.lr_min_ratio
    return lo + 0.5 * (cfg.lr - lo) * (
        1 + math.cos(math.pi * epoch / max(cfg.epochs, 1))
    )
