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

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, Subset
from tqdm import tqdm

from explorer.data.dataset import ImageDataset, collate_batch
from explorer.data.folder import FolderImages
from explorer.data.load import load_dataset, loader_workers, torch_view
from explorer.model.autoencoder import Autoencoder, build_model
from explorer.model.checkpoint import save_checkpoint
from explorer.model.config import ModelConfig
from explorer.model.loss import loss_terms
from explorer.training.config import (
    TrainConfig,
    TrainingError,
    TrainState,
    epoch_lr,
    split_validation,
)
from explorer.training.distributed import Distributed, init_distributed
from explorer.training.resume import resume, save_state, saved_record
from explorer.training.snapshots import (
    DEFAULT_SNAPSHOTS,
    Frame,
    Recorder,
    plan,
    sample_indices,
)


def _generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch * 101 + stream)


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


# --- setup ----------------------------------------------------------------------


@dataclass
class Run:
    """What one training run holds from epoch to epoch (made by ``setup``)."""

    cfg: TrainConfig
    out: Path
    where: Distributed
    model: Autoencoder
    net: torch.nn.Module  # ``model``, wrapped in DDP under torchrun
    opt: torch.optim.Optimizer
    state: TrainState
    sampler: DistributedSampler
    loader: DataLoader
    val_loader: DataLoader
    extra: dict  # the data's sizes, recorded in training.json
    progress: bool
    talk: bool  # print a line per epoch (rank 0, verbose)
    dataset: ImageDataset | FolderImages | None = None  # the training split
    val_index: np.ndarray | None = None  # its images held out for validation
    recorder: Recorder | None = None  # rank 0's snapshots, when taken
    on_snapshot: Callable[[Frame], None] | None = None

    @property
    def steps_per_epoch(self) -> int:
        return len(self.loader)

    def snapshot(self, step: int) -> None:
        """Takes the snapshot planned after ``step`` optimizer steps, if any."""
        if self.recorder is not None and self.recorder.due(step):
            frame = self.recorder.take(self.model, step)
            if self.on_snapshot is not None:
                self.on_snapshot(frame)


def check_data(
    dataset: ImageDataset | FolderImages,
    model_config: ModelConfig,
    cfg: TrainConfig,
    where: Distributed,
) -> None:
    """Refuses data the model cannot train on, or a batch the processes
    cannot share evenly."""
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


def setup(
    model_config: ModelConfig,
    cfg: TrainConfig,
    out: Path,
    data_dir: str | Path | None,
    dataset: ImageDataset | FolderImages | None,
    workers: int | None,
    progress: bool,
    verbose: bool,
) -> Run:
    """Loads and checks the data, splits off validation, builds the loaders,
    the model and its optimizer, and resumes a saved run in ``out``
    (snapshots: see ``recorder``)."""
    where = init_distributed()
    if dataset is None:
        dataset = load_dataset(
            cfg.dataset,
            cfg.train_split,
            data_dir,
            model_config.image_shape[1:],
            model_config.image_shape[0],
        )
    check_data(dataset, model_config, cfg, where)
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
    state = resume(out, model, opt, cfg, where)
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
    return Run(
        cfg=cfg,
        out=out,
        where=where,
        model=model,
        net=net,
        opt=opt,
        state=state,
        sampler=sampler,
        loader=loader,
        val_loader=val_loader,
        extra=extra,
        progress=progress,
        talk=verbose and where.is_main,
        dataset=dataset,
        val_index=va,
    )


def recorder(
    run: Run,
    snapshots: int,
    dataset: ImageDataset | FolderImages,
    held_out: ImageDataset | FolderImages | None,
) -> Recorder | None:
    """Rank 0's snapshot recorder: ``snapshots`` frames (``snapshots.plan``)
    of a seeded sample of ``held_out`` (the dataset's evaluation split), or
    of the validation images when there is none; its frames so far when the
    run resumes. None on other ranks, or with nothing held out."""
    if snapshots <= 0 or not run.where.is_main:
        return None
    if held_out is not None:
        pool = np.arange(len(held_out))
        source = {"dataset": run.cfg.dataset, "split": held_out.split}
        data = torch_view(held_out)
    else:
        pool = run.val_index
        source = {"dataset": run.cfg.dataset, "split": "validation"}
        data = torch_view(dataset)
    if len(pool) == 0:
        return None
    index = pool[sample_indices(len(pool), run.cfg.seed)]
    images, labels = collate_batch(
        data.__getitems__(index.tolist())
        if hasattr(data, "__getitems__")
        else [data[int(i)] for i in index]
    )
    rec = Recorder(
        images,
        labels if dataset.labels is not None else None,
        index,
        plan(snapshots, run.steps_per_epoch, run.cfg.epochs),
        run.steps_per_epoch,
        run.cfg.seed,
        source,
    )
    saved = saved_record(run.out) if run.state.epochs_done else None
    if saved is not None:
        record, tensors = saved
        rec.restore(tensors, record.get("snapshots") or {})
    return rec


# --- one epoch -----------------------------------------------------------------------


def train_epoch(run: Run, epoch: int) -> np.ndarray:
    """One pass over the training images: every process takes its share of
    each global batch and its rows of the batch's noise.

    Returns:
        The epoch's mean loss, reconstruction and KL over all processes, ``[3]``.
    """
    cfg, where, model_config = run.cfg, run.where, run.model.config
    for group in run.opt.param_groups:
        group["lr"] = epoch_lr(cfg, epoch)
    run.sampler.set_epoch(epoch)
    noise = _generator(cfg.seed, epoch, 1)
    sums = torch.zeros(4, dtype=torch.float64)
    bar = tqdm(
        run.loader,
        desc=f"epoch {epoch + 1}/{cfg.epochs}",
        # None: tqdm draws only on a terminal; piped to a file or a CI
        # log, the run writes one line per epoch (end_epoch) and no redraws.
        disable=None if run.progress and where.is_main else True,
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
        terms = loss_terms(run.net(xb, yb, eps=eps), xb, model_config)
        batch = torch.stack(
            [terms.total.detach(), terms.recon.detach(), terms.kl.detach()]
        ).double().cpu() * len(xb)
        batch = torch.cat([batch, torch.tensor([float(len(xb))], dtype=batch.dtype)])
        if where.world_size > 1:
            batch = batch.to(where.device)
            dist.all_reduce(batch)
            batch = batch.cpu()
        if not torch.isfinite(batch).all():
            raise TrainingError(
                f"loss became {batch[0].item()} in epoch {epoch + 1} at batch "
                f"{step}; the last good checkpoint in {run.out} is kept. "
                "Try a lower --lr."
            )
        run.opt.zero_grad(set_to_none=True)
        terms.total.backward()
        run.opt.step()
        run.snapshot(epoch * run.steps_per_epoch + step + 1)
        sums += batch
        mean = batch[:3] / batch[3]
        bar.set_postfix(
            loss=f"{mean[0]:.1f}", recon=f"{mean[1]:.1f}", kl=f"{mean[2]:.2f}"
        )
    return (sums[:3] / sums[3]).numpy()


def end_epoch(run: Run, epoch: int, train_terms: np.ndarray, start: float) -> None:
    """Rank 0's end of an epoch: validates, records the epoch, keeps the best
    checkpoint, saves the resumable state and prints a line."""
    cfg, state = run.cfg, run.state
    val = (
        evaluate_loss(run.model, run.val_loader, seed=cfg.seed, device=run.where.device)
        if run.extra["val_images"]
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
        save_checkpoint(run.model, run.out)
        if run.recorder is not None:
            run.recorder.saved(run.model, (epoch + 1) * run.steps_per_epoch)
    snap = run.recorder.state_tensors() if run.recorder is not None else None
    save_state(run.out, run.model, run.opt, cfg, state, run.extra, snap)
    if run.recorder is not None:
        run.recorder.write(run.out)
    if run.talk:
        v = (
            f"val {val['loss']:.2f} (recon {val['recon']:.2f}, kl {val['kl']:.2f})"
            if val
            else ""
        )
        tqdm.write(
            f"epoch {epoch + 1}/{cfg.epochs}: train {train_terms[0]:.2f} {v} "
            f"[{seconds:.1f}s]{' *best' if state.best_epoch == epoch + 1 else ''}"
        )


# --- the run -------------------------------------------------------------------------


def train(
    model_config: ModelConfig,
    cfg: TrainConfig,
    out: str | Path,
    data_dir: str | Path | None = None,
    progress: bool = True,
    dataset: ImageDataset | FolderImages | None = None,
    verbose: bool = True,
    workers: int | None = None,
    snapshots: int = DEFAULT_SNAPSHOTS,
    held_out: ImageDataset | FolderImages | None = None,
    on_snapshot: Callable[[Frame], None] | None = None,
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

    ``snapshots`` frames of the latent space forming (0: none) go into
    ``out/snapshots.safetensors`` (``explorer.training.snapshots``): a sample
    of ``held_out`` images (default: the validation images);
    ``on_snapshot`` is called with each frame as it is taken (rank 0).

    Raises:
        TrainingError: on a non-finite loss, a resume that does not match, or
            a batch size the processes cannot share evenly.
    """
    out = Path(out)
    run = setup(model_config, cfg, out, data_dir, dataset, workers, progress, verbose)
    run.recorder = recorder(run, snapshots, run.dataset, held_out)
    run.on_snapshot = on_snapshot
    if run.state.epochs_done and run.talk:
        print(f"resuming {out} after epoch {run.state.epochs_done}")
    run.model.train()
    if run.state.epochs_done == 0:
        run.snapshot(0)
    for epoch in range(run.state.epochs_done, cfg.epochs):
        start = time.perf_counter()
        train_terms = train_epoch(run, epoch)
        run.state.epochs_done = epoch + 1
        if run.where.is_main:
            end_epoch(run, epoch, train_terms, start)
    return run.state
