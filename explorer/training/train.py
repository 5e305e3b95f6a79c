"""Training: seeded, resumable, distributed, keeps the best checkpoint by
validation loss.

Each epoch draws its shuffle (``DistributedSampler``, seeded by seed + epoch)
and its reparameterization noise from seeded generators, and the full
optimizer state is saved after every epoch, so a run that is interrupted and
resumed follows exactly the same path as one that was not.

The same ``train`` runs in one process or in many under ``torchrun``
(PyTorch's ``DistributedDataParallel``: gloo on CPU, nccl on GPU). The batch
size is the global batch, split evenly between processes; every process draws
the noise of the whole batch and takes its own rows, so N processes compute
the same loss and gradients as one (up to floating-point summation order).
Only rank 0 validates, writes checkpoints and prints.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import save as save_safetensors
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, Subset
from tqdm import tqdm

from explorer.checkpoint import (
    TRAINING_FILE,
    CheckpointError,
    read_tensors,
    save_checkpoint,
)
from explorer.data import (
    FolderImages,
    ImageDataset,
    collate_batch,
    load_dataset,
    loader_workers,
    torch_view,
)
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


def _generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch * 101 + stream)


@dataclass(frozen=True)
class Distributed:
    """Where this process stands in a (possibly one-process) run."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> Distributed:
    """Joins the process group ``torchrun`` describes in the environment
    (``WORLD_SIZE`` > 1): nccl with one GPU per process when there are GPUs,
    else gloo on CPU. Without ``torchrun``: one process (a GPU if there is one).
    """
    cuda = torch.cuda.is_available()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world <= 1:
        return Distributed(device=device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size(), device)


def shutdown_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@torch.no_grad()
def evaluate_loss(
    model: Autoencoder,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    seed: int = 0,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Mean loss terms (nats per image) over ``(images, labels)`` batches,
    with seeded noise."""
    was_training = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
    n = 0
    for xb, yb in batches:
        xb = xb.to(device) if device else xb
        yb = yb.to(xb.device) if model.config.conditional else None
        terms = loss_terms(model(xb, yb, generator=g), xb, model.config)
        for k, v in zip(sums, (terms.total, terms.recon, terms.kl), strict=True):
            sums[k] += float(v) * len(xb)
        n += len(xb)
    model.train(was_training)
    return {k: v / max(n, 1) for k, v in sums.items()}


# --- resumable state -------------------------------------------------------------


def _save_state(
    out: Path,
    model: Autoencoder,
    opt: torch.optim.Optimizer,
    cfg: TrainConfig,
    state: TrainState,
    extra: dict,
) -> None:
    tensors = {
        f"model.{k}": v.detach().cpu().clone() for k, v in model.state_dict().items()
    }
    sd = opt.state_dict()
    for idx, s in sd["state"].items():
        for name, t in s.items():
            tensors[f"opt.{idx}.{name}"] = torch.as_tensor(t).detach().cpu().clone()
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


def _resume(
    out: Path,
    model: Autoencoder,
    opt: torch.optim.Optimizer,
    cfg: TrainConfig,
    where: Distributed,
) -> TrainState:
    """Rank 0 reads the saved state; every other process receives it from rank 0
    (so resuming needs no shared file system), or the same error."""
    if where.world_size == 1:
        return _load_state(out, model, opt, cfg) or TrainState()
    payload: list = [None]
    if where.is_main:
        try:
            state = _load_state(out, model, opt, cfg) or TrainState()
            payload = [(state, model.state_dict(), opt.state_dict(), None)]
        except TrainingError as e:
            payload = [(None, None, None, str(e))]
    # Our own processes' objects (pickled by torch.distributed in memory), never
    # a file.
    dist.broadcast_object_list(payload, src=0, device=_comm_device(where))
    state, model_sd, opt_sd, error = payload[0]
    if error:
        raise TrainingError(error)
    if not where.is_main:
        model.load_state_dict(model_sd)
        opt.load_state_dict(opt_sd)
    return state


def _comm_device(where: Distributed) -> torch.device | None:
    return where.device if where.device.type == "cuda" else None


def train(
    model_config: ModelConfig,
    cfg: TrainConfig,
    out: str | Path,
    data_dir: str | Path | None = None,
    progress: bool = True,
    dataset: ImageDataset | FolderImages | None = None,
    verbose: bool = True,
    workers: int | None = None,
) -> TrainState:
    """Trains (or resumes) a model and writes its checkpoint to ``out``.

    ``out`` receives ``config.json`` and ``model.safetensors`` (the best
    epoch by validation loss), ``training.json`` and the resumable state.
    Interrupting leaves the files of the last finished epoch intact.
    ``progress`` shows a tqdm bar per epoch on a terminal (none when
    the output is piped); ``verbose`` prints a line per epoch.
    ``dataset`` may be in memory (``ImageDataset``) or read lazily from disk
    (``FolderImages``), by ``workers`` loader processes (default: none for data
    in memory, up to 4 for a folder). Under ``torchrun`` every process calls
    this with the same arguments; see the module's docstring.

    Raises:
        TrainingError: on a non-finite loss, a resume that does not match, or
            a batch size the processes cannot share evenly.
    """
    out = Path(out)
    where = init_distributed()
    if dataset is None:
        dataset = load_dataset(
            cfg.dataset,
            cfg.train_split,
            data_dir,
            model_config.image_shape[1:],
            model_config.image_shape[0],
        )
    if model_config.conditional and (
        dataset.labels is None or len(dataset.class_names) < 2
    ):
        raise TrainingError(
            "a cvae needs labelled data with at least 2 classes (one sub-folder "
            f"per class); {dataset.name} has {len(dataset.class_names)}"
        )
    if tuple(dataset.image_shape) != tuple(model_config.image_shape):
        raise TrainingError(
            f"images are {dataset.image_shape} but the model expects "
            f"{model_config.image_shape}"
        )
    if cfg.batch_size % where.world_size:
        raise TrainingError(
            f"the batch size {cfg.batch_size} is the global batch: it must divide "
            f"evenly between the {where.world_size} processes"
        )
    if workers is None:
        workers = loader_workers(dataset)
    data = torch_view(dataset)
    n_all = min(cfg.limit, len(data)) if cfg.limit else len(data)
    tr, va = split_validation(n_all, cfg.val_fraction, cfg.seed)
    train_set, val_set = Subset(data, tr.tolist()), Subset(data, va.tolist())
    sampler = DistributedSampler(
        train_set,
        num_replicas=where.world_size,
        rank=where.rank,
        shuffle=True,
        seed=cfg.seed,
    )
    loader_args = {
        "num_workers": workers,
        "collate_fn": collate_batch,
        "persistent_workers": workers > 0,
        "pin_memory": where.device.type == "cuda",
    }
    loader = DataLoader(
        train_set,
        batch_size=cfg.batch_size // where.world_size,
        sampler=sampler,
        **loader_args,
    )
    val_loader = DataLoader(val_set, batch_size=1000, **loader_args)

    torch.manual_seed(cfg.seed)
    model = build_model(model_config).to(where.device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    state = _resume(out, model, opt, cfg, where)
    net = model
    if where.world_size > 1:
        net = DistributedDataParallel(
            model, device_ids=[where.device] if where.device.type == "cuda" else None
        )
    extra = {
        "train_images": len(tr),
        "val_images": len(va),
        "dataset_images": n_all,
        "world_size": where.world_size,
    }
    talk = verbose and where.is_main
    if state.epochs_done and talk:
        print(f"resuming {out} after epoch {state.epochs_done}")

    model.train()
    for epoch in range(state.epochs_done, cfg.epochs):
        start = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = epoch_lr(cfg, epoch)
        sampler.set_epoch(epoch)
        noise = _generator(cfg.seed, epoch, 1)
        sums = torch.zeros(4, dtype=torch.float64)
        bar = tqdm(
            loader,
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            # None: tqdm draws only on a terminal; piped to a file or a CI
            # log, the run writes one line per epoch (below) and no redraws.
            disable=None if progress and where.is_main else True,
            leave=False,
            mininterval=1.0,
        )
        for step, (xb, yb) in enumerate(bar):
            xb = xb.to(where.device, non_blocking=True)
            yb = yb.to(where.device) if model_config.conditional else None
            eps = None
            if model_config.variational:
                # The noise of the global batch, of which this process's images
                # are rows rank, rank + W, ... (the sampler deals indices so).
                full = torch.randn(
                    len(xb) * where.world_size,
                    model_config.latent_dim,
                    generator=noise,
                )
                eps = full[where.rank :: where.world_size].to(where.device)
            terms = loss_terms(net(xb, yb, eps=eps), xb, model_config)
            batch = torch.stack(
                [terms.total.detach(), terms.recon.detach(), terms.kl.detach()]
            ).double().cpu() * len(xb)
            batch = torch.cat(
                [batch, torch.tensor([float(len(xb))], dtype=batch.dtype)]
            )
            if where.world_size > 1:
                batch = batch.to(where.device)
                dist.all_reduce(batch)
                batch = batch.cpu()
            if not torch.isfinite(batch).all():
                raise TrainingError(
                    f"loss became {batch[0].item()} in epoch {epoch + 1} at batch "
                    f"{step}; the last good checkpoint in {out} is kept. "
                    "Try a lower --lr."
                )
            opt.zero_grad(set_to_none=True)
            terms.total.backward()
            opt.step()
            sums += batch
            mean = batch[:3] / batch[3]
            bar.set_postfix(
                loss=f"{mean[0]:.1f}", recon=f"{mean[1]:.1f}", kl=f"{mean[2]:.2f}"
            )
        train_terms = (sums[:3] / sums[3]).numpy()
        state.epochs_done = epoch + 1
        if not where.is_main:
            continue
        val = (
            evaluate_loss(model, val_loader, seed=cfg.seed, device=where.device)
            if len(va)
            else None
        )
        seconds = time.perf_counter() - start
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
        if talk:
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
