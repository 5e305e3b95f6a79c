"""A store kept fresh: its images packed again when their content changed,
and each model's encoding made again when the model's weights or the store
did. ``latent-explorer encode`` and ``explorer.explore`` both go through
``ensure_encoded``; see ``data.store`` for the store's layout."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from explorer.data.load import loader_workers
from explorer.data.store import DATASET_FILE, VERSION, pack, read_record
from explorer.fileio import exclusive, read_json
from explorer.latent.encoded import encode, encoded_with
from explorer.latent.placement import Placement
from explorer.latent.shards import Group
from explorer.model.protocol import LatentModel


@dataclass(frozen=True)
class Images:
    """What a store is to hold: ``source`` (anything ``pack`` takes), the
    dataset's ``name`` in the app, ``key`` (``data.store.content_key`` of
    ``source``) and ``describe``, where the images came from."""

    source: object
    name: str
    key: str
    describe: str = ""


@dataclass(frozen=True)
class ToEncode:
    """A model to encode the store with: ``name`` is its encoding's folder in
    the store, ``weights`` the fingerprint the encoding is kept under (a
    checkpoint's weights hash, or ``adapters.fingerprint``; one never seen
    before always encodes again)."""

    model: LatentModel
    name: str
    weights: str


@dataclass(frozen=True)
class Step:
    """One part of the work: ``what`` is ``"pack"`` or ``"encode"``, ``name``
    the dataset's or the encoding's; ``seconds`` it took, or None when what
    the store held was fresh and reused."""

    what: str
    name: str
    images: int
    seconds: float | None = None

    @property
    def done(self) -> bool:
        return self.seconds is not None


def _packed(store: Path, images: Images, repack: bool) -> int | None:
    """The number of images ``store`` holds when it holds ``images`` as they
    are now (same content key and name), else None."""
    record = read_json(store / DATASET_FILE) or {}
    same = record.get("content") == images.key and record.get("name") == images.name
    if repack or not images.key or record.get("version") != VERSION or not same:
        return None
    return int(record["images"])


def _pack(store: Path, images: Images, workers: int | None, progress: bool) -> Step:
    w = loader_workers(images.source) if workers is None else workers
    t = time.perf_counter()
    pack(
        images.source, store, images.name, 256, w, progress, images.describe, images.key
    )
    return Step("pack", images.name, len(images.source), time.perf_counter() - t)


def ensure_encoded(
    store: str | Path,
    models: Sequence[ToEncode],
    images: Images | None = None,
    *,
    repack: bool = False,
    batch_size: int = 4096,
    workers: int | None = None,
    progress: bool = True,
    where: Placement | None = None,
    group: Group | None = None,
) -> list[Step]:
    """Makes ``store`` hold ``images`` and a complete encoding by each model,
    doing only what is missing or stale.

    The images are packed when the store holds none, other ones (its recorded
    content key differs: a file of a folder was added, removed or rewritten),
    or ``repack`` asks; packing drops the store's old encodings. An encoding
    is made when the store has none under the model's name with the model's
    ``weights``, computed in ``where``'s dtype.

    Under ``torchrun`` every process calls this with its ``group``: process
    0 packs (the others pass ``images=None`` and wait for it), then each
    encodes its share of every stale encoding (``encoded.encode``).

    Args:
        store: the store's folder.
        models: what to encode the store with.
        images: what to pack; None for a store used as it is.
        repack: pack the images again even when unchanged (and so encode again).
        batch_size: images per encoding batch.
        workers: loader processes for packing (default ``loader_workers``).
        progress: progress bars (process 0's).
        where: the device and dtype of the models' arithmetic (default: the
            CPU, float32).
        group: the processes sharing the work (default: this one alone).

    Returns:
        One ``Step`` per part, packing first, then each model in order.

    Raises:
        StoreError: ``images`` is None and ``store`` is not a complete store;
            or a model's image shape or classes do not fit the store.
    """
    store = Path(store)
    where, group = where or Placement(), group or Group()
    # Two runs on one store (two explores, an encode while one serves) take
    # turns: the second finds the first's work done and reuses it. Under
    # torchrun, process 0 holds the lock for its group, whose processes
    # meet at barriers instead (one waiting on the lock would hold them all).
    with exclusive(store) if group.is_main else nullcontext():
        return _ensure(
            store, models, images, repack, batch_size, workers, progress, where, group
        )


def _ensure(store, models, images, repack, batch_size, workers, progress, where, group):
    steps = []
    if images is not None and group.is_main:
        n = _packed(store, images, repack)
        steps.append(
            Step("pack", images.name, n)
            if n is not None
            else _pack(store, images, workers, progress)
        )
    group.barrier()  # the store is packed before any process reads it
    n = int(read_record(store / DATASET_FILE)["images"])
    for m in models:
        if encoded_with(store, m.name, where.dtype_name) == m.weights:
            steps.append(Step("encode", m.name, n))
            continue
        t = time.perf_counter()
        encode(m.model, m.name, store, batch_size, progress, m.weights, where, group)
        steps.append(Step("encode", m.name, n, time.perf_counter() - t))
    return steps
