"""An encoding cut into shares, one per process (``torchrun``), each cut at
the one-process run's batch boundaries so that every batch, and so every
byte, is the same; and the markers that let an interrupted run resume
without encoding a finished piece of a share again.

A share is split into pieces of at most ``PIECE_BATCHES`` batches; a piece's
marker (``.rows-<start>-<stop>.json``, written atomically after its rows are
flushed) records the layout it was written under: the model's weights, the
store's identity, the batch size, the dtype and the device. A run reuses a
piece only when that layout is this run's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import torch.distributed as dist

from explorer.data.store import DATASET_FILE
from explorer.fileio import read_json, write_json

PIECE_BATCHES = 16
LAYOUT_FILE = ".layout.json"
BARRIER_TIMEOUT = timedelta(days=2)


@dataclass(frozen=True)
class Share:
    """Rows ``[start, stop)`` of the store, encoded by process ``rank``."""

    rank: int
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start

    def pieces(self, batch_size: int, piece_batches: int | None = None):
        """``(start, stop)`` of each piece: ``piece_batches`` batches (default
        ``PIECE_BATCHES``), the last one shorter."""
        step = batch_size * (piece_batches or PIECE_BATCHES)
        return [
            (a, min(a + step, self.stop)) for a in range(self.start, self.stop, step)
        ]


def cut_shares(n: int, batch_size: int, world: int) -> list[Share]:
    """``world`` shares of ``n`` rows, as even as whole batches allow: the
    one-process run's batches (``batch_size`` rows, the last one shorter)
    dealt out in order. A process with no batch (more processes than
    batches) gets an empty share."""
    if batch_size < 1 or world < 1:
        raise ValueError("batch_size and world must be at least 1")
    batches = -(-n // batch_size)
    bounds = [min(n, batches * k // world * batch_size) for k in range(world + 1)]
    return [Share(k, bounds[k], bounds[k + 1]) for k in range(world)]


class Group:
    """The processes of an encoding run: one process alone here."""

    rank = 0
    world = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        """Waits until every process has reached this point."""


class TorchGroup(Group):
    """The processes of ``torch.distributed``'s default group (``torchrun``),
    meeting at barriers through a gloo group of their own that waits up to
    ``timeout``: a process whose share is done (or was, before a resumed
    run) may wait long for the others, past the default group's 30 minutes,
    and gloo needs no GPU. Made by every process at once."""

    def __init__(self, timeout: timedelta = BARRIER_TIMEOUT) -> None:
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self._group = dist.new_group(backend="gloo", timeout=timeout)

    def barrier(self) -> None:
        dist.barrier(group=self._group)


def store_id(store: Path) -> str:
    """A SHA-256 that changes when the store is packed again: its record
    and its images file's size and modification time."""
    h = hashlib.sha256((store / DATASET_FILE).read_bytes())
    st = (store / "images.npy").stat()
    h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _marker(out: Path, rows: tuple[int, int]) -> Path:
    return out / f".rows-{rows[0]}-{rows[1]}.json"


def is_done(out: Path, layout: dict, rows: tuple[int, int]) -> bool:
    """Whether the piece ``rows`` was written under ``layout``."""
    return read_json(_marker(out, rows)) == {**layout, "rows": list(rows)}


def mark_done(out: Path, layout: dict, rows: tuple[int, int]) -> None:
    """Records the piece ``rows`` as written (its rows flushed already)."""
    write_json(_marker(out, rows), {**layout, "rows": list(rows)})


def forget(out: Path) -> None:
    """Removes the layout record and every piece's marker."""
    (out / LAYOUT_FILE).unlink(missing_ok=True)
    for p in out.glob(".rows-*.json"):
        p.unlink(missing_ok=True)


def same_layout(out: Path, layout: dict) -> bool:
    return read_json(out / LAYOUT_FILE) == layout


def record_layout(out: Path, layout: dict) -> None:
    write_json(out / LAYOUT_FILE, layout)
