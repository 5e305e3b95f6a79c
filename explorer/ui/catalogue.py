"""What the app can show: the checkpoints found, grouped by dataset, and their data."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from explorer.checkpoint import (
    CONFIG_FILE,
    METRICS_FILE,
    TRAINING_FILE,
    WEIGHTS_FILE,
    CheckpointError,
    list_checkpoints,
    load_model,
    read_config,
    read_json,
)
from explorer.data import (
    DATA_DIR_ENV,
    ImageDataset,
    available_offline,
    concatenate,
    load_dataset,
)
from explorer.explore import MEASURES, image_measures
from explorer.space import LatentSpace, encode_space
from explorer.ui.latent_map import MapPoints, write_points

# Which pair a user sees first: the AE and the VAE at the smallest latent size.
PREFERRED = (("ae", 2), ("vae", 2))


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
    error: str | None = None

    @property
    def label(self) -> str:
        if self.error:
            return f"{self.name} (broken)"
        return f"{self.name}"


def scan(root: Path | None = None) -> list[Entry]:
    """Every checkpoint folder under ``root`` (default: the weights folder).

    Read again only when a folder or one of its files changes (each rerun of
    the page calls this; stat-ing the files is much cheaper than parsing them).
    """
    paths = list_checkpoints(root)
    stamp = tuple(
        (str(p), *(_mtime(p / f) for f in (CONFIG_FILE, TRAINING_FILE, WEIGHTS_FILE)))
        for p in paths
    )
    return _scan(stamp)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_data(max_entries=8, show_spinner=False)
def _scan(stamp: tuple) -> list[Entry]:
    entries = []
    for path in (Path(s[0]) for s in stamp):
        train = (read_json(path / TRAINING_FILE) or {}).get("train", {})
        splits = train.get("eval_split", "test"), train.get("train_split", "train")
        try:
            cfg = read_config(path)
        except CheckpointError as e:
            entries.append(Entry(path.name, path, None, None, None, *splits, str(e)))
            continue
        entries.append(
            Entry(path.name, path, cfg.dataset, cfg.model_type, cfg.latent_dim, *splits)
        )
    return entries


def datasets(entries: list[Entry]) -> list[str]:
    return sorted({e.dataset for e in entries if e.dataset})


def default_pair(entries: list[Entry]) -> tuple[str, str]:
    """The AE-z2 / VAE-z2 pair when present, else the first two (or one twice)."""
    picks = [
        next((e.name for e in entries if (e.model_type, e.latent_dim) == want), None)
        for want in PREFERRED
    ]
    if all(picks):
        return picks[0], picks[1]
    names = [e.name for e in entries]
    return names[0], names[min(1, len(names) - 1)]


def display_splits(entries: list[Entry]) -> tuple[str, str]:
    """The (held-out, training) splits most of a dataset's checkpoints used."""
    held = Counter(e.eval_split for e in entries).most_common(1)[0][0]
    train = Counter(e.train_split for e in entries).most_common(1)[0][0]
    return held, train


def on_this_machine(name: str, split: str) -> bool:
    """Whether a split's files are here (loading it needs no download)."""
    return available_offline(name, split, os.environ.get(DATA_DIR_ENV))


@st.cache_resource(max_entries=8, show_spinner="Loading the dataset…")
def get_dataset(name: str, splits: tuple[str, ...]) -> ImageDataset:
    """The splits of a dataset, concatenated in order (shared, read-only)."""
    ds = concatenate([load_dataset(name, s) for s in splits])
    ds.images.setflags(write=False)
    if ds.labels is not None:
        ds.labels.setflags(write=False)
    return ds


@st.cache_resource(max_entries=16, show_spinner="Encoding the dataset…")
def get_space(path: str, dataset: str, splits: tuple[str, ...]) -> LatentSpace:
    """Loads a checkpoint and encodes dataset splits with it (shared, read-only)."""
    model = load_model(path)
    space = encode_space(Path(path).name, model, get_dataset(dataset, splits))
    for a in (space.z, space.coords, space.logvar):
        if a is not None:
            a.setflags(write=False)
    return space


def shown_indices(n_total: int, n_shown: int) -> np.ndarray:
    """A seeded, stable sample of ``n_shown`` of ``n_total`` indices (sorted)."""
    if n_shown >= n_total:
        return np.arange(n_total)
    rng = np.random.default_rng(0)
    return np.sort(rng.permutation(n_total)[:n_shown])


@st.cache_resource(max_entries=16, show_spinner="Scoring every image…")
def get_measures(path: str, dataset: str, splits: tuple[str, ...]) -> dict:
    """Per-image reconstruction error, KL and loss (see ``image_measures``)."""
    space = get_space(path, dataset, splits)
    x, y = get_dataset(dataset, splits).tensors()
    out = image_measures(space.model, x, y)
    for v in out.values():
        v.setflags(write=False)
    return out


COLOURINGS = {
    "class": "class",
    "loss": "loss (reconstruction + β·KL)",
    "recon": "reconstruction error",
    "kl": "KL to the prior",
}
assert set(COLOURINGS) == {"class", *MEASURES}


@st.cache_resource(max_entries=32)
def get_points(
    path: str, dataset: str, splits: tuple[str, ...], n_shown: int, colour: str
) -> tuple[MapPoints, np.ndarray]:
    """The points file of one map and the dataset index of each point.

    ``colour`` is "class", or a measure of ``MEASURES`` (an AE has no KL: its
    "kl" colouring falls back to the loss, which for an AE is the
    reconstruction error).
    """
    space = get_space(path, dataset, splits)
    ds = get_dataset(dataset, splits)
    idx = shown_indices(len(ds), n_shown)
    titles = space.projection.axis_titles()
    if colour == "class":
        labels = ds.labels[idx] if ds.labels is not None else None
        names = ds.class_names if labels is not None else ()
        return write_points(space.coords[idx], labels, names, titles), idx
    measures = get_measures(path, dataset, splits)
    key = colour if colour in measures else "loss"
    title = {"recon": "recon error", "kl": "KL", "loss": "loss"}[key]
    pts = write_points(space.coords[idx], None, (), titles, measures[key][idx], title)
    return pts, idx


def metrics(path: str) -> dict:
    """A checkpoint's metrics.json, or {} when it has none."""
    return read_json(Path(path) / METRICS_FILE) or {}
