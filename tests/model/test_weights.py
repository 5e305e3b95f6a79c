"""The shipped checkpoints: all present, loadable, and their figures reproducible."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from explorer import list_checkpoints, load_dataset, load_model
from explorer.cli import main
from explorer.latent.space import encode_all
from explorer.model.checkpoint import REPO_WEIGHTS
from explorer.training.evaluate import knn_accuracy, reconstruction_mse

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


def test_card_figures_of_a_shipped_checkpoint_recomputed_independently():
    """mnist-vae-z2's -ELBO, KL, MSE and 5-NN, recomputed here without
    ``explorer.training.evaluate`` (own sampling, own k-NN by brute force in NumPy) on
    the bundled MNIST splits, agree with its card within the card's error."""
    import torch.nn.functional as F

    from explorer import load_dataset, load_model

    model = load_model("mnist-vae-z2")
    card = json.loads((REPO_WEIGHTS / "mnist-vae-z2" / "metrics.json").read_text())
    x, y = load_dataset("mnist", "train5k").tensors()  # held out: trained on test
    tx, ty = load_dataset("mnist", "test").tensors()
    g = torch.Generator().manual_seed(12345)  # not evaluate's seed
    samples, recon_sum, recon_sq, kl_sum = 20, 0.0, 0.0, 0.0
    with torch.inference_mode():
        for i in range(0, len(x), 500):
            xb = x[i : i + 500]
            enc = model.encode(xb)
            mu, lv = enc.mean.double(), enc.logvar.double()
            # KL(N(mu, s^2) || N(0, 1)) = 1/2 sum(s^2 + mu^2 - 1 - log s^2)
            kl_sum += float((0.5 * (lv.exp() + mu**2 - 1 - lv).sum(1)).sum())
            per = torch.zeros(len(xb), dtype=torch.float64)
            per_sq = torch.zeros(len(xb), dtype=torch.float64)
            for _ in range(samples):
                eps = torch.randn(mu.shape, generator=g, dtype=torch.float64)
                z = (mu + (0.5 * lv).exp() * eps).float()
                logits = model.decode_logits(z)
                nll = F.binary_cross_entropy_with_logits(logits, xb, reduction="none")
                nll = nll.flatten(1).sum(1).double()
                per += nll
                per_sq += nll**2
            mean = per / samples
            recon_sum += float(mean.sum())
            recon_sq += float((per_sq / samples - mean**2).clamp_min(0).sum())
        n = len(x)
        kl, recon = kl_sum / n, recon_sum / n
        # standard error of the mean over images of each image's sample mean
        own_se = (recon_sq / n / samples / n) ** 0.5
        mse = float(((model.decode(model.encode(x).mean) - x) ** 2).mean())
        codes, train_codes = model.encode(x).mean.numpy(), model.encode(tx).mean.numpy()
    assert kl == pytest.approx(card["kl"], abs=1e-3)
    assert mse == pytest.approx(card["mse"], abs=1e-5)
    tolerance = 4 * (card["neg_elbo_se"] ** 2 + own_se**2) ** 0.5
    assert abs(recon + kl - card["neg_elbo"]) < tolerance, (recon + kl, tolerance)
    # 5-NN: majority vote of the 5 nearest training codes (ties: nearest first)
    near = np.concatenate(
        [
            np.argsort(
                ((c[:, None, :] - train_codes[None]) ** 2).sum(-1), 1, kind="stable"
            )[:, :5]
            for c in np.array_split(codes, 10)
        ]
    )
    votes = ty.numpy()[near]
    pred = np.array([np.bincount(v, minlength=10).argmax() for v in votes])
    acc = float((pred == y.numpy()).mean())
    assert acc == pytest.approx(card["knn5_acc"], abs=2e-3)


EMOJI = ("emoji-conv-vae-z16", "emoji-conv-cvae-z16")


@pytest.mark.parametrize("name", EMOJI)
def test_emoji_checkpoints_load_and_decode_colour(name):
    """The colour example's conv models (their data is made by
    ``latent-explorer emoji``, not shipped): loadable, 64x64 RGB, evaluated."""
    model = load_model(REPO_WEIGHTS / "emoji" / name)
    cfg, m = model.config, model.metrics
    assert (cfg.arch, tuple(cfg.image_shape), cfg.latent_dim) == (
        "conv",
        (3, 64, 64),
        16,
    )
    assert len(cfg.class_names) == 9 and "Smileys & Emotion" in cfg.class_names
    assert m["mse"] < m["pca"]["mse"] and m["knn5_acc"] > 0.5
    y = torch.arange(9) if model.num_classes else None
    with torch.no_grad():
        x = model.decode(torch.zeros(9, 16), y)
    assert x.shape == (9, 3, 64, 64) and x.std() > 0.05  # not a flat grey
    assert not list((REPO_WEIGHTS / "emoji").glob("*/train_state.safetensors"))
