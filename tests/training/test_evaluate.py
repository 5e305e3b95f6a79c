"""Evaluation metrics, the CLI end to end, and the model card."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer import load_dataset, load_model
from explorer.cli import main
from explorer.training.beta import MEMBER
from explorer.training.evaluate import (
    elbo_terms,
    importance_weighted_nll,
    knn_accuracy,
    pca_baseline,
)
from explorer.training.modelcard import render, write_model_card

TRAIN = [
    "train",
    "--dataset",
    "mnist",
    "--train-split",
    "train5k",
    "--batch-size",
    "32",
    "--hidden",
    "128",
    "--epochs",
    "5",
    "--lr",
    "3e-3",
    "--no-progress",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small MNIST VAE and AE trained through the CLI on the bundled data."""
    root = tmp_path_factory.mktemp("weights")
    for model in ("vae", "ae"):
        assert (
            main([*TRAIN, "--model", model, "--out", str(root / f"mnist-{model}-z2")])
            == 0
        )
    return root


# How clearly a model must beat one that learned nothing about its input. The
# small models trained above score about 0.75 of the mean image's MSE, 0.83 of
# its -log p(x) and 5-NN 0.46 (MNIST test: majority class 0.11); the shipped
# checkpoints do better on all three.
MSE_SHARE = 0.85  # MSE at most this share of the mean image's
NLL_SHARE = 0.9  # Bernoulli -ELBO at most this share of the mean image's -log p(x)
KNN_OVER = 0.2  # 5-NN accuracy at least this far above the majority class's share


def chance_levels(dataset: str, split: str) -> dict:
    """Figures of models that ignore the image, from the split itself: the MSE
    and the Bernoulli -log p(x) of its mean image (the best constant decoder
    for either), and the share of its most common class (the best constant
    classifier)."""
    ds = load_dataset(dataset, split)
    x, _ = ds.tensors()
    mean = x.mean(0, keepdim=True).expand_as(x)
    nll = F.binary_cross_entropy(mean.clamp(1e-6, 1 - 1e-6), x, reduction="sum")
    return {
        "mse": float(((x - mean) ** 2).mean()),
        "nll": float(nll) / len(x),
        "majority": float(np.bincount(ds.labels).max() / len(ds.labels)),
    }


def at_chance(m: dict, chance: dict) -> list[str]:
    """The figures of a ``metrics.json`` that do not clearly beat ``chance``
    (empty when all do). The 5-NN is left out for a CVAE, whose latent is
    meant not to hold the class, and the -ELBO for a Gaussian decoder, whose
    densities are on another scale."""
    failed = []
    if not m["mse"] <= MSE_SHARE * chance["mse"]:
        failed.append("mse")
    if m["model_type"] != "cvae" and not (
        m["knn5_acc"] >= chance["majority"] + KNN_OVER
    ):
        failed.append("knn5_acc")
    bernoulli = m.get("likelihood", "bernoulli") == "bernoulli"
    if m.get("neg_elbo") is not None and bernoulli:
        if not m["neg_elbo"] <= NLL_SHARE * chance["nll"]:
            failed.append("neg_elbo")
    return failed


def test_evaluate_writes_all_metrics(trained):
    folder = trained / "mnist-vae-z2"
    assert (
        main(["evaluate", str(folder), "--iw-samples", "50", "--iw-images", "40"]) == 0
    )
    m = json.loads((folder / "metrics.json").read_text())
    assert m["eval_data"] == {"dataset": "mnist", "split": "test", "images": 10000}
    assert m["train_data"]["split"] == "train5k" and m["train_data"]["images"] == 4750
    assert m["epochs"] == 5 and m["seed"] == 0 and m["train_wall_time_s"] > 0
    assert m["neg_elbo"] == pytest.approx(m["recon"] + m["kl"])
    chance = chance_levels("mnist", "test")
    assert at_chance(m, chance) == [] and m["knn5_acc"] <= 1
    assert m["iw_samples"] == 50 and m["iw_images"] == 40
    assert 0 < m["iw_nll"] < chance["nll"]
    assert 0 <= m["active_units"] <= 2 and len(m["kl_per_dim"]) == 2
    # a 2-component PCA reconstructs better than the mean image (0 components)
    assert m["pca"]["dim"] == 2 and 0 < m["pca"]["mse"] < chance["mse"]
    assert sum(m["kl_per_dim"]) == pytest.approx(m["kl"], rel=1e-3)


def test_evaluate_ae_has_no_density(trained):
    folder = trained / "mnist-ae-z2"
    assert main(["evaluate", str(folder), "--iw-samples", "5", "--iw-images", "5"]) == 0
    m = json.loads((folder / "metrics.json").read_text())
    assert m["kl"] is None and m["neg_elbo"] is None and m["iw_nll"] is None
    assert at_chance(m, chance_levels("mnist", "test")) == []


def test_a_model_that_ignores_its_input_fails_the_chance_check(trained):
    """``at_chance`` rejects the trained VAE with its decoder made to draw the
    dataset's mean image whatever the code, and with its encoder made to give
    every image the same code; each scored by the evaluation's functions."""
    from explorer.latent.space import encode_all
    from explorer.training.evaluate import reconstruction_mse

    test, train = load_dataset("mnist", "test"), load_dataset("mnist", "train5k")
    (x, _), (tx, _) = test.tensors(), train.tensors()
    mean_logits = torch.logit(x.mean(0).flatten().clamp(1e-6, 1 - 1e-6))
    chance = chance_levels("mnist", "test")
    out = {}
    for name, part in (("mean image", "decoder"), ("one code", "encoder")):
        model = load_model(trained / "mnist-vae-z2")
        last = getattr(model, part)[-1]  # the Linear giving logits or codes
        with torch.no_grad():
            last.weight.zero_()
            if part == "decoder":
                last.bias.copy_(mean_logits)
        recon, kl, _ = elbo_terms(model, x, None, samples=4)
        codes, _ = encode_all(model, x, None)
        train_codes, _ = encode_all(model, tx, None)
        out[name] = {
            "model_type": "vae",
            "mse": reconstruction_mse(model, x, None),
            "knn5_acc": knn_accuracy(train_codes, train.labels, codes, test.labels),
            "neg_elbo": recon + kl,
        }
    assert out["mean image"]["mse"] == pytest.approx(chance["mse"], rel=1e-4)
    # (its encoder is the trained one: its codes still sort the digits)
    assert at_chance(out["mean image"], chance) == ["mse", "neg_elbo"]
    assert at_chance(out["one code"], chance) == ["mse", "knn5_acc", "neg_elbo"]


def test_shipped_checkpoints_clearly_beat_chance():
    from explorer import list_checkpoints
    from explorer.model.checkpoint import REPO_WEIGHTS

    chance, collapsed = {}, []
    for folder in list_checkpoints(REPO_WEIGHTS):
        m = json.loads((folder / "metrics.json").read_text())
        ev = m["eval_data"]
        key = (ev["dataset"], ev["split"])
        chance[key] = chance.get(key) or chance_levels(*key)
        if MEMBER.match(m["checkpoint"]) and m["active_units"] == 0:
            # the β series' last model: collapsed onto the prior on purpose,
            # so at chance by design (every image gets the same code)
            collapsed.append(m["checkpoint"])
            assert at_chance(m, chance[key]) == ["mse", "knn5_acc", "neg_elbo"]
            continue
        assert at_chance(m, chance[key]) == [], m["checkpoint"]
    assert collapsed == ["fashion-mnist-vae-z2-b100"]


def test_evaluate_refuses_the_training_split(trained, capsys):
    assert main(["evaluate", str(trained / "mnist-vae-z2"), "--split", "train5k"]) == 2
    assert (
        "trained on mnist/train5k; evaluate it on another split"
        in capsys.readouterr().err
    )


def test_model_card_from_metrics(trained, capsys):
    for name in ("mnist-vae-z2", "mnist-ae-z2"):
        main(["evaluate", str(trained / name), "--iw-samples", "5", "--iw-images", "5"])
    assert main(["model-card", "--weights", str(trained), "--check"]) == 1
    assert main(["model-card", "--weights", str(trained)]) == 0
    assert main(["model-card", "--weights", str(trained), "--check"]) == 0
    card = (trained / "README.md").read_text()
    m = json.loads((trained / "mnist-vae-z2" / "metrics.json").read_text())
    assert (
        "| `mnist-vae-z2` | mlp | Bernoulli | mnist/train5k (4750+250) | test (10000) |"
        in card
    )
    assert f"{m['mse']:.4f}" in card and f"{m['knn5_acc']:.3f}" in card


def test_model_card_target_verdicts():
    base = {
        "latent_dim": 2,
        "train_data": {"dataset": "fashion-mnist", "split": "train"},
        "eval_data": {"split": "test", "images": 10000},
        "iw_nll": None,
        "pca": {"mse": 0.04, "knn5_acc": 0.5},
        "active_units": 2,
    }
    good = {
        **base,
        "checkpoint": "fashion-mnist-vae-z2",
        "model_type": "vae",
        "recon": 240.0,
        "kl": 6.0,
        "neg_elbo": 246.0,
        "mse": 0.02,
        "knn5_acc": 0.8,
    }
    bad = {
        **base,
        "checkpoint": "fashion-mnist-ae-z2",
        "model_type": "ae",
        "recon": 240.0,
        "kl": None,
        "neg_elbo": None,
        "mse": 0.03,
        "knn5_acc": 0.7,
    }
    card = render([good, bad])
    assert "| `fashion-mnist-vae-z2` | recon + KL (nats) | <= 250 | 246 | yes |" in card
    assert (
        "| `fashion-mnist-ae-z2` | MSE per pixel | <= 0.024 | 0.03 "
        "| **no** (by 0.006) |" in card
    )
    assert "| `fashion-mnist-vae-z16` | 5-NN accuracy | >= 0.85 | - | - |" in card
    close = {**good, "neg_elbo": 249.99, "neg_elbo_se": 0.02}
    card = render([close])
    assert (
        "| <= 250 | 249.99 ± 0.02 | yes, within 2 standard errors (±0.020) of the "
        "bound |" in card
    )
    assert "| 249.99 ± 0.02 |" in card
    assert "| 249.990 ± 0.004 |" in render(
        [{**good, "neg_elbo": 249.99, "neg_elbo_se": 0.004}]
    )


def test_iw_subset_is_random_sorted_and_seeded():
    from explorer.training.evaluate import iw_subset

    a = iw_subset(5000, 1000, seed=0)
    assert len(set(a)) == 1000 and np.all(np.diff(a) > 0)
    assert a.max() > 4000 and a.min() < 1000  # not the first 1000 of a sorted split
    assert np.array_equal(a, iw_subset(5000, 1000, seed=0))


def test_importance_weighted_bound_is_tighter_than_the_elbo(trained):
    model = load_model(trained / "mnist-vae-z2")
    from explorer.data.builtin import load_builtin

    x, _ = load_builtin("mnist", "test").tensors()
    x = x[:30]
    recon, kl, _ = elbo_terms(model, x, None, samples=200)
    iw1 = importance_weighted_nll(model, x, None, k=1, seed=0)
    iw500 = importance_weighted_nll(model, x, None, k=500, seed=0)
    # K = 1 is a one-sample ELBO estimate; the bound tightens with K.
    assert iw1.mean() == pytest.approx(recon + kl, rel=0.05)
    assert iw500.mean() < recon + kl
    assert np.all(np.isfinite(iw500))


def test_knn_and_pca_baseline_on_known_data():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [10, 10], [0, 10]])
    labels = rng.integers(0, 3, 300)
    codes = centers[labels] + rng.normal(0, 0.5, (300, 2))
    assert knn_accuracy(codes[:200], labels[:200], codes[200:], labels[200:]) == 1.0
    # Images on a 2-D plane are reconstructed exactly by a 2-component PCA.
    basis = rng.uniform(0, 0.1, (2, 16))
    images = 0.3 + rng.uniform(0, 1, (120, 2)) @ basis
    out = pca_baseline(images[:100], labels[:100], images[100:], labels[100:120], 2)
    assert out["mse"] < 1e-12
    assert pca_baseline(images[:100], None, images[100:], None, 1)["mse"] > 1e-6


def test_write_model_card_skips_broken_metrics(tmp_path):
    from explorer import save_checkpoint
    from explorer.model.autoencoder import build_model
    from explorer.model.config import ModelConfig

    torch.manual_seed(0)
    save_checkpoint(
        build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(4,))), tmp_path / "a"
    )
    (tmp_path / "a" / "metrics.json").write_text("{broken")
    text = write_model_card(tmp_path)
    assert "| `a` |" not in text and (tmp_path / "README.md").read_text() == text


def test_elbo_standard_error_matches_the_scatter_over_seeds(trained):
    from explorer.data.builtin import load_builtin

    model = load_model(trained / "mnist-vae-z2")
    x, _ = load_builtin("mnist", "test").tensors()
    x = x[:40]
    runs = [elbo_terms(model, x, None, samples=4, seed=s) for s in range(12)]
    recons = np.array([r[0] for r in runs])
    se = np.mean([r[2] for r in runs])
    assert 0.4 * se < recons.std(ddof=1) < 2.5 * se
    assert all(r[1] == runs[0][1] for r in runs)  # the KL is exact
    _, _, se_many = elbo_terms(model, x, None, samples=64, seed=0)
    assert se_many < se / 2
    ae = load_model(trained / "mnist-ae-z2")
    assert elbo_terms(ae, x, None)[1:] == (0.0, 0.0)


def test_model_card_explains_a_missed_target_only_while_missed():
    from explorer.training.modelcard import MISSED

    base = {
        "latent_dim": 2, "train_data": {"dataset": "fashion-mnist", "split": "train"},
        "eval_data": {"split": "test", "images": 10000}, "iw_nll": None,
        "pca": {"mse": 0.04, "knn5_acc": 0.5}, "active_units": 2, "model_type": "ae",
        "checkpoint": "fashion-mnist-ae-z2", "recon": 240.0, "kl": None,
        "neg_elbo": None, "mse": 0.02,
    }  # fmt: skip
    why = MISSED[("fashion-mnist-ae-z2", "5-NN accuracy")]
    assert why in render([{**base, "knn5_acc": 0.70}])
    assert why not in render([{**base, "knn5_acc": 0.80}])


def test_model_card_sets_each_conv_net_beside_its_mlp(tmp_path):
    from explorer import save_checkpoint
    from explorer.model.autoencoder import build_model
    from explorer.model.config import ModelConfig

    base = {
        "latent_dim": 2, "train_data": {"dataset": "fashion-mnist", "split": "train"},
        "eval_data": {"split": "test", "images": 10000}, "iw_nll": None,
        "pca": {"mse": 0.04, "knn5_acc": 0.5}, "active_units": 2, "model_type": "ae",
        "likelihood": "bernoulli", "recon": 240.0, "kl": None, "neg_elbo": None,
        "mse": 0.02, "knn5_acc": 0.72,
    }  # fmt: skip
    torch.manual_seed(0)
    for folder, arch, figures in (
        ("fashion-mnist-ae-z2", "mlp", {}),
        ("fashion-mnist-conv-ae-z2", "conv", {"recon": 238.0, "mse": 0.019,
                                              "knn5_acc": 0.75}),
        ("compared/fashion-mnist-conv-ae-z2b", "conv", {"recon": 245.0,
                                                        "knn5_acc": 0.70}),
    ):  # fmt: skip
        config = ModelConfig(image_shape=(1, 28, 28), hidden=(4,), arch=arch)
        save_checkpoint(build_model(config), tmp_path / folder)
        m = {**base, **figures, "checkpoint": folder.split("/")[-1]}
        (tmp_path / folder / "metrics.json").write_text(json.dumps(m))
    card = write_model_card(tmp_path, write=False)
    assert "| `fashion-mnist-conv-ae-z2` | conv | Bernoulli |" in card
    assert (
        "| `fashion-mnist-conv-ae-z2` | `fashion-mnist-ae-z2` | 238.0 / 240.0 "
        "| 0.0190 / 0.0200 | 0.750 / 0.720 | recon, MSE, 5-NN | yes |" in card
    )
    assert (
        "| `fashion-mnist-conv-ae-z2b` | `fashion-mnist-ae-z2` | 245.0 / 240.0 "
        "| 0.0200 / 0.0200 | 0.700 / 0.720 | none | no |" in card
    )
    assert "not shipped, conv nets in full" in card
