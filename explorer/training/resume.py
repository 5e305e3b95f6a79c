"""Resumable training state: saved after every epoch, restored on the next
run with the same settings, and shared by rank 0 with the other processes.

The state file holds the tensors and, in its safetensors metadata, the record
of the run (settings, epochs done, history, optimizer groups), so one atomic
rename replaces both at once: a run stopped between any two writes, by Ctrl-C
or SIGKILL, resumes from one consistent epoch. ``training.json`` is a copy of
the record for people and the app, written after the state file; it may lag
by one epoch after a kill, and resuming brings it level again."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import save as save_safetensors

from explorer.fileio import atomic_write, write_json
from explorer.model.autoencoder import Autoencoder
from explorer.model.checkpoint import (
    TRAINING_FILE,
    CheckpointError,
    read_tensors_and_metadata,
)
from explorer.training.config import TrainConfig, TrainingError, TrainState
from explorer.training.distributed import Distributed, comm_device

STATE_FILE = "train_state.safetensors"
RECORD_KEY = "explorer.training"  # the record, as JSON, in the state file's metadata


def save_state(
    out: Path,
    model: Autoencoder,
    opt: torch.optim.Optimizer,
    cfg: TrainConfig,
    state: TrainState,
    extra: dict,
    snapshots: tuple[dict[str, torch.Tensor], dict] | None = None,
) -> None:
    """Writes the model's and the optimizer's tensors with the run's record
    (``STATE_FILE``, one atomic write), then the record's copy
    ``training.json``, after an epoch. ``snapshots``: the recorder's frames
    so far and their record, kept in the same write."""
    tensors = {
        f"model.{k}": v.detach().cpu().clone() for k, v in model.state_dict().items()
    }
    sd = opt.state_dict()
    for idx, s in sd["state"].items():
        for name, t in s.items():
            tensors[f"opt.{idx}.{name}"] = torch.as_tensor(t).detach().cpu().clone()
    record = {
        "train": asdict(cfg),
        "model": model.config.to_dict(),
        "state": asdict(state),
        "optimizer_param_groups": sd["param_groups"],
        "complete": state.epochs_done >= cfg.epochs,
        "torch": torch.__version__,
        **extra,
    }
    if snapshots is not None:
        tensors.update(snapshots[0])
        record["snapshots"] = snapshots[1]
    metadata = {RECORD_KEY: json.dumps(record)}
    atomic_write(out / STATE_FILE, save_safetensors(tensors, metadata=metadata))
    write_json(out / TRAINING_FILE, record)


def saved_record(out: Path) -> tuple[dict, dict[str, torch.Tensor]] | None:
    """The record and tensors of the last finished epoch in ``out`` (from the
    state file alone); None when ``out`` holds no run yet.

    Raises:
        TrainingError: the state file is damaged or carries no record.
    """
    path = out / STATE_FILE
    if not path.is_file():
        return None
    try:
        tensors, metadata = read_tensors_and_metadata(path)
        if RECORD_KEY not in metadata:
            raise ValueError("it carries no record of the run")
        record = json.loads(metadata[RECORD_KEY])
        if not isinstance(record, dict) or "state" not in record:
            raise ValueError("its record of the run has no state")
    except (CheckpointError, ValueError) as e:
        raise TrainingError(
            f"cannot resume from {path} ({e}); delete the folder to start over"
        ) from e
    return record, tensors


def load_state(
    out: Path, model: Autoencoder, opt: torch.optim.Optimizer, cfg: TrainConfig
) -> TrainState | None:
    """Restores what ``save_state`` wrote into ``model`` and ``opt``; None when
    ``out`` holds no run yet. Refuses a run with other settings."""
    saved = saved_record(out)
    if saved is None:
        return None
    record, tensors = saved
    ours = {k: v for k, v in asdict(cfg).items() if k != "epochs"}
    theirs = {k: v for k, v in record.get("train", {}).items() if k != "epochs"}
    if ours != theirs or record.get("model") != model.config.to_dict():
        raise TrainingError(
            f"{out} holds a run with different settings; use another --out, "
            "or delete the folder to start over"
        )
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


def resume(
    out: Path,
    model: Autoencoder,
    opt: torch.optim.Optimizer,
    cfg: TrainConfig,
    where: Distributed,
) -> TrainState:
    """Rank 0 reads the saved state; every other process receives it from rank 0
    (so resuming needs no shared file system), or the same error."""
    if where.world_size == 1:
        return load_state(out, model, opt, cfg) or TrainState()
    payload: list = [None]
    if where.is_main:
        try:
            state = load_state(out, model, opt, cfg) or TrainState()
            payload = [(state, model.state_dict(), opt.state_dict(), None)]
        except TrainingError as e:
            payload = [(None, None, None, str(e))]
    # Our own processes' objects (pickled by torch.distributed in memory), never
    # a file.
    dist.broadcast_object_list(payload, src=0, device=comm_device(where))
    state, model_sd, opt_sd, error = payload[0]
    if error:
        raise TrainingError(error)
    if not where.is_main:
        model.load_state_dict(model_sd)
        opt.load_state_dict(opt_sd)
    return state
