"""What the app can show: the checkpoints found, grouped by dataset, and their data."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from explorer.checkpoint import (
    TRAINING_FILE,
    CheckpointError,
    list_checkpoints,
    load_model,
    read_config,
    read_json,
)
from explorer.data import ImageDataset, load_dataset
from explorer.space import LatentSpace, encode_space
from explorer.ui.latent_map import MapPoints, write_points

# Which pair a user sees first: the AE and the VAE at the smallest latent size.
PREFERRED = ("ae-z2", "vae-z2")


@dataclass(frozen=True)
class Entry:
    """A checkpoint folder: its config, or why it cannot be read."""

    name: str
    path: Path
    dataset: str | None
    model_type: str | None
    latent_dim: int | None
    eval_split: str
    error: str | None = None

    @property
    def label(self) -> str:
        if self.error:
            return f"{self.name} (broken)"
        return f"{self.name}"


def scan(root: Path | None = None) -> list[Entry]:
    """Every checkpoint folder under ``root`` (default: the weights folder)."""
    entries = []
    for path in list_checkpoints(root):
        record = read_json(path / TRAINING_FILE) or {}
        split = record.get("train", {}).get("eval_split", "test")
        try:
            cfg = read_config(path)
        except CheckpointError as e:
            entries.append(Entry(path.name, path, None, None, None, split, str(e)))
            continue
        entries.append(
            Entry(path.name, path, cfg.dataset, cfg.model_type, cfg.latent_dim, split)
        )
    return entries


def datasets(entries: list[Entry]) -> list[str]:
    return sorted({e.dataset for e in entries if e.dataset})


def default_pair(names: list[str]) -> tuple[str, str]:
    """The AE-z2 / VAE-z2 pair when present, else the first two (or one twice)."""
    picks = [next((n for n in names if n.endswith(s)), None) for s in PREFERRED]
    if all(picks):
        return picks[0], picks[1]
    return names[0], names[min(1, len(names) - 1)]


def display_split(entries: list[Entry]) -> str:
    """The held-out split most of a dataset's checkpoints were evaluated on."""
    return Counter(e.eval_split for e in entries).most_common(1)[0][0]


@st.cache_resource(max_entries=8, show_spinner="Loading the dataset…")
def get_dataset(name: str, split: str) -> ImageDataset:
    ds = load_dataset(name, split)
    ds.images.setflags(write=False)
    if ds.labels is not None:
        ds.labels.setflags(write=False)
    return ds


@st.cache_resource(max_entries=16, show_spinner="Encoding the dataset…")
def get_space(path: str, dataset: str, split: str) -> LatentSpace:
    """Loads a checkpoint and encodes a dataset split with it (shared, read-only)."""
    model = load_model(path)
    space = encode_space(Path(path).name, model, get_dataset(dataset, split))
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


@st.cache_resource(max_entries=32)
def get_points(
    path: str, dataset: str, split: str, n_shown: int, by_class: bool
) -> tuple[MapPoints, np.ndarray]:
    """The points file of one map and the dataset index of each point."""
    space = get_space(path, dataset, split)
    ds = get_dataset(dataset, split)
    idx = shown_indices(len(ds), n_shown)
    labels = ds.labels[idx] if (by_class and ds.labels is not None) else None
    names = ds.class_names if labels is not None else ()
    titles = space.projection.axis_titles()
    return write_points(space.coords[idx], labels, names, titles), idx
