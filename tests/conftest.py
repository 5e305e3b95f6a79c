"""Shared fixtures: tiny synthetic data, a tiny trained checkpoint, the shared data."""

from __future__ import annotations

import gzip
import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.data import ImageDataset

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
TEST_DATA_ENV = "EXPLORER_TEST_DATA"


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """Serialises a uint8 array as an IDX file (uncompressed)."""
    header = magic.to_bytes(4, "big") + b"".join(
        d.to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def write_idx_gz(path: Path, array: np.ndarray, magic: int) -> bytes:
    data = gzip.compress(idx_bytes(array, magic), mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def tiny_dataset(n: int = 64, seed: int = 0, classes: int = 3) -> ImageDataset:
    """Blobs whose position depends on the class, so models can learn them."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    images = np.zeros((n, 1, 8, 8), dtype=np.uint8)
    for i, c in enumerate(labels):
        r, col = 1 + 2 * c, 1 + rng.integers(0, 5)
        images[i, 0, r : r + 2, col : col + 2] = 255
    return ImageDataset(
        images, labels.astype(np.int64), tuple("abc"[:classes]), "tiny", "train"
    )


def image_folder(
    root: Path,
    n: int,
    classes: int = 3,
    channels: int = 1,
    identical: bool = False,
    side: int = 8,
) -> Path:
    """``n`` PNG files of a small bright square whose row follows the class:
    one sub-folder per class, or a flat (unlabelled) folder for ``classes=0``;
    with ``identical`` every file is the same image."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        c = i % max(classes, 1)
        img = np.zeros((side, side, channels), np.uint8)
        if identical:
            img[2:5, 2:5] = 200
        else:
            r, col = (2 * c) % (side - 2), rng.integers(0, side - 2)
            img[r : r + 2, col : col + 2] = rng.integers(120, 256, channels)
        sub = root / f"class-{c:03d}" if classes else root
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.squeeze(-1) if channels == 1 else img).save(
            sub / f"{i:04d}.png"
        )
    return root


def bomb_png(w: int, h: int) -> bytes:
    """A valid PNG header claiming w x h pixels, with a tiny compressed body."""

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)  # 1-bit grey
    body = zlib.compress(b"\x00" * (1 + (w + 7) // 8) * 100, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body)


def errors(at) -> list[str]:
    """The error and exception messages an ``AppTest`` run shows."""
    return [e.value for e in at.error] + [str(e.value) for e in at.exception]


def plain(markdown: str) -> str:
    """The text of Markdown whose punctuation was escaped (``ui.markdown.md``)."""
    return re.sub(r"\\(.)", r"\1", markdown)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder (``EXPLORER_TEST_DATA``, else ``../shared/data``)."""
    path = Path(os.environ.get(TEST_DATA_ENV) or REPO.parent / "shared" / "data")
    if not (path / "fashion-mnist").is_dir():
        pytest.skip(f"shared data not found at {path}; set {TEST_DATA_ENV}")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real cache or data directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    torch.manual_seed(0)
