"""Encoded datasets on disk, for datasets too large to encode at every start.

A store is a folder (by default ``$XDG_CACHE_HOME/latent-explorer/spaces/<name>``,
or under ``EXPLORER_SPACES_DIR``) holding:

- ``images.npy``: the images as the models see them, uint8 ``[N, C, H, W]``,
  packed once from a folder (read lazily by a ``DataLoader`` with workers) or
  a built-in split; ``labels.npy`` (int64 ``[N]``) when labelled;
  ``dataset.json`` describes them.
- one sub-folder per checkpoint: ``mean.npy`` and ``logvar.npy`` (float32
  ``[N, D]``, a VAE's), ``recon.npy``, ``kl.npy``, ``loss.npy`` (float32
  ``[N]``), and ``encoding.json`` with the checkpoint's weights hash.

Every array is written through a memory map in batches, so memory stays
bounded whatever ``N``, and read back memory-mapped (the app pages in only
what it touches). Files are written under temporary names and the JSON that
marks them complete comes last: an interrupted run leaves nothing that looks
finished. Arrays are ``.npy`` files read with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from explorer.checkpoint import WEIGHTS_FILE
from explorer.data import (
    BUILTIN,
    FolderImages,
    ImageDataset,
    cache_dir,
    collate_batch,
)
from explorer.explore import batch_measures
from explorer.fileio import write_json
from explorer.models import Autoencoder

SPACES_ENV = "EXPLORER_SPACES_DIR"
DATASET_FILE = "dataset.json"
ENCODING_FILE = "encoding.json"
VERSION = 1
MEASURE_FILES = ("recon", "kl", "loss")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class StoreError(RuntimeError):
    """A store is missing, incomplete, stale or malformed."""


def spaces_dir() -> Path:
    """Where stores live: ``EXPLORER_SPACES_DIR``, else the user cache."""
    return Path(os.environ.get(SPACES_ENV) or cache_dir() / "spaces")


def check_name(name: str) -> str:
    if not NAME.match(name) or name in BUILTIN:
        raise StoreError(
            f"{name!r} cannot name a store: use letters, digits, '.', '_' or '-' "
            f"(not a built-in dataset's name: {', '.join(sorted(BUILTIN))})"
        )
    return name


# --- memory ------------------------------------------------------------------------


def _anon_mb(proc: psutil.Process) -> float:
    """A process's resident anonymous memory (what it allocated): resident
    minus file-backed and shared pages (memory-mapped files, which the kernel
    can drop)."""
    m = proc.memory_info()
    return (m.rss - m.shared) / 2**20


class MemoryWatch:
    """Samples the resident memory of this process and of its children (the
    loader workers that decode files) while running.

    ``growth_mb`` is the peak, over the samples, of what the process tree
    allocated on top of where it started: this process's anonymous memory
    above its start, plus each child's above its first sample (a forked
    worker starts with its parent's pages mapped, which are not new memory).
    ``peak_anon_mb`` is the start plus that growth, and ``peak_rss_mb`` the
    peak of resident memory, file pages included, summed over the tree.
    """

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self._me = psutil.Process()
        self.start_anon_mb = _anon_mb(self._me)
        self.growth_mb = 0.0
        self.peak_rss_mb = self._me.memory_info().rss / 2**20
        self._child_base: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        grown = _anon_mb(self._me) - self.start_anon_mb
        rss = self._me.memory_info().rss / 2**20
        for child in self._me.children(recursive=True):
            try:
                anon, child_rss = _anon_mb(child), child.memory_info().rss / 2**20
            except psutil.Error:  # it ended between the listing and the reading
                continue
            base = self._child_base.setdefault(child.pid, anon)
            grown += max(0.0, anon - base)
            rss += child_rss
        self.growth_mb = max(self.growth_mb, grown)
        self.peak_rss_mb = max(self.peak_rss_mb, rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def peak_anon_mb(self) -> float:
        return self.start_anon_mb + self.growth_mb


# --- writing -------------------------------------------------------------------------


def _open_array(path: Path, dtype, shape: tuple[int, ...]) -> np.memmap:
    return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)


def _finish(parts: dict[str, np.memmap], folder: Path) -> None:
    for name, arr in parts.items():
        arr.flush()
        os.replace(folder / f".{name}.npy.part", folder / f"{name}.npy")


class _Stored(torch.utils.data.Dataset):
    """Items of a ``FolderImages`` as stored (uint8), a quarter of the float
    tensors' size in the loader's queues."""

    def __init__(self, folder: FolderImages):
        self.folder = folder

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        labels = self.folder.labels
        x = torch.from_numpy(np.array(self.folder.read(i)))
        return x, -1 if labels is None else int(labels[i])


def _batches(source, batch_size: int, workers: int):
    """``(uint8 images, labels)`` batches of an ``ImageDataset`` (sliced), a
    ``FolderImages`` (decoded by ``workers`` loader processes), or any torch
    dataset of uint8 ``(image, label)`` items."""
    if isinstance(source, ImageDataset):
        for i in range(0, len(source), batch_size):
            labels = (
                None if source.labels is None else source.labels[i : i + batch_size]
            )
            yield source.images[i : i + batch_size], labels
        return
    if isinstance(source, FolderImages):
        source = _Stored(source)
    loader = DataLoader(
        source, batch_size=batch_size, num_workers=workers, collate_fn=collate_batch
    )
    for x, y in loader:
        yield x.numpy(), y.numpy()


def pack(
    source,
    out: str | Path,
    name: str,
    batch_size: int = 256,
    workers: int = 0,
    progress: bool = True,
    describe: str = "",
) -> Path:
    """Streams every image of ``source`` into the store ``out``.

    Args:
        source: an ``ImageDataset``, a ``FolderImages`` (read lazily by
            ``workers`` loader processes), or a torch dataset of uint8
            ``(image, label)`` items with ``labels``, ``class_names`` and
            ``image_shape`` attributes.
        out: the store's folder (created).
        name: the dataset's name in the app.
        describe: where the images came from, for ``dataset.json``.
    """
    check_name(name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DATASET_FILE).unlink(missing_ok=True)
    n, shape = len(source), tuple(source.image_shape)
    labelled = source.labels is not None
    parts = {"images": _open_array(out / ".images.npy.part", np.uint8, (n, *shape))}
    if labelled:
        parts["labels"] = _open_array(out / ".labels.npy.part", np.int64, (n,))
    i = 0
    with tqdm(
        total=n, desc=f"packing {name}", disable=None if progress else True
    ) as bar:
        for x, y in _batches(source, batch_size, workers):
            parts["images"][i : i + len(x)] = x
            if labelled:
                parts["labels"][i : i + len(x)] = y
            i += len(x)
            bar.update(len(x))
    _finish(parts, out)
    write_json(
        out / DATASET_FILE,
        {
            "version": VERSION,
            "name": name,
            "source": describe or getattr(source, "name", ""),
            "images": n,
            "image_shape": list(shape),
            "class_names": list(source.class_names),
            "labelled": labelled,
        },
    )
    return out


def weights_hash(checkpoint: str | Path) -> str:
    return hashlib.sha256((Path(checkpoint) / WEIGHTS_FILE).read_bytes()).hexdigest()


@torch.inference_mode()
def encode(
    model: Autoencoder,
    checkpoint: str | Path,
    store: str | Path,
    batch_size: int = 4096,
    progress: bool = True,
) -> Path:
    """Streams the store's images through ``model`` into ``store/<checkpoint>/``:
    posterior means (and log-variances), and per image the reconstruction
    error at the mean, the KL to the prior and the loss (as ``image_measures``).
    """
    store, checkpoint = Path(store), Path(checkpoint)
    data = open_dataset(store)
    cfg = model.config
    if tuple(cfg.image_shape) != data.image_shape:
        raise StoreError(
            f"{checkpoint.name} expects images of shape {tuple(cfg.image_shape)}, "
            f"the store holds {data.image_shape}"
        )
    if cfg.conditional and data.labels is None:
        raise StoreError(f"{checkpoint.name} is conditional; the store has no labels")
    out = store / checkpoint.name
    out.mkdir(exist_ok=True)
    (out / ENCODING_FILE).unlink(missing_ok=True)
    n, d = len(data), cfg.latent_dim
    parts = {"mean": _open_array(out / ".mean.npy.part", np.float32, (n, d))}
    if cfg.variational:
        parts["logvar"] = _open_array(out / ".logvar.npy.part", np.float32, (n, d))
    for m in MEASURE_FILES:
        parts[m] = _open_array(out / f".{m}.npy.part", np.float32, (n,))
    start = time.perf_counter()
    for i in tqdm(
        range(0, n, batch_size),
        desc=f"encoding {checkpoint.name}",
        disable=None if progress else True,  # None: off when not a terminal
    ):
        x = torch.from_numpy(np.array(data.images[i : i + batch_size])).float() / 255
        y = None
        if cfg.conditional:
            y = torch.from_numpy(np.array(data.labels[i : i + batch_size]))
        enc = model.encode(x, y)
        rows = slice(i, i + len(x))
        parts["mean"][rows] = enc.mean.numpy()
        if enc.logvar is not None:
            parts["logvar"][rows] = enc.logvar.numpy()
        measures = batch_measures(model, x, y, enc)
        for m in MEASURE_FILES:
            parts[m][rows] = measures[m].numpy() if m in measures else 0.0
    seconds = time.perf_counter() - start
    _finish(parts, out)
    write_json(
        out / ENCODING_FILE,
        {
            "version": VERSION,
            "checkpoint": checkpoint.name,
            "weights_sha256": weights_hash(checkpoint),
            "images": n,
            "latent_dim": d,
            "variational": cfg.variational,
            "seconds": seconds,
        },
    )
    return out


# --- reading -------------------------------------------------------------------------


def _load(path: Path, shape0: int) -> np.ndarray:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        raise StoreError(f"{path}: unreadable ({e})") from e
    if len(arr) != shape0:
        raise StoreError(f"{path}: {len(arr)} rows, expected {shape0}")
    return arr


def _read_json(path: Path) -> dict:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise StoreError(
            f"{path.parent}: not a complete store ({path.name}: {e}); "
            "run `python -m explorer encode` again"
        ) from e
    if not isinstance(record, dict) or record.get("version") != VERSION:
        raise StoreError(f"{path}: not a version {VERSION} store file")
    return record


def open_dataset(store: str | Path) -> ImageDataset:
    """The store's images (memory-mapped, read-only) and labels."""
    store = Path(store)
    meta = _read_json(store / DATASET_FILE)
    n = int(meta["images"])
    images = _load(store / "images.npy", n)
    if images.dtype != np.uint8 or images.shape[1:] != tuple(meta["image_shape"]):
        raise StoreError(f"{store}/images.npy: not uint8 {meta['image_shape']}")
    labels = _load(store / "labels.npy", n) if meta["labelled"] else None
    name = check_name(str(meta["name"]))
    return ImageDataset(images, labels, tuple(meta["class_names"]), name, "all")


@dataclass(frozen=True)
class Encoding:
    """A checkpoint's codes and measures of a store's images (memory-mapped)."""

    mean: np.ndarray
    logvar: np.ndarray | None
    measures: dict[str, np.ndarray]


def open_encoding(store: str | Path, checkpoint: str | Path) -> Encoding:
    """Reads ``store/<checkpoint>``; refuses one made with other weights."""
    folder = Path(store) / Path(checkpoint).name
    meta = _read_json(folder / ENCODING_FILE)
    if meta["weights_sha256"] != weights_hash(checkpoint):
        raise StoreError(
            f"{folder} was encoded with other weights of {Path(checkpoint).name}; "
            "run `python -m explorer encode` again"
        )
    n = int(meta["images"])
    mean = _load(folder / "mean.npy", n)
    logvar = _load(folder / "logvar.npy", n) if meta["variational"] else None
    measures = {m: _load(folder / f"{m}.npy", n) for m in MEASURE_FILES}
    if not meta["variational"]:
        del measures["kl"]
    return Encoding(mean, logvar, measures)


def list_stores(root: str | Path | None = None) -> dict[str, tuple[Path, list[str]]]:
    """Complete stores under ``root`` (default ``spaces_dir()``): name ->
    (folder, the checkpoint names it holds complete encodings of)."""
    root = Path(root) if root else spaces_dir()
    out = {}
    if not root.is_dir():
        return out
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            meta = _read_json(folder / DATASET_FILE)
        except StoreError:
            continue
        try:  # the name is shown in the app and put in links: checked again
            name = check_name(str(meta.get("name", folder.name)))
        except StoreError:
            continue
        names = sorted(
            p.name for p in folder.iterdir() if (p / ENCODING_FILE).is_file()
        )
        out[name] = (folder, names)
    return out
