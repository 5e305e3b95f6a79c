"""What the app can show: the checkpoints found, grouped by dataset, and their data."""

from __future__ import annotations

import functools
import os
import re
import shlex
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import streamlit as st

from explorer.app import fits
from explorer.app import session as explore_session
from explorer.app.components import density
from explorer.app.components.latent_map import MapPoints, write_points
from explorer.app.i18n import N_, _
from explorer.data.builtin import BUILTIN, available_offline
from explorer.data.dataset import (
    DATA_DIR_ENV,
    FOLDER_PREFIX,
    DatasetError,
    ImageDataset,
    cache_dir,
    concatenate,
)
from explorer.data.load import load_dataset
from explorer.data.store import (
    DATASET_FILE,
    ENCODING_FILE,
    StoreError,
    list_stores,
    open_dataset,
    spaces_dir,
)
from explorer.fileio import read_json
from explorer.latent.align import AlignedProjection, Alignment, align
from explorer.latent.encoded import StoredEncoding as Encoding
from explorer.latent.encoded import open_encoding
from explorer.latent.maps import LABELS, ProjectionError
from explorer.latent.measures import MEASURES, image_measures
from explorer.latent.space import LatentSpace, build_space, encode_space
from explorer.model.checkpoint import (
    CONFIG_FILE,
    METRICS_FILE,
    REPO_WEIGHTS,
    TRAINING_FILE,
    WEIGHTS_FILE,
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
    read_config,
    weights_dir,
    weights_hash,
)
from explorer.training.job import trained_dir

# The smallest sample the "Points shown" slider offers (a dataset this small
# shows every image).
MIN_SAMPLE = 500
# Which pair a user sees first: an AE and a VAE, at the smallest latent size.
PAIR = ("ae", "vae")


@dataclass(frozen=True)
class Entry:
    """A checkpoint folder: its config, or why it cannot be read."""

    name: str
    path: Path
    dataset: str | None
    model_type: str | None
    latent_dim: int | None
    eval_split: str
    train_split: str
    error: Exception | None = None  # (its words: ``errors.describe``)
    store: Path | None = None  # the dataset is a store (see explorer.data.store)
    source: str = ""  # the data it was trained on (training.json), if known
    display: str = ""  # the name shown, when not ``name`` (an explore session's)

    @property
    def label(self) -> str:
        if self.error:
            return _("{name} (broken)").format(name=self.name)
        return self.display or self.name


def scan(root: Path | None = None) -> list[Entry]:
    """Every checkpoint folder under ``root`` (default: the weights folder), and
    each again for every store holding its encoding of a large dataset (with
    that store as its dataset).

    Read again only when a folder or one of its files changes (each rerun of
    the page calls this; stat-ing the files is much cheaper than parsing them).

    An explore session (``latent-explorer explore``) shows its models only.
    """
    session = explore_session.current()
    if session is not None:
        return session_entries(session)
    paths = list_checkpoints(root) + ([] if root else list_checkpoints(trained_dir()))
    stamp = tuple(
        (str(p), *(_mtime(p / f) for f in (CONFIG_FILE, TRAINING_FILE, WEIGHTS_FILE)))
        for p in paths
    )
    spaces = spaces_dir()
    folders = (
        sorted(p for p in spaces.iterdir() if p.is_dir()) if spaces.is_dir() else []
    )
    store_stamp = tuple(
        (
            str(f),
            _mtime(f / DATASET_FILE),
            *(_mtime(e) for e in f.glob(f"*/{ENCODING_FILE}")),
        )
        for f in folders
    )
    return _scan(stamp, str(spaces), store_stamp)


def weights_pin(path: str | Path) -> str | None:
    """The first 12 hex digits of the SHA-256 of a checkpoint's weights (what
    a link pins), or None for a model without a weights file (an explore
    session's own module)."""
    try:
        stat = (Path(path) / WEIGHTS_FILE).stat()
    except OSError:
        return None
    return _pin(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _pin(path: str, size: int, mtime_ns: int) -> str:
    """``weights_hash`` once per weights file's size and time."""
    return weights_hash(path)[:12]


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_data(max_entries=8, show_spinner=False)
def _scan(stamp: tuple, spaces: str, store_stamp: tuple) -> list[Entry]:
    entries = []
    for path in (Path(s[0]) for s in stamp):
        train = (read_json(path / TRAINING_FILE) or {}).get("train", {})
        splits = train.get("eval_split", "test"), train.get("train_split", "train")
        source = str(train.get("dataset", ""))
        try:
            cfg = read_config(path)
        except CheckpointError as e:
            entries.append(
                Entry(path.name, path, None, None, None, *splits, e, None, source)
            )
            continue
        entries.append(
            Entry(
                path.name,
                path,
                cfg.dataset,
                cfg.model_type,
                cfg.latent_dim,
                *splits,
                source=source,
            )
        )
    found = {e.name: e for e in entries}
    for name, (folder, encoded) in list_stores(spaces).items():
        for ckpt in encoded:
            e = found.get(ckpt)
            if e is None:
                e = Entry(
                    ckpt,
                    Path(spaces) / ckpt,
                    None,
                    None,
                    None,
                    "all",
                    "all",
                    StoreError("orphan", store=name, model=ckpt),
                )
            entries.append(
                replace(
                    e, dataset=name, eval_split="all", train_split="all", store=folder
                )
            )
    return entries


def session_entries(session: explore_session.Session) -> list[Entry]:
    """An explore session's models, each with the store it encoded."""
    return [
        Entry(
            m.key,
            session.store / m.key,
            session.dataset,
            m.model.kind,
            m.model.latent_dim,
            "all",
            "all",
            store=session.store,
            display=m.name,
        )
        for m in session.models
    ]


def dataset_label(name: str) -> str:
    """A dataset's name on the page (an explore session's store is named by a
    cache key; its label says what the data is)."""
    session = explore_session.current()
    if session is not None and name == session.dataset and session.label:
        return session.label
    return name


def _session_model(path: str) -> explore_session.SessionModel | None:
    """The explore session's model at a catalogue path, or None (a checkpoint)."""
    session = explore_session.current()
    return session.find(path) if session is not None else None


def get_model(path: str):
    """The model of a catalogue path: an explore session's (in memory), else
    the checkpoint folder's."""
    found = _session_model(path)
    return found.model if found is not None else load_checkpoint(path)


def in_session(path: str) -> bool:
    """Whether ``path`` is an explore session's model (not a checkpoint)."""
    return _session_model(path) is not None


def _weights(path: str) -> str | None:
    """The fingerprint an explore session's model was encoded with, or None
    (a checkpoint's: its weights file's hash)."""
    found = _session_model(path)
    return found.weights if found is not None else None


def store_of(name: str) -> Path | None:
    """The folder of the store named ``name``, or None (a built-in dataset)."""
    session = explore_session.current()
    if session is not None and name == session.dataset:
        return session.store
    found = list_stores().get(name)
    return found[0] if found else None


def of_dataset(entries: list[Entry], dataset: str) -> list[Entry]:
    """The checkpoints that can show ``dataset``: a store's own encodings when
    it is a store, else those trained on it (broken ones included, last)."""
    mine = [e for e in entries if e.dataset == dataset]
    if any(e.store for e in mine):
        mine = [e for e in mine if e.store]
    return sorted(mine, key=lambda e: e.error is not None)


def datasets(entries: list[Entry]) -> list[str]:
    """The datasets the app can open: a built-in one, or a store, with at
    least one readable checkpoint."""
    return sorted(
        {
            e.dataset
            for e in entries
            if e.dataset
            and not e.error
            and (e.store is not None or e.dataset in BUILTIN)
        }
    )


@dataclass(frozen=True)
class Unopened:
    """A dataset that checkpoints were trained on but the app cannot open yet
    (a folder of images with no store), and the command that makes its store."""

    dataset: str
    checkpoints: tuple[str, ...]
    command: str


def unopened(entries: list[Entry]) -> list[Unopened]:
    """Datasets of readable checkpoints that are neither built in nor a store."""
    openable = set(datasets(entries))
    encoded = {e.name for e in entries if e.store}
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        if e.dataset and not e.error and e.dataset not in openable:
            if e.name not in encoded:  # already in a store under another name
                groups.setdefault(e.dataset, []).append(e)
    out = []
    for name, group in sorted(groups.items()):
        source = next((e.source for e in group if e.source), "")
        if not source.startswith(FOLDER_PREFIX):
            source = f"{FOLDER_PREFIX}<the folder of images {name} was trained on>"
        words = [
            "python -m explorer encode",
            *(shlex.quote(str(e.path)) for e in group),
            "--dataset",
            shlex.quote(source),
            "--name",
            shlex.quote(store_name(name)),
        ]
        out.append(Unopened(name, tuple(e.name for e in group), " ".join(words)))
    return out


def store_name(dataset: str) -> str:
    """A valid store name for a dataset name (a folder's name may hold spaces)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", dataset).strip("-.") or "images"
    return name if name not in BUILTIN else f"{name}-store"


def default_pair(entries: list[Entry]) -> tuple[str, str]:
    """An AE and a VAE of the same latent size, the smallest such size (the
    2-D pair for the bundled checkpoints), else the first two readable ones
    (or one twice)."""
    good = [e for e in entries if not e.error]
    for dim in sorted({e.latent_dim for e in good if e.latent_dim}):
        pair = [
            next(
                (e.name for e in good if (e.model_type, e.latent_dim) == (m, dim)), None
            )
            for m in PAIR
        ]
        if all(pair):
            return pair[0], pair[1]
    names = [e.name for e in sorted(entries, key=lambda e: e.error is not None)]
    return names[0], names[min(1, len(names) - 1)]


def display_splits(entries: list[Entry]) -> tuple[str, str]:
    """The (held-out, training) splits most of a dataset's checkpoints used."""
    held = Counter(e.eval_split for e in entries).most_common(1)[0][0]
    train = Counter(e.train_split for e in entries).most_common(1)[0][0]
    return held, train


def on_this_machine(name: str, split: str) -> bool:
    """Whether a split's files are here (loading it needs no download)."""
    return available_offline(name, split, os.environ.get(DATA_DIR_ENV))


class _Asked:
    """The arguments each cached loader was last called with in this process
    (a bounded, thread-safe record): a call it has seen is a cache hit, and
    draws no spinner. A spinner starts a timer thread whether or not it is
    ever shown, and every rerun of every session calls these loaders several
    times: those threads were a measurable part of a click's follow-up."""

    def __init__(self, size: int = 256):
        self.size = size
        self._seen: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, key) -> bool:
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return True
            return False

    def add(self, key) -> None:
        with self._lock:
            self._seen[key] = None
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)


_ASKED = _Asked()


def _spun(text: str, load, *args):
    """``load(*args)`` (a cached loader) in a spinner saying ``text``, unless
    this process has loaded ``args`` before (a cache hit: no spinner). An
    entry the cache has dropped since loads again without one."""
    key = (load.__name__, args)
    if _ASKED.seen(key):
        return load(*args)
    with st.spinner(text):
        out = load(*args)
    _ASKED.add(key)
    return out


# A cached function's own spinner is one string fixed where it is declared:
# the three slow ones have none, and their callers below wrap them in a
# spinner in the session's language (shown only past half a second, so a
# cache hit draws nothing).


def get_dataset(name: str, splits: tuple[str, ...]) -> ImageDataset:
    """The splits of a dataset, concatenated in order (shared, read-only); a
    store's images are memory-mapped (read from disk as they are shown)."""
    return _spun(_("Loading the dataset…"), _dataset, name, splits)


@st.cache_resource(max_entries=8, show_spinner=False)
def _dataset(name: str, splits: tuple[str, ...]) -> ImageDataset:
    store = store_of(name)
    if store is not None:
        try:
            return open_dataset(store)
        except StoreError as e:
            raise DatasetError("store", name=name, reason=e) from e
    if name not in BUILTIN:
        command = (
            "python -m explorer encode <checkpoints> "
            f"--dataset folder:<path> --name {name}"
        )
        raise DatasetError("not_builtin", name=name, command=command)
    ds = concatenate([load_dataset(name, s) for s in splits])
    ds.images.setflags(write=False)
    if ds.labels is not None:
        ds.labels.setflags(write=False)
    return ds


@st.cache_resource(max_entries=16, show_spinner=False)
def get_encoding(path: str, dataset: str) -> Encoding | None:
    """A checkpoint's encoding of a store (memory-mapped, read once), or None
    for a built-in dataset (encoded in memory by ``get_space``)."""
    store = store_of(dataset)
    if store is None:
        return None
    try:
        return open_encoding(store, path, _weights(path))
    except StoreError as e:
        raise DatasetError("store", name=dataset, reason=e) from e


def get_space(path: str, dataset: str, splits: tuple[str, ...]) -> LatentSpace:
    """Loads a checkpoint and encodes dataset splits with it (shared, read-only)."""
    return _spun(_("Encoding the dataset…"), _space, path, dataset, splits)


@st.cache_resource(max_entries=16, show_spinner=False)
def _space(path: str, dataset: str, splits: tuple[str, ...]) -> LatentSpace:
    model = get_model(path)
    enc = get_encoding(path, dataset)
    if enc is not None:
        space = build_space(Path(path).name, model, enc.mean, enc.logvar)
    else:
        ds = get_dataset(dataset, splits)
        space = encode_space(Path(path).name, model, ds, codes_cache(path, ds))
    for a in (space.z, space.coords, space.logvar):
        if a is not None:
            a.setflags(write=False)
    return space


def get_mapped(
    path: str, dataset: str, splits: tuple[str, ...], kind: str
) -> tuple[LatentSpace, fits.Fit | None]:
    """The space whose map is ``kind`` ("pca", "umap", "tsne"), and the fit
    behind a non-linear one: while it runs (or if it failed), the PCA space.
    A latent of 2 or fewer dimensions is always drawn on its own axes."""
    base = get_space(path, dataset, splits)
    if kind == "pca" or base.latent_dim <= 2:
        return base, None
    job = fits.fits().get((path, dataset, splits, kind), kind, base.z)
    if job.result is None:
        return base, job
    return _mapped(path, dataset, splits, kind, job.result), job


@st.cache_resource(max_entries=16, show_spinner=False)
def _mapped(
    path: str, dataset: str, splits: tuple[str, ...], kind: str, _proj
) -> LatentSpace:
    """The space with a fitted non-linear map (one object per map, so the
    points' caches below key on it)."""
    base = get_space(path, dataset, splits)
    coords = np.asarray(_proj.coords, dtype=np.float64)
    coords.setflags(write=False)
    return replace(base, coords=coords, projection=_proj)


Target = tuple[str, str]  # the map another is aligned to: (checkpoint path, kind)


def get_aligned(
    path: str, dataset: str, splits: tuple[str, ...], kind: str, target: Target
) -> tuple[LatentSpace, Alignment]:
    """The space of ``get_mapped`` with its map rotated, reflected, scaled and
    shifted onto the ``target`` map (orthogonal Procrustes over every image:
    both maps are of the same data), and that alignment. Each map as it is
    drawn now (the PCA while a fit runs)."""
    source = get_mapped(path, dataset, splits, kind)[0]
    goal = get_mapped(target[0], dataset, splits, target[1])[0]
    key = (
        path,
        target[0],
        dataset,
        splits,
        source.projection.kind,
        goal.projection.kind,
    )
    return _aligned(key, goal, source)


@st.cache_resource(max_entries=16, show_spinner=False)
def _aligned(
    key: tuple, _target: LatentSpace, _source: LatentSpace
) -> tuple[LatentSpace, Alignment]:
    a = align(_target.coords, _source.coords)
    coords = a.apply(_source.coords).astype(np.float32)
    coords.setflags(write=False)
    return replace(
        _source, coords=coords, projection=AlignedProjection(_source.projection, a)
    ), a


def codes_cache(path: str, ds) -> Path | None:
    """Where a checkpoint's codes of a built-in dataset are kept between runs:
    named by the checkpoint's weights hash and the data (the bundled files are
    checksummed when read), so new weights or data are encoded afresh."""
    if not (Path(path) / WEIGHTS_FILE).is_file():
        return None
    try:
        key = weights_hash(path)[:16]
    except OSError:
        return None
    data = f"{ds.name}-{ds.split}-{len(ds)}".replace("/", "_").replace("+", "_")
    return cache_dir() / "codes" / data / f"{Path(path).name}-{key}"


def shown_indices(n_total: int, n_shown: int) -> np.ndarray:
    """A seeded, stable sample of ``n_shown`` of ``n_total`` indices (sorted)."""
    if n_shown >= n_total:
        return np.arange(n_total)
    rng = np.random.default_rng(0)
    return np.sort(rng.permutation(n_total)[:n_shown])


def get_measures(path: str, dataset: str, splits: tuple[str, ...]) -> dict:
    """Per-image reconstruction error, KL and loss (see ``image_measures``)."""
    return _spun(_("Scoring every image…"), _measures, path, dataset, splits)


@st.cache_resource(max_entries=16, show_spinner=False)
def _measures(path: str, dataset: str, splits: tuple[str, ...]) -> dict:
    enc = get_encoding(path, dataset)
    if enc is not None:
        return dict(enc.measures)
    x, y = get_dataset(dataset, splits).tensors()
    out = image_measures(get_space(path, dataset, splits).model, x, y)
    for v in out.values():
        v.setflags(write=False)
    return out


# The sidebar's words for each colouring (``N_``: translated where shown);
# a test checks that every measure of ``MEASURES`` has one.
COLOURINGS = {
    "class": N_("class"),
    "loss": N_("loss (reconstruction + β·KL)"),
    "recon": N_("reconstruction error"),
    "kl": N_("KL to the prior"),
}


def get_points(
    path: str,
    dataset: str,
    splits: tuple[str, ...],
    n_shown: int,
    colour: str,
    window: density.Window | None = None,
    kind: str = "pca",
    target: Target | None = None,
) -> tuple[MapPoints, np.ndarray]:
    """The points file of one map and the dataset index of each point.

    ``colour`` is "class", or a measure of ``MEASURES`` (an AE has no KL: its
    "kl" colouring falls back to the loss, which for an AE is the
    reconstruction error). Above ``density.LARGE_MAP`` shown points the map
    is a density layer with the points of ``window`` (the visible part, once
    the user panned or zoomed) drawn over it; smaller maps ignore ``window``.
    ``kind``: the map's projection, once fitted (``get_mapped``); ``target``:
    the map it is aligned to, if it is (``get_aligned``).
    """
    if min(n_shown, len(get_dataset(dataset, splits))) <= density.LARGE_MAP:
        window = None  # every point is drawn: one cached map for every window
    args = (path, dataset, splits, n_shown, colour, window, kind, target)
    return _spun(_("Placing the points on the map…"), _points, *args)


@st.cache_resource(max_entries=32, show_spinner=False)
def _points(
    path: str,
    dataset: str,
    splits: tuple[str, ...],
    n_shown: int,
    colour: str,
    window: density.Window | None,
    kind: str = "pca",
    target: Target | None = None,
) -> tuple[MapPoints, np.ndarray]:
    space, job = get_mapped(path, dataset, splits, kind)
    if kind != "pca" and (job is None or job.result is None):
        raise ProjectionError("not_fitted", map=LABELS[kind], path=path)
    if target is not None:
        space, _alignment = get_aligned(path, dataset, splits, kind, target)
    ds = get_dataset(dataset, splits)
    idx = shown_indices(len(ds), n_shown)
    titles = space.projection.axis_titles()
    labels = ds.labels if colour == "class" else None
    names = ds.class_names if labels is not None else ()
    values = title = None
    if colour != "class":
        measures = get_measures(path, dataset, splits)
        key = colour if colour in measures else "loss"
        title = MEASURES[key].title
        values = measures[key]
    if len(idx) > density.LARGE_MAP:
        key = density.map_key(path, dataset, splits, kind, *(target or ()))
        return density.large_map(
            space.coords, idx, titles, labels, names, values, title, window, key
        )
    pts = write_points(
        space.coords[idx],
        None if labels is None else labels[idx],
        names,
        titles,
        None if values is None else np.asarray(values[idx]),
        title,
    )
    return pts, idx


def public(message: object) -> str:
    """An error for the page: the server's folders (weights, stores, caches,
    the repository, the home folder) left out of every path in it, so a user
    sees "fashion-mnist-vae-z2/model.safetensors: ...", not where it lives."""
    text = str(message)
    roots = {weights_dir(), spaces_dir(), cache_dir(), REPO_WEIGHTS.parent, Path.home()}
    roots.add(trained_dir())
    for root in sorted((str(r) for r in roots), key=len, reverse=True):
        text = text.replace(root.rstrip("/") + "/", "")
    return text


def metrics(path: str) -> dict:
    """A checkpoint's metrics.json, or {} when it has none."""
    return read_json(Path(path) / METRICS_FILE) or {}
