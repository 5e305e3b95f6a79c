"""A checkpoint's training history (``explorer.training.history``): the
per-epoch series as ``training.json`` records them, and nothing for a folder
without one."""

from __future__ import annotations

import json
import math

from explorer.model.checkpoint import TRAINING_FILE
from explorer.training.history import SERIES, read_history


def _write(folder, record) -> None:
    (folder / TRAINING_FILE).write_text(json.dumps(record))


def test_the_series_are_the_epochs_rows_in_order(tmp_path):
    rows = [
        {"epoch": 2, "lr": 0.5, "train_loss": 3.0, "val_loss": 4.0, "train_kl": 1.0},
        {"epoch": 1, "lr": 1.0, "train_loss": 5.0, "val_loss": 6.0, "train_kl": 2.0},
        "not a row",
        {"epoch": "3"},  # not an epoch's record
    ]
    _write(
        tmp_path, {"train": {"epochs": 10}, "state": {"best_epoch": 2, "history": rows}}
    )
    h = read_history(tmp_path)
    assert h.epochs == [1, 2] and h.best_epoch == 2 and h.epochs_planned == 10
    assert h.series["train_loss"] == [5.0, 3.0] and h.series["lr"] == [1.0, 0.5]
    assert h.series["train_kl"] == [2.0, 1.0]
    assert "val_recon" not in h.series  # (not recorded)
    assert set(h.series) <= set(SERIES)


def test_a_missing_value_is_nan_and_a_stray_best_epoch_is_dropped(tmp_path):
    rows = [{"epoch": 1, "val_loss": None}, {"epoch": 2, "val_loss": 1.5}]
    _write(tmp_path, {"state": {"best_epoch": 7, "history": rows}})
    h = read_history(tmp_path)
    assert math.isnan(h.series["val_loss"][0]) and h.series["val_loss"][1] == 1.5
    assert h.best_epoch is None and h.epochs_planned is None


def test_no_history_without_a_record_of_an_epoch(tmp_path):
    assert read_history(tmp_path) is None  # no training.json
    (tmp_path / TRAINING_FILE).write_text("{not json")
    assert read_history(tmp_path) is None
    _write(tmp_path, {"state": {"history": []}})
    assert read_history(tmp_path) is None


def test_a_shipped_checkpoint_has_its_hundred_epochs(tmp_path):
    from explorer.fileio import weights_dir

    folder = weights_dir() / "fashion-mnist-vae-z2"
    h = read_history(folder)
    raw = json.loads((folder / TRAINING_FILE).read_text())["state"]
    assert h.epochs == [r["epoch"] for r in raw["history"]]
    assert h.series["val_loss"] == [r["val_loss"] for r in raw["history"]]
    assert (
        h.best_epoch
        == raw["best_epoch"]
        == min(raw["history"], key=lambda r: r["val_loss"])["epoch"]
    )
