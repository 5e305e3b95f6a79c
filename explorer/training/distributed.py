"""Where a process stands in a run under ``torchrun`` (PyTorch's
``DistributedDataParallel``: gloo on CPU, nccl on GPU), or alone."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


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


def shutdown_distributed(together: bool = False) -> None:
    """Leaves the process group. ``together`` (a run that ended well, in
    every process): first waits for the others, since a process that tore
    its group down while another still used it made that one abort at exit
    ("terminate called without an active exception", seen in CI). A failed
    run leaves at once: the others may never reach the barrier."""
    if dist.is_available() and dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()


def comm_device(where: Distributed) -> torch.device | None:
    """The device collective calls use: the GPU under nccl, else None (gloo)."""
    return where.device if where.device.type == "cuda" else None
