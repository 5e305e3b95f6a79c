"""The shipped checkpoints: all present, loadable, and their figures reproducible."""

from __future__ import annotations

import pytest
import torch

from explorer import list_checkpoints, load_dataset, load_model
from explorer.checkpoint import REPO_WEIGHTS
from explorer.cli import main
from explorer.evaluate import knn_accuracy, reconstruction_mse
from explorer.space import encode_all

SHIPPED = [
    f"{ds}-{m}-z{z}"
    for ds in ("fashion-mnist", "mnist")
    for m, z in (("ae", 2), ("vae", 2), ("ae", 16), ("vae", 16), ("cvae", 2))
]


def test_all_ten_checkpoints_are_shipped():
    names = {p.name for p in list_checkpoints(REPO_WEIGHTS)}
    assert set(SHIPPED) <= names
    assert not list(REPO_WEIGHTS.glob("*/train_state.safetensors"))


def test_model_card_is_up_to_date():
    assert main(["model-card", "--weights", str(REPO_WEIGHTS), "--check"]) == 0


@pytest.mark.parametrize("name", SHIPPED)
def test_checkpoint_loads_and_its_mse_is_reproducible(name):
    model = load_model(REPO_WEIGHTS / name)
    cfg, m = model.config, model.metrics
    assert f"{cfg.dataset}-{cfg.model_type}-z{cfg.latent_dim}" == name
    assert len(cfg.class_names) == 10
    assert m["eval_data"]["split"] != m["train_data"]["split"]
    ds = load_dataset(cfg.dataset, m["eval_data"]["split"])
    assert len(ds) == m["eval_data"]["images"]
    x, y = ds.tensors()
    with torch.no_grad():
        mse = reconstruction_mse(model, x, y)
    assert mse == pytest.approx(m["mse"], rel=1e-4)


@pytest.mark.parametrize("name", [n for n in SHIPPED if n.startswith("mnist")])
def test_mnist_knn_accuracy_is_reproducible(name):
    """MNIST trains on a bundled split, so its 5-NN figure can be recomputed here."""
    model = load_model(REPO_WEIGHTS / name)
    m = model.metrics
    train = load_dataset("mnist", m["train_data"]["split"])
    held = load_dataset("mnist", m["eval_data"]["split"])
    codes, _ = encode_all(model, *held.tensors())
    train_codes, _ = encode_all(model, *train.tensors())
    acc = knn_accuracy(train_codes, train.labels, codes, held.labels)
    assert acc == pytest.approx(m["knn5_acc"], abs=1e-9)
