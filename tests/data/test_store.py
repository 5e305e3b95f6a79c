"""Stores: packed images and streamed, memory-mapped encodings; bounded memory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.data.dataset import ImageDataset
from explorer.data.folder import FolderImages
from explorer.data.store import (
    StoreError,
    content_key,
    list_stores,
    open_dataset,
    pack,
)
from explorer.latent.encoded import encode, open_encoding
from explorer.latent.measures import image_measures
from explorer.memory import MemoryWatch
from explorer.model.autoencoder import build_model
from explorer.model.checkpoint import save_checkpoint
from explorer.model.config import ModelConfig
from tests.helpers import tiny_dataset


def tiny_model(tmp_path, model_type="vae", name="tiny-vae-z2", shape=(1, 8, 8)):
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(
            model_type=model_type,
            latent_dim=2,
            image_shape=shape,
            hidden=(16,),
            num_classes=3,
            dataset="tiny",
            class_names=("a", "b", "c"),
        )
    ).eval()
    save_checkpoint(model, tmp_path / name)
    return model, tmp_path / name


@pytest.mark.parametrize("model_type", ["ae", "vae", "cvae"])
def test_pack_and_encode_give_what_the_model_gives(tmp_path, model_type):
    ds = tiny_dataset(300)
    model, ckpt = tiny_model(tmp_path, model_type, f"tiny-{model_type}-z2")
    store = pack(ds, tmp_path / "spaces" / "tiny300", "tiny300", batch_size=64)
    packed = open_dataset(store)
    assert isinstance(packed.images, np.memmap) and not packed.images.flags.writeable
    assert np.array_equal(packed.images, ds.images)
    assert np.array_equal(packed.labels, ds.labels)
    assert packed.class_names == ds.class_names and packed.name == "tiny300"

    encode(model, ckpt, store, batch_size=128)  # 3 batches, the last one short
    enc = open_encoding(store, ckpt)
    x, y = ds.tensors()
    with torch.inference_mode():
        want = model.encode(x, y if model.config.conditional else None)
        measures = image_measures(model, x, y)
    np.testing.assert_allclose(enc.mean, want.mean.numpy(), rtol=1e-5, atol=1e-6)
    if model_type == "ae":
        assert enc.logvar is None and "kl" not in enc.measures
    else:
        np.testing.assert_allclose(enc.logvar, want.logvar.numpy(), atol=1e-5)
    for k, v in measures.items():
        np.testing.assert_allclose(enc.measures[k], v, rtol=1e-5, atol=1e-4)
    assert list_stores(tmp_path / "spaces") == {
        "tiny300": (store, [f"tiny-{model_type}-z2"])
    }


def test_stale_partial_and_broken_stores_are_refused(tmp_path):
    ds = tiny_dataset(50)
    model, ckpt = tiny_model(tmp_path)
    store = pack(ds, tmp_path / "s", "s")
    encode(model, ckpt, store)
    # Other weights under the same name: the codes are stale.
    other, _ = tiny_model(tmp_path)
    torch.nn.init.zeros_(next(other.parameters()))
    save_checkpoint(other, ckpt)
    with pytest.raises(StoreError, match="encoded with other weights"):
        open_encoding(store, ckpt)
    # An encoding that never finished is not listed and cannot be opened.
    (store / "tiny-vae-z2" / "encoding.json").unlink()
    assert list_stores(tmp_path) == {"s": (store, [])}
    with pytest.raises(StoreError, match="not a complete store"):
        open_encoding(store, ckpt)
    # A truncated array file.
    encode(other, ckpt, store)
    raw = (store / "tiny-vae-z2" / "mean.npy").read_bytes()
    (store / "tiny-vae-z2" / "mean.npy").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(StoreError, match="mean.npy: unreadable"):
        open_encoding(store, ckpt)
    # A pickled object array is never loaded.
    np.save(store / "labels.npy", np.array([{"a": 1}] * 50, dtype=object))
    with pytest.raises(StoreError, match="labels.npy: unreadable"):
        open_dataset(store)
    # Names: not a built-in's, no path separators.
    for bad in ("mnist", "../x", "a/b", ""):
        with pytest.raises(StoreError, match="cannot name a store"):
            pack(ds, tmp_path / "t", bad)


def test_a_store_whose_name_was_edited_is_not_listed_or_opened(tmp_path):
    """dataset.json is data on disk: its name is checked again when read."""
    store = pack(tiny_dataset(20), tmp_path / "s", "fine")
    assert list(list_stores(tmp_path)) == ["fine"]
    meta = json.loads((store / "dataset.json").read_text())
    for bad in ("[Sign in](https://example.invalid)", "mnist", "../x"):
        meta["name"] = bad
        (store / "dataset.json").write_text(json.dumps(meta))
        assert list_stores(tmp_path) == {}
        with pytest.raises(StoreError, match="cannot name a store"):
            open_dataset(store)


def _folder(root, n: int, side: int = 64) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        path = root / "ab"[i % 2] / f"{i:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (side, side, 3), np.uint8)).save(
            path, compress_level=0
        )


LIMIT_MB = 600  # the data segment allowed (RLIMIT_DATA): ~220 MB go to imports
N_LARGE = 8_000  # images in the folder that does not fit


def _limited(code: str) -> subprocess.CompletedProcess:
    """Runs Python ``code`` with its (and its workers') data segment limited."""
    limit = f"({LIMIT_MB} << 20, {LIMIT_MB} << 20)"
    pre = f"import resource; resource.setrlimit(resource.RLIMIT_DATA, {limit}); "
    return subprocess.run(
        [sys.executable, "-c", pre + code], capture_output=True, text=True, timeout=300
    )


def test_a_folder_larger_than_the_memory_allowed_streams_through(tmp_path):
    """8,000 64x64 RGB images: 94 MB as uint8, 375 MB as the float32 tensors
    a model reads. With the process's data segment limited to 600 MB (imports
    take ~220 MB of it), loading the folder into memory fails; packing and
    encoding it (loader workers, memory-mapped files) succeed, with a working
    set below the folder's size.

    Why 8,000 suffice: loading needs the imports, the decoded images twice
    (a list, then stacked) and their float32 copy, ~780 MB, so it fails even
    under a 720 MB limit; streaming needs ~300 MB of data segment at 1,000,
    6,000 or 8,000 images alike. (At 6,000, loading needs ~640 MB: too near
    the limit.) Streaming's own growth is ~40 MB, so a pack or encode that
    kept the uint8 images (94 MB more) breaks the 100 MB bound."""
    _, ckpt = tiny_model(tmp_path, shape=(3, 64, 64))
    folder = tmp_path / "large"
    _folder(folder, N_LARGE)
    eager = _limited(
        "from explorer.data.folder import load_folder; "
        f"load_folder({str(folder)!r}, (64, 64), 3).tensors()"
    )
    assert eager.returncode != 0 and "MemoryError" in eager.stderr
    args = [
        "encode", str(ckpt), "--dataset", f"folder:{folder}", "--name", "large",
        "--store", str(tmp_path / "large-store"), "--workers", "2",
        "--batch-size", "64", "--no-progress",
    ]  # fmt: skip
    r = _limited(f"import sys; from explorer.cli import main; sys.exit(main({args!r}))")
    assert r.returncode == 0, r.stderr
    growth = float(re.search(r"\+(\d+) MB while working", r.stdout).group(1))
    assert growth < 100, r.stdout
    packed = open_dataset(tmp_path / "large-store")
    assert packed.images.shape == (N_LARGE, 3, 64, 64)
    first = np.asarray(Image.open(folder / "a" / "00000.png")).transpose(2, 0, 1)
    assert np.array_equal(packed.images[0], first)
    mean = np.load(tmp_path / "large-store" / ckpt.name / "mean.npy")
    assert mean.shape == (N_LARGE, 2)


def test_content_key_follows_the_images_labels_and_files(tmp_path):
    ds = tiny_dataset(20)
    key = content_key(ds)
    copy = ImageDataset(ds.images.copy(), ds.labels.copy(), ds.class_names, "x", "y")
    assert content_key(copy) == key  # the name is not content
    pixel = ds.images.copy()
    pixel[7, 0, 3, 3] ^= 1
    labels = ds.labels.copy()
    labels[0] = (labels[0] + 1) % 3
    others = [
        ImageDataset(pixel, ds.labels, ds.class_names, "tiny", "train"),
        ImageDataset(ds.images, labels, ds.class_names, "tiny", "train"),
        ImageDataset(ds.images, None, ds.class_names, "tiny", "train"),
        ImageDataset(ds.images, ds.labels, ("a", "b", "z"), "tiny", "train"),
    ]
    assert len({key, *map(content_key, others)}) == 5
    folder = tmp_path / "imgs"
    (folder / "x").mkdir(parents=True)
    for i, im in enumerate(ds.images[:3]):
        Image.fromarray(im[0]).save(folder / "x" / f"{i}.png")
    key = content_key(FolderImages(folder))
    assert content_key(FolderImages(folder)) == key
    assert content_key(FolderImages(folder, size=(16, 16))) != key
    st = (folder / "x" / "1.png").stat()
    os.utime(folder / "x" / "1.png", ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert content_key(FolderImages(folder)) != key


# A child that allocates ``mb`` MB, touches every page, says so, and holds it
# until its input closes.
_HOLD = """
import sys
block = bytearray({mb} << 20)
block[::4096] = b"x" * len(block[::4096])
print("ready", flush=True)
sys.stdin.read()
"""


def holding(mb: int) -> subprocess.Popen:
    """A fresh interpreter that holds ``mb`` MB (``_HOLD``), once it says
    so; ``communicate()`` lets it go."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD.format(mb=mb)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline() == "ready\n"
    return child


def test_memory_watch_counts_what_child_processes_allocate():
    """Loader workers decode the files: their memory is the job's memory,
    also what a worker allocated before the watch first saw it (the watch's
    own samples are an hour apart here: its first look at the child comes
    after the child's 200 MB). The child is a fresh interpreter, not a fork
    of this one: a forked child's own pages grow by every page of the
    parent's heap the parent rewrites meanwhile (copy on write), and this
    process (a pytest-xdist worker's threads, the collector) rewrites
    hundreds of megabytes of them."""
    with MemoryWatch(interval=3600) as mem:
        child = holding(200)
        mem.sample()
        child.communicate(timeout=30)
    assert 190 <= mem.growth_mb < 260, mem.growth_mb
    assert mem.peak_anon_mb == pytest.approx(mem.start_anon_mb + mem.growth_mb)


def test_memory_watch_leaves_out_children_that_were_running_before_it():
    """A process that already has children when the watch begins (a test
    process's server and browser, 300 MB and more) did not allocate their
    memory for the watched work: only children started since count. (The
    benchmark's folder rows, run in a pytest worker that had started a
    server, counted it: 513 MB, against 47 MB without it.)"""
    before = holding(200)
    try:
        with MemoryWatch(interval=3600) as mem:
            child = holding(50)
            mem.sample()
            child.communicate(timeout=30)
    finally:
        before.communicate(timeout=30)
    assert 45 <= mem.growth_mb < 110, mem.growth_mb
