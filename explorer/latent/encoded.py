"""A checkpoint's encoding of a store's images: written in batches through
memory maps (``encode``) and read back memory-mapped (``open_encoding``); see
``data.store`` for the store's layout."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.lib.format import open_memmap
from tqdm import tqdm

from explorer.data.store import (
    ENCODING_FILE,
    MEASURE_FILES,
    VERSION,
    StoreError,
    finish,
    load_array,
    open_array,
    open_dataset,
    read_record,
)
from explorer.fileio import write_json
from explorer.latent.measures import batch_measures
from explorer.latent.placement import Placement, placed
from explorer.latent.shards import (
    Group,
    cut_shares,
    forget,
    is_done,
    mark_done,
    record_layout,
    same_layout,
    store_id,
)
from explorer.model.adapters.contract import check
from explorer.model.checkpoint import weights_hash
from explorer.model.protocol import LatentModel


def encode(
    model: LatentModel,
    checkpoint: str | Path,
    store: str | Path,
    batch_size: int = 4096,
    progress: bool = True,
    weights: str | None = None,
    where: Placement | None = None,
    group: Group | None = None,
) -> Path:
    """Streams the store's images through ``model`` into ``store/<checkpoint>/``:
    posterior means (and log-variances), and per image the reconstruction
    error at the mean, the KL to the prior and the loss (as ``image_measures``),
    all float32 whatever the model's dtype.

    Every process of ``group`` (one alone by default; ``torchrun``'s) writes
    its share of the rows (``shards.cut_shares``) into the same memory-mapped
    files, reading only those rows of the store; process 0 writes the
    metadata once every share is done. A piece of a share finished by an
    interrupted run under the same layout is not encoded again.

    Args:
        model: the model (on the CPU, float32; moved to ``where`` meanwhile).
        checkpoint: a checkpoint folder (its weights file's hash is recorded),
            or a name with ``weights`` the model's fingerprint (a model the
            explorer did not train, see ``adapters.fingerprint``).
        store: the store's folder.
        batch_size: images per batch.
        where: the device and dtype of the model's arithmetic (default: the
            CPU in float32). The model's contract is checked there first.
        group: the processes sharing the work.

    Returns:
        The encoding's folder.
    """
    store, checkpoint = Path(store), Path(checkpoint)
    where, group = where or Placement(), group or Group()
    data = open_dataset(store)
    shape = tuple(model.image_shape)
    if shape != data.image_shape:
        raise StoreError(
            "image_shape", model=checkpoint.name, want=shape, shape=data.image_shape
        )
    if model.num_classes and data.labels is None:
        raise StoreError("no_labels", model=checkpoint.name)
    out = store / checkpoint.name
    n, d = len(data), model.latent_dim
    arrays = {"mean": (n, d)}
    if model.kind != "ae":
        arrays["logvar"] = (n, d)
    arrays.update({m: (n,) for m in MEASURE_FILES})
    layout = {
        "weights_sha256": weights or weights_hash(checkpoint),
        "store": store_id(store),
        "images": n,
        "latent_dim": d,
        "variational": model.kind != "ae",
        "batch_size": batch_size,
        "dtype": where.dtype_name,
        "device": where.device.type,
    }
    start = time.perf_counter()
    if group.is_main:
        _prepare(out, layout, arrays)
    group.barrier()  # the files exist, at their full size, for every process
    share = cut_shares(n, batch_size, group.world)[group.rank]
    with placed(model, where) as m:
        if n:
            x, y = _batch(data.images[:2], _labels(m, data, 0, 2), where.device)
            with torch.inference_mode():
                check(m, x, y)
        parts = {k: open_memmap(out / f".{k}.npy.part", mode="r+") for k in arrays}
        _encode_share(
            m, data, parts, out, layout, share, batch_size,
            progress and group.is_main, where.device,
        )  # fmt: skip
        del parts  # every process's maps closed before the files are renamed
    group.barrier()  # every share is written
    if not group.is_main:
        return out
    shares = cut_shares(n, batch_size, group.world)
    if not all(is_done(out, layout, p) for s in shares for p in s.pieces(batch_size)):
        raise StoreError(
            "incomplete", store=out, file=".rows-*.json", reason="a share is missing"
        )
    finish({k: open_memmap(out / f".{k}.npy.part", mode="r+") for k in arrays}, out)
    forget(out)
    write_json(
        out / ENCODING_FILE,
        {
            "version": VERSION,
            "checkpoint": checkpoint.name,
            "weights_sha256": layout["weights_sha256"],
            "images": n,
            "latent_dim": d,
            "variational": model.kind != "ae",
            "dtype": where.dtype_name,
            "seconds": time.perf_counter() - start,
        },
    )
    return out


def _prepare(out: Path, layout: dict, arrays: dict[str, tuple[int, ...]]) -> None:
    """Process 0: the encoding marked incomplete, and its ``.part`` files
    kept when an interrupted run left them under the same layout, else made
    afresh (with no piece marked done)."""
    out.mkdir(exist_ok=True)
    (out / ENCODING_FILE).unlink(missing_ok=True)
    parts = [out / f".{k}.npy.part" for k in arrays]
    if same_layout(out, layout) and all(p.is_file() for p in parts):
        return
    forget(out)
    for shape, path in zip(arrays.values(), parts, strict=True):
        open_array(path, np.float32, shape).flush()
    record_layout(out, layout)


def _labels(model: LatentModel, data, a: int, b: int):
    return data.labels[a:b] if model.num_classes else None


def _batch(images, labels, device: torch.device):
    """A batch of stored images as float32 in [0, 1] ``[B, C, H, W]`` on
    ``device`` (moved as uint8, a quarter of the bytes), and its labels."""
    x = torch.from_numpy(np.array(images)).to(device).float() / 255
    y = None if labels is None else torch.from_numpy(np.array(labels)).to(device)
    return x, y


@torch.inference_mode()
def _encode_share(model, data, parts, out, layout, share, batch_size, progress, device):
    """Encodes the pieces of ``share`` not done yet, marking each done once
    its rows are flushed."""
    todo = [p for p in share.pieces(batch_size) if not is_done(out, layout, p)]
    bar = tqdm(
        total=sum(b - a for a, b in todo),
        desc=f"encoding {out.name}",
        disable=None if progress else True,  # None: off when not a terminal
    )
    for a, b in todo:
        for i in range(a, b, batch_size):
            rows = slice(i, min(i + batch_size, b))
            labels = _labels(model, data, i, rows.stop)
            x, y = _batch(data.images[rows], labels, device)
            enc = model.encode(x, y)
            parts["mean"][rows] = enc.mean.cpu().numpy()
            if enc.logvar is not None:
                parts["logvar"][rows] = enc.logvar.cpu().numpy()
            measures = batch_measures(model, x, y, enc)
            for k in MEASURE_FILES:
                parts[k][rows] = measures[k].cpu().numpy() if k in measures else 0.0
            bar.update(rows.stop - rows.start)
        for arr in parts.values():
            arr.flush()
        mark_done(out, layout, (a, b))
    bar.close()


@dataclass(frozen=True)
class StoredEncoding:
    """A checkpoint's codes and measures of a store's images (memory-mapped)."""

    mean: np.ndarray
    logvar: np.ndarray | None
    measures: dict[str, np.ndarray]


def encoded_with(store: str | Path, name: str, dtype: str | None = None) -> str | None:
    """The weights fingerprint of ``store/<name>``'s complete encoding, or
    None; None too when ``dtype`` is given and the encoding was computed in
    another (one recorded with none was computed in float32)."""
    try:
        record = read_record(Path(store) / name / ENCODING_FILE)
        if dtype is not None and record.get("dtype", "float32") != dtype:
            return None
        return str(record["weights_sha256"])
    except (StoreError, KeyError):
        return None


def open_encoding(
    store: str | Path, checkpoint: str | Path, weights: str | None = None
) -> StoredEncoding:
    """Reads ``store/<checkpoint>``; refuses one made with other weights
    (``weights``, else the checkpoint folder's weights file's hash)."""
    folder = Path(store) / Path(checkpoint).name
    meta = read_record(folder / ENCODING_FILE)
    if meta["weights_sha256"] != (weights or weights_hash(checkpoint)):
        raise StoreError("stale", store=folder, model=Path(checkpoint).name)
    n = int(meta["images"])
    mean = load_array(folder / "mean.npy", n)
    logvar = load_array(folder / "logvar.npy", n) if meta["variational"] else None
    measures = {m: load_array(folder / f"{m}.npy", n) for m in MEASURE_FILES}
    if not meta["variational"]:
        del measures["kl"]
    return StoredEncoding(mean, logvar, measures)
