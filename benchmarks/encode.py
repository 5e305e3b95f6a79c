"""Encoding a store on 1 and on 2 processes (``torchrun``, each its share of
the rows, ``explorer.latent.shards``), in one run on the same store and
model: throughput and each process's peak resident memory; and the same on
GPUs, skipped with the reason on a machine without one.

Each run is ``python -m torch.distributed.run --nproc-per-node N -m
benchmarks.encode --worker ...``: every process times ``encode`` from a first
barrier (start-up excluded, reported beside) and writes its figures."""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.data import MODEL
from benchmarks.rows import Row, rate_row, row

REPO = Path(__file__).resolve().parents[1]
IMAGES = 40_000  # MNIST's bundled train5k, tiled
BATCH = 4096
FILES = ("mean.npy", "logvar.npy", "recon.npy", "kl.npy", "loss.npy")


@dataclass
class Runs:
    """Runs with ``processes`` processes: per run, the seconds ``encode``
    took (process 0's, which ends last: it writes the metadata), the wall
    seconds of the whole command, and each process's peak resident MB."""

    processes: int
    threads: int = 0  # torch threads each process computed with
    seconds: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    rss_mb: list[list[float]] = field(default_factory=list)


@dataclass
class Samples:
    n: int
    batch_size: int
    cpu: list[Runs]
    identical: bool  # every run's files byte for byte the 1-process run's
    gpu: list[Runs] | None = None
    gpu_skipped: str = ""


def _store(tmp: Path, n: int) -> Path:
    from explorer.data.dataset import ImageDataset
    from explorer.data.load import load_dataset
    from explorer.data.store import pack

    base = load_dataset("mnist", "train5k")
    index = np.arange(n) % len(base)
    ds = ImageDataset(
        base.images[index], base.labels[index], base.class_names, "mnist", "tiled"
    )
    return pack(ds, tmp / "store", "bench-encode", 4096, 0, False)


def _run(store: Path, processes: int, batch: int, device: str, out: Path) -> Runs:
    """One run of the command; its figures appended to a fresh ``Runs``."""
    from explorer.model.checkpoint import resolve

    for f in out.glob("rank-*.json"):
        f.unlink()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += ["--nproc-per-node", str(processes), "-m", "benchmarks.encode"]
    cmd += ["--worker", str(store), str(resolve(MODEL)), str(batch), str(out), device]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"encode on {processes} processes failed:\n{done.stderr}")
    ranks = [json.loads((out / f"rank-{k}.json").read_text()) for k in range(processes)]
    runs = Runs(processes, ranks[0]["threads"], [ranks[0]["seconds"]], [wall])
    runs.rss_mb.append([r["rss_mb"] for r in ranks])
    return runs


def _files(store: Path) -> dict[str, bytes]:
    folder = store / Path(MODEL).name
    return {f: (folder / f).read_bytes() for f in FILES}


def measure(
    repeats: int = 3,
    n: int = IMAGES,
    batch_size: int = BATCH,
    processes: tuple[int, ...] = (1, 2),
) -> Samples:
    import torch

    cpu = {p: Runs(p) for p in processes}
    identical = True
    with tempfile.TemporaryDirectory() as tmp:
        store = _store(Path(tmp), n)
        out = Path(tmp) / "figures"
        out.mkdir()
        first = None
        for _ in range(repeats):  # interleaved: the machine's load hits both
            for p in processes:
                r = _run(store, p, batch_size, "cpu", out)
                cpu[p].threads = r.threads
                cpu[p].seconds += r.seconds
                cpu[p].wall += r.wall
                cpu[p].rss_mb += r.rss_mb
                first = first or _files(store)
                identical = identical and _files(store) == first
        gpu, why = None, ""
        if torch.cuda.is_available():
            gpus = torch.cuda.device_count()
            gpu = [_run(store, p, batch_size, "cuda", out) for p in (1, min(2, gpus))]
        else:
            why = "no CUDA device on this machine (torch.cuda.is_available() is False)"
    return Samples(n, batch_size, list(cpu.values()), identical, gpu, why)


def report(s: Samples) -> list[Row]:
    one = s.cpu[0]
    base = [s.n / t for t in one.seconds]
    rows = []
    for runs in s.cpu:
        rates = [s.n / t for t in runs.seconds]
        name = f"encode {s.n:,} images, {_procs(runs.processes)} (CPU)"
        note = (
            f"{MODEL} (MLP), batches of {s.batch_size:,}, torch threads per "
            f"process: {runs.threads}; time in encode from the "
            f"processes' first barrier to the metadata written; the whole "
            f"command, start-up included: {np.median(runs.wall):.1f} s"
        )
        baseline = ""
        if runs is not one:
            ratio = np.median(rates) / np.median(base)
            baseline = f"1 process: {np.median(base):,.0f}/s ({ratio:.2f}x)"
            same = "yes" if s.identical else "NO"
            note += f"; files byte-identical to 1 process: {same}"
        rows.append(rate_row(name, "images/s", rates, baseline=baseline, note=note))
    for runs in s.cpu:
        rss = [mb for run in runs.rss_mb for mb in run]
        rows.append(
            row(
                f"peak resident memory per process, {_procs(runs.processes)}",
                "MB",
                rss,
                note="ru_maxrss of each process (PyTorch itself included; the "
                "store's pages read count while mapped)",
            )
        )
    rows += _gpu_rows(s)
    return rows


def _procs(p: int) -> str:
    return "1 process" if p == 1 else f"{p} processes"


def _gpu_rows(s: Samples) -> list[Row]:
    names = [f"encode {s.n:,} images, 1 process (GPU)"]
    names.append(f"encode {s.n:,} images, 2 processes (GPUs, nccl)")
    if s.gpu is None:
        note = f"skipped: {s.gpu_skipped}"
        return [Row(n, "images/s", math.nan, math.nan, 0, note=note) for n in names]
    return [
        rate_row(name, "images/s", [s.n / t for t in runs.seconds])
        for name, runs in zip(names, s.gpu, strict=False)
    ]


def _worker(store: str, ckpt: str, batch: str, out: str, device: str) -> None:
    """One process of a run: encodes its share, writes its figures."""
    import torch

    from explorer.latent.encoded import encode
    from explorer.latent.placement import placement
    from explorer.latent.shards import Group, TorchGroup
    from explorer.model.checkpoint import load_checkpoint
    from explorer.training.distributed import init_distributed, shutdown_distributed

    try:
        group = TorchGroup() if init_distributed().world_size > 1 else Group()
        where = placement(device, "float32", int(os.environ.get("LOCAL_RANK", "0")))
        model = load_checkpoint(ckpt)
        group.barrier()
        t = time.perf_counter()
        encode(model, ckpt, store, int(batch), False, where=where, group=group)
        seconds = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB -> MB
        figures = {
            "rank": group.rank,
            "seconds": seconds,
            "rss_mb": rss,
            "threads": torch.get_num_threads(),
        }
        Path(out, f"rank-{group.rank}.json").write_text(json.dumps(figures))
    finally:
        shutdown_distributed()


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    _worker(*sys.argv[2:])
