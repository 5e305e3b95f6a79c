"""The public Python API: open any model the explorer can take, checked on
data images (``load_model``), and explore one or two of them on a dataset
(``explore``, which ``latent-explorer explore`` calls)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import numpy as np
import torch

from explorer.app.session import Served, Session, SessionModel, serve
from explorer.data.dataset import FOLDER_PREFIX, DatasetError, ImageDataset
from explorer.data.folder import FolderImages
from explorer.data.load import load_dataset
from explorer.data.store import (
    DATASET_FILE,
    check_name,
    content_key,
    list_stores,
    open_dataset,
    spaces_dir,
)
from explorer.fileio import read_json
from explorer.latent.fresh import Images, Step, ToEncode, ensure_encoded
from explorer.latent.placement import placement
from explorer.model.adapters import (
    ModelContractError,
    fingerprint,
    needs_data,
    open_model,
    wrap,
)
from explorer.model.protocol import LatentModel

CHECK_IMAGES = 2  # the contract is checked on this many data images


def _sample(
    data: ImageDataset | torch.Tensor | str | None,
    split: str,
    data_dir: str | Path | None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    if data is None:
        raise ValueError(
            "a model the explorer did not train is checked on data images: pass "
            "data= (a dataset name, an ImageDataset, or images [B, C, H, W] in [0, 1])"
        )
    if isinstance(data, torch.Tensor):
        return data[:CHECK_IMAGES].float(), None
    if isinstance(data, str):
        data = load_dataset(data, split, data_dir)
    part = data.subset(slice(0, CHECK_IMAGES))
    return part.tensors()


def load_model(
    ref: str | Path | object,
    data: ImageDataset | torch.Tensor | str | None = None,
    split: str = "test",
    value_range: tuple[float, float] = (0.0, 1.0),
    data_dir: str | Path | None = None,
    allow_pickle: bool = False,
) -> LatentModel:
    """Opens a model for the explorer.

    Args:
        ref: a checkpoint folder or name of the explorer's own (as before);
            a user's ``package.module:factory`` or ``path/to/file.py:factory``;
            a pythae or a diffusers (``AutoencoderKL``, ``AutoencoderTiny``)
            folder; or a model object with ``encode`` and ``decode``.
        data: the data a user's model is checked on (and its latent size
            found by a trial encode): a dataset name, an ``ImageDataset``, or
            images ``[B, C, H, W]`` in [0, 1]. Not needed for a checkpoint.
        split: the split of a named dataset.
        value_range: the pixel range a user's model takes and makes.
        allow_pickle: let a pythae folder's pickled custom networks load.

    Returns:
        A ``LatentModel``: the explorer's own ``Autoencoder``, or an adapter.

    Raises:
        CheckpointError: a broken checkpoint folder.
        ModelContractError: a user's model that breaks the contract, in one
            line naming what is wrong.
    """
    if _own(ref):
        return open_model(ref)
    images, labels = _sample(data, split, data_dir)
    return _checked(ref, images, labels, value_range, allow_pickle)


def _own(ref: object) -> bool:
    """Whether ``ref`` names a checkpoint of the explorer's own (no data needed)."""
    return isinstance(ref, str | Path) and not needs_data(str(ref))


def _checked(
    ref: object,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    value_range: tuple[float, float],
    allow_pickle: bool,
) -> LatentModel:
    """A reference or a model object, opened and checked on ``images``."""
    if isinstance(ref, str | Path):
        return open_model(ref, images, labels, value_range, allow_pickle)
    return wrap(ref, type(ref).__name__, images, labels, value_range)


# --- explore ---------------------------------------------------------------------

ModelRef = str | Path | object


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:limit] or "data"


class _Data:
    """The data to explore: what to pack (or an existing store), a name, a
    key that changes whenever the images do, and images to check models on."""

    def __init__(self, source, slug: str, key: str, label: str, store=None):
        self.source, self.slug, self.key, self.store = source, slug, key, store
        self.label = label  # the dataset's name on the page

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.source.image_shape)

    def sample(self, n: int = CHECK_IMAGES) -> tuple[torch.Tensor, torch.Tensor | None]:
        if isinstance(self.source, FolderImages):
            items = [self.source[i] for i in range(min(n, len(self.source)))]
            x = torch.stack([torch.as_tensor(im) for im, _ in items]).float()
            labels = self.source.labels
            y = None if labels is None else torch.as_tensor(labels[: len(x)].copy())
            return x, y
        return self.source.subset(slice(0, n)).tensors()


def _folder_shape(root: Path) -> tuple[int, tuple[int, int]]:
    """Channels (1 for a grey first image, else 3) and size of a folder's
    first image: a folder explored with models of unknown size keeps its own."""
    from PIL import Image

    files = FolderImages(root).files
    try:
        with Image.open(files[0]) as im:
            grey = im.mode in ("1", "L", "LA", "I", "I;16", "F")
            return (1 if grey else 3), (im.height, im.width)
    except OSError as e:
        raise DatasetError("unreadable_image", path=files[0], reason=e) from e


def _array_data(data, labels) -> _Data:
    images = np.asarray(data.detach().cpu() if isinstance(data, torch.Tensor) else data)
    if images.ndim != 4:
        raise DatasetError("array_shape", shape=list(images.shape))
    if images.dtype != np.uint8:
        if images.size and (images.min() < 0 or images.max() > 1):
            raise DatasetError("array_range")
        images = np.round(images.astype(np.float32) * 255).astype(np.uint8)
    names: tuple[str, ...] = ()
    y = None
    if labels is not None:
        raw = np.asarray(labels)
        if len(raw) != len(images):
            raise DatasetError("label_count", labels=len(raw), images=len(images))
        if raw.dtype.kind in "iu":  # class numbers: every class up to the largest
            names_list = [str(v) for v in range(int(raw.max()) + 1)]
        else:  # class names: shorter first, then alphabetical
            names_list = sorted({str(v) for v in raw}, key=lambda v: (len(v), v))
        index = {n: i for i, n in enumerate(names_list)}
        y = np.array([index[str(v)] for v in raw], dtype=np.int64)
        names = tuple(names_list)
    ds = ImageDataset(np.ascontiguousarray(images), y, names, "images", "all")
    return _Data(ds, "images", content_key(ds), "your images")


def _open_data(
    data, labels, split: str, data_dir, shape: tuple[int, ...] | None
) -> _Data:
    if isinstance(data, ImageDataset):
        slug = _slug(f"{data.name}-{data.split}")
        return _Data(data, slug, content_key(data), f"{data.name} ({data.split})")
    if not isinstance(data, str | Path):
        return _array_data(data, labels)
    name = str(data)
    stores = list_stores()
    if name in stores:
        folder = stores[name][0]
        return _Data(open_dataset(folder), name, name, name, store=folder)
    if name.startswith(FOLDER_PREFIX):
        root = Path(name[len(FOLDER_PREFIX) :]).expanduser().resolve()
        channels, size = _folder_shape(root) if shape is None else (shape[0], shape[1:])
        images = FolderImages(root, size, channels, split="all")
        key = content_key(images)
        return _Data(images, _slug(root.name), key, f"folder {root.name}")
    ds = load_dataset(name, split, data_dir)
    return _Data(ds, _slug(f"{name}-{split}"), content_key(ds), f"{name} ({split})")


def prepare(
    models: list[ModelRef],
    data: ImageDataset | torch.Tensor | np.ndarray | str | Path = "fashion-mnist",
    labels=None,
    split: str = "test",
    data_dir: str | Path | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    allow_pickle: bool = False,
    progress: bool = True,
    report=None,
    device: str = "auto",
    dtype: str = "float32",
) -> Session:
    """Opens the models, packs the data into a store and encodes it with each
    model (``latent.fresh.ensure_encoded``) on ``device`` in ``dtype`` (see
    ``latent.placement``; the models are put back on the CPU in float32 for
    the page); both steps are skipped when the store already holds them
    (keyed by the data's content, each model's weights fingerprint and the
    dtype). ``report(line)`` is told what was done and what was reused."""
    say = report or (lambda line: None)
    if not 1 <= len(models) <= 2:
        raise ValueError("explore one or two models")
    where = placement(device, dtype)
    own = {i: open_model(r) for i, r in enumerate(models) if _own(r)}
    shape = next((tuple(m.image_shape) for m in own.values()), None)
    d = _open_data(data, labels, split, data_dir, shape)
    opened = [
        own[i] if i in own else _checked(r, *d.sample(), value_range, allow_pickle)
        for i, r in enumerate(models)
    ]
    for m in opened:
        if tuple(m.image_shape) != d.image_shape:
            raise ModelContractError(
                "image_shape",
                name=m.name,
                shape=list(m.image_shape),
                want=list(d.image_shape),
            )
    if d.store is not None:
        store, name, images = d.store, d.slug, None
    else:
        name = check_name(f"explore-{d.slug}-{d.key[:10]}")
        store = spaces_dir() / name
        images = Images(d.source, name, d.key, d.label)
    chosen = []
    for m in opened:
        weights = fingerprint(m) or f"unhashed-{uuid.uuid4().hex}"
        key = check_name(f"{_slug(m.name, 40)}-{weights[:10]}")
        display = m.name if m.name not in {c.name for c in chosen} else f"{m.name} (2)"
        chosen.append(SessionModel(key, display, m, weights))
    todo = [ToEncode(c.model, c.key, c.weights) for c in chosen]
    steps = ensure_encoded(store, todo, images, progress=progress, where=where)
    names = {c.key: c.model.name for c in chosen}
    for step in steps:
        say(_said(step, d.label, store, names))
    n = int(read_json(store / DATASET_FILE)["images"])
    return Session(name, store, tuple(chosen), d.label, n)


def _said(step: Step, label: str, store: Path, names: dict[str, str]) -> str:
    """``prepare``'s report of one step."""
    if step.what == "pack":
        if step.done:
            return f"{label}: packed {step.images:,} images into {store}"
        return f"{label}: reusing {store}"
    if step.done:
        return f"{names[step.name]}: encoded {step.images:,} images"
    return f"{names[step.name]}: reusing its encoding (same weights)"


def explore(
    model_a: ModelRef,
    model_b: ModelRef | None = None,
    data: ImageDataset | torch.Tensor | np.ndarray | str | Path = "fashion-mnist",
    labels=None,
    *,
    split: str = "test",
    data_dir: str | Path | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    allow_pickle: bool = False,
    port: int | None = None,
    address: str = "127.0.0.1",
    open_browser: bool = False,
    progress: bool = True,
    device: str = "auto",
    dtype: str = "float32",
) -> Served:
    """Explores one or two models on a dataset: the app, started on exactly
    these models in a background thread of this process.

    Args:
        model_a, model_b: models in memory (an ``nn.Module`` or any object
            with ``encode`` and ``decode``, or the explorer's own), or
            references as ``load_model`` takes them. With one model the page
            shows one map.
        data: a built-in dataset's name, ``folder:PATH``, a store's name, an
            ``ImageDataset``, or images ``[N, C, H, W]`` (uint8, or floats in
            [0, 1]).
        labels: the images' classes (ints or names), for an array of images.
        port: the port (default: a free one); ``address`` the interface.
        open_browser: open the page in the default browser.
        device: where the data is encoded: ``auto`` (a GPU when there is
            one), ``cpu``, ``cuda`` or ``cuda:N``; the model's contract is
            checked there. The page itself runs the models on the CPU.
        dtype: the models' arithmetic while encoding: ``float32``,
            ``bfloat16`` or ``float16`` (codes and measures stay float32).

    Returns:
        The running explorer: ``.url``, ``.stop()``, ``.selection`` (the
        images last picked with a lasso or box in the page, as dataset
        indices; assign indices to select them there); shown inline in
        Jupyter.

    Raises:
        ModelContractError, CheckpointError, DatasetError, StoreError,
            DeviceError: in one line naming what is wrong.
    """
    models = [model_a] if model_b is None else [model_a, model_b]
    session = prepare(
        models,
        data,
        labels,
        split,
        data_dir,
        value_range,
        allow_pickle,
        progress,
        report=print if progress else None,
        device=device,
        dtype=dtype,
    )
    return serve(session, port, address, headless=not open_browser)
