"""A checkpoint's encoding of a store's images: written in batches through
memory maps (``encode``) and read back memory-mapped (``open_encoding``); see
``data.store`` for the store's layout."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
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
from explorer.model.checkpoint import weights_hash
from explorer.model.protocol import LatentModel, batched


@torch.inference_mode()
def encode(
    model: LatentModel,
    checkpoint: str | Path,
    store: str | Path,
    batch_size: int = 4096,
    progress: bool = True,
    weights: str | None = None,
) -> Path:
    """Streams the store's images through ``model`` into ``store/<checkpoint>/``:
    posterior means (and log-variances), and per image the reconstruction
    error at the mean, the KL to the prior and the loss (as ``image_measures``).

    ``checkpoint`` is a checkpoint folder (its weights file's hash is
    recorded), or a name with ``weights`` the model's fingerprint (a model
    the explorer did not train, see ``adapters.fingerprint``).
    """
    store, checkpoint = Path(store), Path(checkpoint)
    data = open_dataset(store)
    shape = tuple(model.image_shape)
    if shape != data.image_shape:
        raise StoreError(
            "image_shape", model=checkpoint.name, want=shape, shape=data.image_shape
        )
    if model.num_classes and data.labels is None:
        raise StoreError("no_labels", model=checkpoint.name)
    out = store / checkpoint.name
    out.mkdir(exist_ok=True)
    (out / ENCODING_FILE).unlink(missing_ok=True)
    n, d = len(data), model.latent_dim
    parts = {"mean": open_array(out / ".mean.npy.part", np.float32, (n, d))}
    if model.kind != "ae":
        parts["logvar"] = open_array(out / ".logvar.npy.part", np.float32, (n, d))
    for m in MEASURE_FILES:
        parts[m] = open_array(out / f".{m}.npy.part", np.float32, (n,))
    start = time.perf_counter()
    for rows, images, labels in tqdm(
        batched(model, data.images, data.labels, batch_size),
        total=-(-n // batch_size),
        desc=f"encoding {checkpoint.name}",
        disable=None if progress else True,  # None: off when not a terminal
    ):
        x = torch.from_numpy(np.array(images)).float() / 255
        y = None if labels is None else torch.from_numpy(np.array(labels))
        enc = model.encode(x, y)
        parts["mean"][rows] = enc.mean.numpy()
        if enc.logvar is not None:
            parts["logvar"][rows] = enc.logvar.numpy()
        measures = batch_measures(model, x, y, enc)
        for m in MEASURE_FILES:
            parts[m][rows] = measures[m].numpy() if m in measures else 0.0
    seconds = time.perf_counter() - start
    finish(parts, out)
    write_json(
        out / ENCODING_FILE,
        {
            "version": VERSION,
            "checkpoint": checkpoint.name,
            "weights_sha256": weights or weights_hash(checkpoint),
            "images": n,
            "latent_dim": d,
            "variational": model.kind != "ae",
            "seconds": seconds,
        },
    )
    return out


@dataclass(frozen=True)
class StoredEncoding:
    """A checkpoint's codes and measures of a store's images (memory-mapped)."""

    mean: np.ndarray
    logvar: np.ndarray | None
    measures: dict[str, np.ndarray]


def encoded_with(store: str | Path, name: str) -> str | None:
    """The weights fingerprint of ``store/<name>``'s complete encoding, or None."""
    try:
        return str(read_record(Path(store) / name / ENCODING_FILE)["weights_sha256"])
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
