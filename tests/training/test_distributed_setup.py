"""Where a process stands (``explorer.training.distributed``) when it runs
alone: no process group, the main process, gloo's collectives on the CPU.
Two processes under ``torchrun`` are in ``test_distributed.py``."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist

from explorer.training.distributed import (
    Distributed,
    comm_device,
    init_distributed,
    shutdown_distributed,
)


@pytest.mark.parametrize("world", [None, "1"])
def test_alone_is_rank_0_of_1_without_a_process_group(monkeypatch, world):
    if world is None:
        monkeypatch.delenv("WORLD_SIZE", raising=False)
    else:
        monkeypatch.setenv("WORLD_SIZE", world)
    monkeypatch.setenv("LOCAL_RANK", "0")
    where = init_distributed()
    assert (where.rank, where.world_size) == (0, 1) and where.is_main
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert where.device.type == want
    assert not (dist.is_available() and dist.is_initialized())
    shutdown_distributed()  # nothing to end: no error


def test_only_rank_0_is_main_and_gloo_talks_on_the_cpu():
    assert Distributed().is_main and not Distributed(rank=1, world_size=2).is_main
    assert comm_device(Distributed(device=torch.device("cpu"))) is None
    gpu = torch.device("cuda:1")
    assert comm_device(Distributed(1, 2, gpu)) == gpu
