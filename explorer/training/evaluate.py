"""Held-out evaluation of a checkpoint; writes ``metrics.json``."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

from explorer.data.load import load_dataset
from explorer.fileio import read_json, write_json
from explorer.latent.measures import ACTIVE_THRESHOLD, dimension_report
from explorer.latent.space import encode_all
from explorer.model.autoencoder import Autoencoder
from explorer.model.checkpoint import (
    METRICS_FILE,
    TRAINING_FILE,
    load_checkpoint,
    resolve,
)
from explorer.model.loss import kl_divergence, reconstruction_nll
from explorer.model.protocol import batched

KNN_K = 5
LOG_2PI = math.log(2 * math.pi)


class EvaluationError(ValueError):
    """The requested evaluation would be invalid (e.g. on training images)."""


@torch.no_grad()
def elbo_terms(
    model: Autoencoder,
    x: torch.Tensor,
    y: torch.Tensor | None,
    samples: int = 50,
    seed: int = 0,
    batch_size: int = 1000,
) -> tuple[float, float, float]:
    """Reconstruction term E_q[-log p(x|z)] and KL, nats per image.

    Returns:
        The mean reconstruction term over ``x`` (``samples`` posterior samples
        per image), the mean closed-form KL, and the Monte-Carlo standard
        error of the first (from each image's variance over its samples; the
        KL is exact). An AE decodes its code once, with no error.
    """
    g = torch.Generator().manual_seed(seed)
    recon, kl, var = 0.0, 0.0, 0.0
    s = samples if model.config.variational else 1
    for _, xb, yb in batched(model, x, y, batch_size):
        enc = model.encode(xb, yb)
        per = torch.stack(
            [
                reconstruction_nll(
                    model.decode_logits(model.reparameterize(enc, generator=g), yb),
                    xb,
                    model.config,
                )
                for _ in range(s)
            ]
        )  # [S, B]
        recon += float(per.mean(0).sum())
        if s > 1:
            var += float(per.var(0).sum()) / s
        if enc.logvar is not None:
            kl += float(kl_divergence(enc.mean, enc.logvar).sum())
    n = len(x)
    return recon / n, kl / n, var**0.5 / n


@torch.no_grad()
def importance_weighted_nll(
    model: Autoencoder,
    x: torch.Tensor,
    y: torch.Tensor | None,
    k: int = 1000,
    seed: int = 0,
    chunk: int = 10,
) -> np.ndarray:
    """-log p(x) bounded with K importance samples (Burda et al. 2015, Eq. 8).

    Returns:
        ``[N]`` upper bounds on -log p(x) (conditional on y for a cvae), nats.
    """
    if not model.config.variational:
        raise EvaluationError("an AE defines no density p(x)")
    g = torch.Generator().manual_seed(seed)
    out = []
    for _, xb, yb in batched(model, x, y, chunk):  # xb: [b, C, H, W]
        b = len(xb)
        enc = model.encode(xb, yb)
        std = torch.exp(0.5 * enc.logvar)
        eps = torch.randn((k, b, model.config.latent_dim), generator=g)
        z = enc.mean + std * eps  # [K, b, D]
        log_q = -0.5 * (eps.pow(2) + enc.logvar + LOG_2PI).sum(-1)  # [K, b]
        log_prior = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
        yk = None if yb is None else yb.repeat(k)
        logits = model.decode_logits(z.reshape(k * b, -1), yk)
        log_px_z = -reconstruction_nll(
            logits, xb.repeat(k, 1, 1, 1), model.config
        ).view(k, b)
        log_w = log_px_z + log_prior - log_q
        out.append(-(torch.logsumexp(log_w, 0) - math.log(k)))
    return torch.cat(out).numpy()


def iw_subset(total: int, n: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``n`` of ``total`` images."""
    return np.sort(np.random.default_rng(seed).permutation(total)[:n])


@torch.no_grad()
def reconstruction_mse(
    model: Autoencoder, x: torch.Tensor, y: torch.Tensor | None, batch_size: int = 2000
) -> float:
    """Mean squared error per pixel of the decoded posterior means."""
    total = 0.0
    for _, xb, yb in batched(model, x, y, batch_size):
        total += float((model.decode(model.encode(xb, yb).mean, yb) - xb).pow(2).sum())
    return total / x.numel()


def knn_accuracy(
    train_codes: np.ndarray,
    train_labels: np.ndarray,
    codes: np.ndarray,
    labels: np.ndarray,
) -> float:
    clf = KNeighborsClassifier(n_neighbors=KNN_K).fit(train_codes, train_labels)
    return float((clf.predict(codes) == labels).mean())


def pca_baseline(
    train_x: np.ndarray,
    train_labels: np.ndarray | None,
    x: np.ndarray,
    labels: np.ndarray | None,
    dim: int,
) -> dict:
    """MSE per pixel and 5-NN accuracy of a ``dim``-component PCA (flattened images)."""
    pca = PCA(n_components=dim, random_state=0).fit(train_x)
    codes = pca.transform(x)
    recon = np.clip(pca.inverse_transform(codes), 0.0, 1.0)
    out = {"dim": dim, "mse": float(((recon - x) ** 2).mean())}
    if labels is not None and train_labels is not None:
        out["knn5_acc"] = knn_accuracy(
            pca.transform(train_x), train_labels, codes, labels
        )
    return out


def evaluate_checkpoint(
    path_or_name: str | Path,
    split: str | None = None,
    data_dir: str | Path | None = None,
    iw_samples: int = 1000,
    iw_images: int = 1000,
    seed: int = 0,
    write: bool = True,
) -> dict:
    """Computes the held-out metrics of a checkpoint and writes ``metrics.json``.

    The evaluation split must not be the one the checkpoint was trained on.
    """
    folder = resolve(path_or_name)
    model = load_checkpoint(folder)
    cfg = model.config
    record = read_json(folder / TRAINING_FILE) or {}
    train_cfg = record.get("train", {})
    dataset = train_cfg.get("dataset", cfg.dataset)
    train_split = train_cfg.get("train_split", "train")
    split = split or train_cfg.get("eval_split", "test")
    if split == train_split:
        raise EvaluationError(
            f"{folder.name} was trained on {dataset}/{train_split}; "
            "evaluate it on another split"
        )
    size, channels = cfg.image_shape[1:], cfg.image_shape[0]
    ds = load_dataset(dataset, split, data_dir, size, channels)
    train_ds = load_dataset(dataset, train_split, data_dir, size, channels)
    x, y = ds.tensors()
    tx, ty = train_ds.tensors()
    start = time.perf_counter()

    recon, kl, recon_se = elbo_terms(model, x, y, seed=seed)
    mean, logvar = encode_all(model, x, y)
    train_mean, _ = encode_all(model, tx, ty)
    metrics: dict = {
        "checkpoint": folder.name,
        "model_type": cfg.model_type,
        "latent_dim": cfg.latent_dim,
        "likelihood": cfg.likelihood,
        "gaussian_sigma": cfg.gaussian_sigma,
        "beta": cfg.beta,
        "eval_data": {"dataset": dataset, "split": split, "images": len(ds)},
        "train_data": {
            "dataset": dataset,
            "split": train_split,
            "images": record.get("train_images"),
            "val_images": record.get("val_images"),
        },
        "epochs": record.get("state", {}).get("epochs_done"),
        "best_epoch": record.get("state", {}).get("best_epoch"),
        "seed": train_cfg.get("seed"),
        "train_wall_time_s": record.get("state", {}).get("wall_time_s"),
        "recon": recon,
        "kl": kl if cfg.variational else None,
        "neg_elbo": recon + kl if cfg.variational else None,
        "neg_elbo_se": recon_se if cfg.variational else None,
        "mse": reconstruction_mse(model, x, y),
    }
    if cfg.variational:
        # A seeded random subset: a split may be ordered by class.
        n = min(iw_images, len(x))
        sub = torch.from_numpy(iw_subset(len(x), n, seed))
        iw = importance_weighted_nll(
            model, x[sub], y[sub] if y is not None else None, iw_samples, seed
        )
        metrics.update(iw_nll=float(iw.mean()), iw_samples=iw_samples, iw_images=n)
        metrics["kl_per_dim"] = [float(v) for v in dimension_report(mean, logvar).kl]
    else:
        metrics.update(iw_nll=None, iw_samples=None, iw_images=None)
    var = mean.var(0)
    metrics["posterior_mean_var"] = [float(v) for v in var]
    metrics["active_units"] = int((var > ACTIVE_THRESHOLD).sum())
    if ds.labels is not None and train_ds.labels is not None:
        metrics["knn5_acc"] = knn_accuracy(train_mean, train_ds.labels, mean, ds.labels)
    else:
        metrics["knn5_acc"] = None
    metrics["pca"] = pca_baseline(
        tx.flatten(1).numpy(),
        train_ds.labels,
        x.flatten(1).numpy(),
        ds.labels,
        cfg.latent_dim,
    )
    metrics["eval_time_s"] = time.perf_counter() - start
    metrics["torch"] = torch.__version__
    if write:
        write_json(folder / METRICS_FILE, metrics)
    return metrics
