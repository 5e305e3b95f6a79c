"""Stores: datasets packed on disk, with their encodings, for datasets too
large to encode at every start. This module packs and reads the images;
``latent.encoded`` writes and reads the encodings.

A store is a folder (by default ``$XDG_CACHE_HOME/latent-explorer/spaces/<name>``,
or under ``EXPLORER_SPACES_DIR``) holding:

- ``images.npy``: the images as the models see them, uint8 ``[N, C, H, W]``,
  packed once from a folder (read lazily by a ``DataLoader`` with workers) or
  a built-in split; ``labels.npy`` (int64 ``[N]``) when labelled;
  ``dataset.json`` describes them (with their ``content_key``).
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
import os
import re
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from explorer.data.builtin import BUILTIN
from explorer.data.dataset import ImageDataset, cache_dir, collate_batch
from explorer.data.folder import FolderImages
from explorer.fileio import load_json, write_json
from explorer.problem import Problem

SPACES_ENV = "EXPLORER_SPACES_DIR"
DATASET_FILE = "dataset.json"
ENCODING_FILE = "encoding.json"
VERSION = 1
MEASURE_FILES = ("recon", "kl", "loss")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class StoreError(Problem, RuntimeError):
    """A store is missing, incomplete, stale or malformed."""

    MESSAGES = {
        "name": "{name!r} cannot name a store: use letters, digits, '.', '_' or "
        "'-' (not a built-in dataset's name: {builtin})",
        "unreadable": "{path}: unreadable ({reason})",
        "rows": "{path}: {rows} rows, expected {want}",
        "incomplete": "{store}: not a complete store ({file}: {reason}); run "
        "`python -m explorer encode` again",
        "version": "{path}: not a version {version} store file",
        "images": "{path}: not uint8 {shape}",
        "image_shape": "{model} expects images of shape {want}, the store holds "
        "{shape}",
        "no_labels": "{model} is conditional; the store has no labels",
        "orphan": "{store} holds an encoding by {model}, but no checkpoint of "
        "that name is in the weights folder",
        "stale": "{store} was encoded with other weights of {model}; run "
        "`python -m explorer encode` again",
    }


def spaces_dir() -> Path:
    """Where stores live: ``EXPLORER_SPACES_DIR``, else the user cache."""
    return Path(os.environ.get(SPACES_ENV) or cache_dir() / "spaces")


def check_name(name: str) -> str:
    if not NAME.match(name) or name in BUILTIN:
        raise StoreError("name", name=name, builtin=", ".join(sorted(BUILTIN)))
    return name


# --- writing -------------------------------------------------------------------------


def open_array(path: Path, dtype, shape: tuple[int, ...]) -> np.memmap:
    """A new ``.npy`` file's memory map, written in batches."""
    return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)


def finish(parts: dict[str, np.memmap], folder: Path) -> None:
    """Flushes the arrays and gives them their final names."""
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


def content_key(source: ImageDataset | FolderImages) -> str:
    """A SHA-256 of what packing ``source`` would store, which changes
    whenever its images, labels or class names do.

    An ``ImageDataset`` is hashed byte for byte (in slices, so a memory-mapped
    one is not read into memory at once). A ``FolderImages`` is hashed by what
    it reads: its folder, image size and channels, classes, and each file's
    path, size and modification time (reading every file of a folder larger
    than memory at every start would cost as much as packing it).
    """
    h = hashlib.sha256(repr(tuple(source.class_names)).encode())
    labels = source.labels
    h.update(b"unlabelled" if labels is None else np.ascontiguousarray(labels))
    if isinstance(source, FolderImages):
        h.update(repr((str(source.root), source.size, source.channels)).encode())
        for f in source.files:
            st = f.stat()
            h.update(
                f"{f.relative_to(source.root)}:{st.st_size}:{st.st_mtime_ns}\n".encode()
            )
        return h.hexdigest()
    if not isinstance(source, ImageDataset):
        raise TypeError(f"no content key for a {type(source).__name__}")
    images = source.images
    h.update(repr((images.dtype.str, images.shape)).encode())
    for i in range(0, len(images), 4096):
        h.update(np.ascontiguousarray(images[i : i + 4096]))
    return h.hexdigest()


def pack(
    source,
    out: str | Path,
    name: str,
    batch_size: int = 256,
    workers: int = 0,
    progress: bool = True,
    describe: str = "",
    content: str = "",
) -> Path:
    """Streams every image of ``source`` into the store ``out``. Encodings
    already in ``out`` are of the images being replaced: they stop being
    complete (``encoding.json`` removed), so they are made again, not read.

    Args:
        source: an ``ImageDataset``, a ``FolderImages`` (read lazily by
            ``workers`` loader processes), or a torch dataset of uint8
            ``(image, label)`` items with ``labels``, ``class_names`` and
            ``image_shape`` attributes.
        out: the store's folder (created).
        name: the dataset's name in the app.
        describe: where the images came from, for ``dataset.json``.
        content: the images' ``content_key``, recorded in ``dataset.json``
            for ``latent.fresh`` to tell whether they changed since.
    """
    check_name(name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DATASET_FILE).unlink(missing_ok=True)
    for old in out.glob(f"*/{ENCODING_FILE}"):
        old.unlink()
    n, shape = len(source), tuple(source.image_shape)
    labelled = source.labels is not None
    parts = {"images": open_array(out / ".images.npy.part", np.uint8, (n, *shape))}
    if labelled:
        parts["labels"] = open_array(out / ".labels.npy.part", np.int64, (n,))
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
    finish(parts, out)
    write_json(
        out / DATASET_FILE,
        {
            "version": VERSION,
            "name": name,
            "source": describe or getattr(source, "name", ""),
            "content": content,
            "images": n,
            "image_shape": list(shape),
            "class_names": list(source.class_names),
            "labelled": labelled,
        },
    )
    return out


# --- reading -------------------------------------------------------------------------


def load_array(path: Path, shape0: int) -> np.ndarray:
    """A stored array, memory-mapped read-only, checked to have ``shape0`` rows."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        raise StoreError("unreadable", path=path, reason=e) from e
    if len(arr) != shape0:
        raise StoreError("rows", path=path, rows=len(arr), want=shape0)
    return arr


def read_record(path: Path) -> dict:
    """A store's JSON record (``dataset.json``, ``encoding.json``), checked."""
    try:
        record = load_json(path)
    except (OSError, ValueError) as e:
        raise StoreError(
            "incomplete", store=path.parent, file=path.name, reason=e
        ) from e
    if record.get("version") != VERSION:
        raise StoreError("version", path=path, version=VERSION)
    return record


def open_dataset(store: str | Path) -> ImageDataset:
    """The store's images (memory-mapped, read-only) and labels."""
    store = Path(store)
    meta = read_record(store / DATASET_FILE)
    n = int(meta["images"])
    images = load_array(store / "images.npy", n)
    if images.dtype != np.uint8 or images.shape[1:] != tuple(meta["image_shape"]):
        path, shape = store / "images.npy", meta["image_shape"]
        raise StoreError("images", path=path, shape=shape)
    labels = load_array(store / "labels.npy", n) if meta["labelled"] else None
    name = check_name(str(meta["name"]))
    return ImageDataset(images, labels, tuple(meta["class_names"]), name, "all")


def list_stores(root: str | Path | None = None) -> dict[str, tuple[Path, list[str]]]:
    """Complete stores under ``root`` (default ``spaces_dir()``): name ->
    (folder, the checkpoint names it holds complete encodings of)."""
    root = Path(root) if root else spaces_dir()
    out = {}
    if not root.is_dir():
        return out
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            meta = read_record(folder / DATASET_FILE)
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
