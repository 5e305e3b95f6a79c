"""Training: seeded, resumable, keeps the best checkpoint by validation loss.

Each epoch draws its shuffle and its reparameterization noise from generators
seeded by (seed, epoch), and the full optimizer state is saved after every
epoch, so a run that is interrupted and resumed follows exactly the same path
as one that was not.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save as save_safetensors
from tqdm import tqdm

from explorer.checkpoint import (
    TRAINING_FILE,
    CheckpointError,
    read_tensors,
    save_checkpoint,
)
from explorer.data import ImageDataset, load_dataset
from explorer.fileio import atomic_write, write_json
from explorer.models import Autoencoder, ModelConfig, build_model, loss_terms

STATE_FILE = "train_state.safetensors"


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
        batch_size: images per step.
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


def _generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch * 101 + stream)


@torch.no_grad()
def evaluate_loss(
    model: Autoencoder,
    x: torch.Tensor,
    y: torch.Tensor | None,
    seed: int = 0,
    batch_size: int = 1000,
) -> dict[str, float]:
    """Mean loss terms (nats per image) over ``x`` with seeded noise."""
    was_training = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        yb = None if y is None else y[i : i + batch_size]
        terms = loss_terms(model(xb, yb, generator=g), xb, model.config)
        for k, v in zip(sums, (terms.total, terms.recon, terms.kl), strict=True):
            sums[k] += float(v) * len(xb)
    model.train(was_training)
    return {k: v / max(len(x), 1) for k, v in sums.items()}


# --- resumable state -------------------------------------------------------------


def _save_state(
    out: Path,
    model: Autoencoder,
    opt: torch.optim.Optimizer,
    cfg: TrainConfig,
    state: TrainState,
    extra: dict,
) -> None:
    tensors = {f"model.{k}": v.detach().clone() for k, v in model.state_dict().items()}
    sd = opt.state_dict()
    for idx, s in sd["state"].items():
        for name, t in s.items():
            tensors[f"opt.{idx}.{name}"] = torch.as_tensor(t).detach().clone()
    atomic_write(out / STATE_FILE, save_safetensors(tensors))
    record = {
        "train": asdict(cfg),
        "model": model.config.to_dict(),
        "state": asdict(state),
        "optimizer_param_groups": sd["param_groups"],
        "complete": state.epochs_done >= cfg.epochs,
        "torch": torch.__version__,
        **extra,
    }
    write_json(out / TRAINING_FILE, record)


def _load_state(
    out: Path, model: Autoencoder, opt: torch.optim.Optimizer, cfg: TrainConfig
) -> TrainState | None:
    record_path = out / TRAINING_FILE
    if not (out / STATE_FILE).is_file() or not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text())
    except ValueError as e:
        raise TrainingError(
            f"{record_path}: unreadable ({e}); delete the folder to restart"
        ) from e
    ours = {k: v for k, v in asdict(cfg).items() if k != "epochs"}
    theirs = {k: v for k, v in record.get("train", {}).items() if k != "epochs"}
    if ours != theirs or record.get("model") != model.config.to_dict():
        raise TrainingError(
            f"{out} holds a run with different settings; use another --out, "
            "or delete the folder to start over"
        )
    try:
        tensors = read_tensors(out / STATE_FILE)
    except CheckpointError as e:
        raise TrainingError(f"cannot resume: {e}") from e
    model.load_state_dict(
        {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")},
        strict=True,
    )
    opt_state: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, idx, name = k.split(".", 2)
            opt_state.setdefault(int(idx), {})[name] = v
    opt.load_state_dict(
        {"state": opt_state, "param_groups": record["optimizer_param_groups"]}
    )
    return TrainState(**record["state"])


# --- the loop --------------------------------------------------------------------


def train(
    model_config: ModelConfig,
    cfg: TrainConfig,
    out: str | Path,
    data_dir: str | Path | None = None,
    progress: bool = True,
    dataset: ImageDataset | None = None,
    verbose: bool = True,
) -> TrainState:
    """Trains (or resumes) a model and writes its checkpoint to ``out``.

    ``out`` receives ``config.json`` and ``model.safetensors`` (the best
    epoch by validation loss), ``training.json`` and the resumable state.
    Interrupting leaves the files of the last finished epoch intact.
    ``progress`` shows a tqdm bar per epoch; ``verbose`` prints a line per epoch.

    Raises:
        TrainingError: on a non-finite loss or a resume that does not match.
    """
    out = Path(out)
    if dataset is None:
        dataset = load_dataset(
            cfg.dataset,
            cfg.train_split,
            data_dir,
            model_config.image_shape[1:],
            model_config.image_shape[0],
        )
    if cfg.limit:
        dataset = dataset.subset(np.arange(min(cfg.limit, len(dataset))))
    if model_config.conditional and dataset.labels is None:
        raise TrainingError("a cvae needs labelled data (class sub-folders)")
    if tuple(dataset.image_shape) != tuple(model_config.image_shape):
        raise TrainingError(
            f"images are {dataset.image_shape} but the model expects "
            f"{model_config.image_shape}"
        )
    x_all, y_all = dataset.tensors()
    tr, va = split_validation(len(x_all), cfg.val_fraction, cfg.seed)
    x, xv = x_all[tr], x_all[va]
    y = None if y_all is None else y_all[tr]
    yv = None if y_all is None else y_all[va]
    if not model_config.conditional:
        y = yv = None

    torch.manual_seed(cfg.seed)
    model = build_model(model_config)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    state = _load_state(out, model, opt, cfg) or TrainState()
    extra = {
        "train_images": len(x),
        "val_images": len(xv),
        "dataset_images": len(x_all),
    }
    if state.epochs_done and verbose:
        print(f"resuming {out} after epoch {state.epochs_done}")

    model.train()
    n = len(x)
    for epoch in range(state.epochs_done, cfg.epochs):
        start = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = epoch_lr(cfg, epoch)
        order = torch.randperm(n, generator=_generator(cfg.seed, epoch, 0))
        noise = _generator(cfg.seed, epoch, 1)
        sums = np.zeros(3)
        bar = tqdm(
            range(0, n, cfg.batch_size),
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not progress,
            leave=False,
            mininterval=1.0,
        )
        for i in bar:
            idx = order[i : i + cfg.batch_size]
            xb = x[idx]
            yb = None if y is None else y[idx]
            terms = loss_terms(model(xb, yb, generator=noise), xb, model_config)
            if not torch.isfinite(terms.total):
                raise TrainingError(
                    f"loss became {terms.total.item()} in epoch {epoch + 1} at batch "
                    f"{i // cfg.batch_size}; the last good checkpoint in {out} "
                    "is kept. "
                    "Try a lower --lr."
                )
            opt.zero_grad(set_to_none=True)
            terms.total.backward()
            opt.step()
            batch = np.array([terms.total.item(), terms.recon.item(), terms.kl.item()])
            sums += batch * len(xb)
            bar.set_postfix(
                loss=f"{batch[0]:.1f}", recon=f"{batch[1]:.1f}", kl=f"{batch[2]:.2f}"
            )
        train_terms = sums / n
        val = evaluate_loss(model, xv, yv, seed=cfg.seed) if len(xv) else None
        seconds = time.perf_counter() - start
        state.epochs_done = epoch + 1
        state.wall_time_s += seconds
        val_loss = val["loss"] if val else float(train_terms[0])
        state.history.append(
            {
                "epoch": epoch + 1,
                "lr": epoch_lr(cfg, epoch),
                "train_loss": float(train_terms[0]),
                "train_recon": float(train_terms[1]),
                "train_kl": float(train_terms[2]),
                "val_loss": val["loss"] if val else None,
                "val_recon": val["recon"] if val else None,
                "val_kl": val["kl"] if val else None,
                "seconds": seconds,
            }
        )
        if val_loss < state.best_val:
            state.best_val, state.best_epoch = val_loss, epoch + 1
            save_checkpoint(model, out)
        _save_state(out, model, opt, cfg, state, extra)
        if verbose:
            v = (
                f"val {val['loss']:.2f} (recon {val['recon']:.2f}, kl {val['kl']:.2f})"
                if val
                else ""
            )
            tqdm.write(
                f"epoch {epoch + 1}/{cfg.epochs}: train {train_terms[0]:.2f} {v} "
                f"[{seconds:.1f}s]{' *best' if state.best_epoch == epoch + 1 else ''}"
            )
    return state
