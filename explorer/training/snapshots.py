"""Snapshots: the latent space as it forms during training.

At points spread over a run (the first at step 0, before any update; at
least eight within the first epoch, where the structure forms; then epoch
ends spread over the rest) the trainer encodes a fixed, seeded sample of
held-out images and keeps their latent means and log-variances, with the
loss terms on that sample. ``snapshots.safetensors`` in the checkpoint
folder holds them:

- ``means`` ``[S, N, D]`` and ``logvars`` ``[S, N, D]`` (a VAE's; an AE has
  none), float32;
- ``index`` ``[N]``: the sample's indices in its split (the metadata's
  ``split``: the dataset's held-out evaluation split, or ``validation``:
  the images held out of the training split for validation), and
  ``labels`` ``[N]`` when the data has labels;
- ``step`` ``[S]`` (optimizer steps taken), ``epoch`` ``[S]`` (fractional),
  ``recon`` ``[S]`` and ``kl`` ``[S]`` (nats per image on the sample).

The checkpoint keeps the weights of the best epoch (lowest validation loss),
so the file stops there: its last frame is the sample encoded with the saved
weights, and frames after the best epoch are left out. The frames live in
the resumable state file between epochs (this file is derived from it, like
``training.json``), so a resumed run writes the same file as an
uninterrupted one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save as save_safetensors

from explorer.fileio import atomic_write
from explorer.model.autoencoder import Autoencoder
from explorer.model.checkpoint import CheckpointError, read_tensors_and_metadata
from explorer.model.loss import loss_terms

SNAPSHOT_FILE = "snapshots.safetensors"
DEFAULT_SNAPSHOTS = 24
SAMPLE_SIZE = 2000
FIRST_EPOCH = 8  # frames within the first epoch, at least (when it has the steps)
META_KEY = "explorer.snapshots"
_BATCH = 1000


def plan(n: int, steps_per_epoch: int, epochs: int) -> list[int]:
    """The optimizer steps after which to take ``n`` snapshots: step 0,
    geometrically spaced steps through the first epoch (half of them, and at
    least ``FIRST_EPOCH``), then epoch ends evenly spread to the last.
    Fewer when the run has fewer distinct steps."""
    if n <= 0 or steps_per_epoch <= 0 or epochs <= 0:
        return []
    if n == 1:
        return [steps_per_epoch * epochs]
    first = n - 1 if epochs == 1 else min(n - 1, max(FIRST_EPOCH, n // 2))
    steps = {0}
    steps.update(int(round(s)) for s in np.geomspace(1, steps_per_epoch, first))
    later = n - 1 - first
    if epochs > 1 and later > 0:
        ends = np.linspace(2, epochs, min(later, epochs - 1))
        steps.update(int(round(e)) * steps_per_epoch for e in ends)
    return sorted(steps)


def sample_indices(n_images: int, seed: int, size: int = SAMPLE_SIZE) -> np.ndarray:
    """A seeded sample of ``size`` of ``n_images`` indices, sorted."""
    rng = np.random.default_rng(seed + 7919)
    pick = rng.choice(n_images, size=min(size, n_images), replace=False)
    return np.sort(pick).astype(np.int64)


@dataclass
class Frame:
    step: int
    epoch: float
    means: torch.Tensor  # [N, D]
    logvars: torch.Tensor | None
    recon: float
    kl: float


@torch.no_grad()
def encode_sample(
    model: Autoencoder,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor | None, float, float]:
    """The sample's latent means and log-variances under ``model`` (eval
    mode), and its mean reconstruction and KL (nats per image) with noise
    drawn from its own seeded generator (the training's streams untouched)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    means, logvars = [], []
    recon = kl = 0.0
    for start in range(0, len(images), _BATCH):
        xb = images[start : start + _BATCH].to(device)
        yb = None
        if model.config.conditional and labels is not None:
            yb = labels[start : start + _BATCH].to(device)
        enc = model.encode(xb, yb)
        means.append(enc.mean.float().cpu())
        if enc.logvar is not None:
            logvars.append(enc.logvar.float().cpu())
        terms = loss_terms(model(xb, yb, generator=g), xb, model.config)
        recon += float(terms.recon) * len(xb)
        kl += float(terms.kl) * len(xb)
    model.train(was_training)
    n = max(len(images), 1)
    return (
        torch.cat(means),
        torch.cat(logvars) if logvars else None,
        recon / n,
        kl / n,
    )


class Recorder:
    """Takes a run's snapshots and keeps them across epochs (in the state
    file) until it writes the checkpoint's ``snapshots.safetensors``."""

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None,
        index: np.ndarray,
        steps: list[int],
        steps_per_epoch: int,
        seed: int,
        source: dict,
    ) -> None:
        self.images, self.labels, self.index = images, labels, index
        self.steps = set(steps)
        self.steps_per_epoch = steps_per_epoch
        self.seed = seed
        self.source = source  # dataset, split
        self.frames: dict[int, Frame] = {}
        self.best: int | None = None  # the step of the saved weights

    def due(self, step: int) -> bool:
        return step in self.steps and step not in self.frames

    def take(self, model: Autoencoder, step: int) -> Frame:
        means, logvars, recon, kl = encode_sample(
            model, self.images, self.labels, self.seed
        )
        frame = Frame(step, step / self.steps_per_epoch, means, logvars, recon, kl)
        self.frames[step] = frame
        return frame

    def saved(self, model: Autoencoder, step: int) -> None:
        """The weights after ``step`` became the checkpoint's: the file ends
        with their frame (taken now if it was not planned)."""
        if step not in self.frames:
            self.take(model, step)
        if self.best is not None and self.best != step and self.best not in self.steps:
            self.frames.pop(self.best, None)
        self.best = step

    def selected(self) -> list[Frame]:
        """The frames the file holds: the planned ones up to the saved
        weights, and theirs last."""
        if self.best is None:
            return [self.frames[s] for s in sorted(self.frames) if s in self.steps]
        return [self.frames[s] for s in sorted(self.frames) if s <= self.best]

    # --- the state file ----------------------------------------------------------

    def state_tensors(self) -> tuple[dict[str, torch.Tensor], dict]:
        """The frames so far as tensors for the state file, and their record."""
        tensors = _frame_tensors([self.frames[s] for s in sorted(self.frames)])
        return {f"snapshots.{k}": v for k, v in tensors.items()}, {"best": self.best}

    def restore(self, tensors: dict[str, torch.Tensor], record: dict) -> None:
        ours = {
            k[len("snapshots.") :]: v
            for k, v in tensors.items()
            if k.startswith("snapshots.")
        }
        self.frames = {f.step: f for f in _frames(ours, self.steps_per_epoch)}
        best = record.get("best") if isinstance(record, dict) else None
        self.best = best if best in self.frames else None

    # --- the checkpoint's file ----------------------------------------------------

    def write(self, out: Path) -> None:
        frames = self.selected()
        if not frames:
            return
        tensors = _frame_tensors(frames)
        tensors["index"] = torch.as_tensor(self.index, dtype=torch.int64)
        if self.labels is not None:
            tensors["labels"] = self.labels.to(torch.int64).clone()
        meta = {**self.source, "seed": self.seed}
        meta["steps_per_epoch"] = self.steps_per_epoch
        atomic_write(
            Path(out) / SNAPSHOT_FILE,
            save_safetensors(tensors, metadata={META_KEY: json.dumps(meta)}),
        )


def _frame_tensors(frames: list[Frame]) -> dict[str, torch.Tensor]:
    if not frames:
        return {}
    out = {
        "means": torch.stack([f.means for f in frames]).contiguous(),
        "step": torch.tensor([f.step for f in frames], dtype=torch.int64),
        "epoch": torch.tensor([f.epoch for f in frames], dtype=torch.float32),
        "recon": torch.tensor([f.recon for f in frames], dtype=torch.float32),
        "kl": torch.tensor([f.kl for f in frames], dtype=torch.float32),
    }
    if frames[0].logvars is not None:
        out["logvars"] = torch.stack([f.logvars for f in frames]).contiguous()
    return out


def _frames(t: dict[str, torch.Tensor], steps_per_epoch: int) -> list[Frame]:
    if "means" not in t:
        return []
    logvars = t.get("logvars")
    return [
        Frame(
            int(t["step"][i]),
            int(t["step"][i]) / steps_per_epoch,
            t["means"][i].clone(),
            logvars[i].clone() if logvars is not None else None,
            float(t["recon"][i]),
            float(t["kl"][i]),
        )
        for i in range(len(t["step"]))
    ]


# --- reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshots:
    """A checkpoint's snapshots, as numpy arrays (see the module's docstring).

    Attributes:
        source: the file's metadata: ``dataset``, ``split``, ``seed``,
            ``steps_per_epoch``.
    """

    means: np.ndarray  # [S, N, D] float32
    logvars: np.ndarray | None
    index: np.ndarray  # [N] int64
    labels: np.ndarray | None
    step: np.ndarray  # [S]
    epoch: np.ndarray  # [S]
    recon: np.ndarray  # [S]
    kl: np.ndarray  # [S]
    source: dict

    @property
    def frames(self) -> int:
        return len(self.step)


def read_snapshots(folder: str | Path) -> Snapshots | None:
    """The snapshots in ``folder``; None when it has no snapshot file.

    Raises:
        CheckpointError: the file is damaged or its tensors do not agree
            (code ``bad_snapshots``, or ``bad_weights``/``pickle``).
    """
    path = Path(folder) / SNAPSHOT_FILE
    if not path.is_file():
        return None
    tensors, metadata = read_tensors_and_metadata(path)
    try:
        source = json.loads(metadata.get(META_KEY, "{}"))
        a = {k: v.numpy() for k, v in tensors.items()}
        means = a["means"].astype(np.float32, copy=False)
        s, n, _ = means.shape
        for name in ("step", "epoch", "recon", "kl"):
            if a[name].shape != (s,):
                raise ValueError(f"{name} has shape {a[name].shape}, not ({s},)")
        if a["index"].shape != (n,):
            raise ValueError(f"index has shape {a['index'].shape}, not ({n},)")
        logvars = a.get("logvars")
        if logvars is not None and logvars.shape != means.shape:
            raise ValueError("logvars and means differ in shape")
        labels = a.get("labels")
        if labels is not None and labels.shape != (n,):
            raise ValueError("labels and index differ in length")
        if not np.all(np.diff(a["step"]) > 0):
            raise ValueError("the steps do not increase")
        if not (np.isfinite(means).all() and all(map(math.isfinite, a["recon"]))):
            raise ValueError("it holds non-finite values")
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError("bad_snapshots", path=path, reason=e) from e
    return Snapshots(
        means,
        logvars,
        a["index"].astype(np.int64),
        labels,
        a["step"].astype(np.int64),
        a["epoch"].astype(np.float32),
        a["recon"].astype(np.float32),
        a["kl"].astype(np.float32),
        source if isinstance(source, dict) else {},
    )
