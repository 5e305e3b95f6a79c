"""``ensure_encoded``: a store packed again only when its images changed, an
encoding made again only when its weights or the store did; the CLI's
``encode`` and the API's ``prepare`` both go through it."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.api import prepare
from explorer.cli import main
from explorer.data.folder import FolderImages
from explorer.data.store import (
    DATASET_FILE,
    ENCODING_FILE,
    content_key,
    list_stores,
    open_dataset,
)
from explorer.latent import fresh
from explorer.latent.fresh import Images, ToEncode, ensure_encoded
from explorer.model.autoencoder import build_model
from explorer.model.checkpoint import load_checkpoint, save_checkpoint, weights_hash
from explorer.model.config import ModelConfig
from tests.helpers import image_folder

N = 20


def _checkpoint(folder, model_type: str = "vae", seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(
        ModelConfig(
            model_type=model_type,
            latent_dim=2,
            image_shape=(1, 8, 8),
            hidden=(16,),
            dataset="imgs",
        )
    ).eval()
    save_checkpoint(model, folder)
    return model


def _rewrite(path) -> None:
    """Other pixels in the same file, modified a second later (as a person's
    edit would be: within one clock tick, size and time could both repeat)."""
    before = path.stat().st_mtime_ns
    Image.fromarray(np.full((8, 8), 77, np.uint8)).save(path)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def _stamps(store, names) -> dict[str, tuple[int, int]]:
    files = [store / "images.npy", store / DATASET_FILE]
    files += [store / n / ENCODING_FILE for n in names]
    return {str(f): (f.stat().st_ino, f.stat().st_mtime_ns) for f in files}


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """Each pack and encode that ``ensure_encoded`` makes, by name: a path
    that packs or encodes by itself is not counted."""
    seen: list[str] = []

    def spy(name: str):
        real = getattr(fresh, name)

        def call(*a, **kw):
            seen.append(name)
            return real(*a, **kw)

        return call

    for name in ("pack", "encode"):
        monkeypatch.setattr(fresh, name, spy(name))
    return seen


@pytest.fixture
def setup(tmp_path):
    folder = image_folder(tmp_path / "imgs", N, classes=3, side=8)
    a, b = tmp_path / "w" / "a-vae", tmp_path / "w" / "b-ae"
    _checkpoint(a, "vae"), _checkpoint(b, "ae")
    return folder, a, b, tmp_path / "st"


def _encode(folder, store, *ckpts, extra=(), name="imgs") -> list[str]:
    return [
        "encode", *map(str, ckpts), "--dataset", f"folder:{folder}", "--name", name,
        "--store", str(store), "--no-progress", "--workers", "0", *extra,
    ]  # fmt: skip


def test_cli_encode_redoes_only_what_changed(setup, calls, capsys):
    folder, a, b, store = setup
    assert main(_encode(folder, store, a, b)) == 0
    out = capsys.readouterr().out
    assert calls == ["pack", "encode", "encode"]
    assert f"pack images: {N} images in" in out and f"encode b-ae: {N} images in" in out
    stamps = _stamps(store, ["a-vae", "b-ae"])

    calls.clear()  # the same folder, the same weights: nothing to do
    assert main(_encode(folder, store, a, b)) == 0
    out = capsys.readouterr().out
    assert calls == [] and _stamps(store, ["a-vae", "b-ae"]) == stamps
    assert f"pack images: {N} images unchanged, reused" in out
    assert f"encode a-vae: {N} images unchanged, reused" in out
    assert "memory: peak" in out

    # One file rewritten; the same dataset name and split.
    first = folder / "class-000" / "0000.png"
    _rewrite(first)
    assert main(_encode(folder, store, a, b)) == 0
    assert calls == ["pack", "encode", "encode"]
    assert (open_dataset(store).images[0] == 77).all()
    assert f"pack images: {N} images in" in capsys.readouterr().out

    calls.clear()  # b retrained: its encoding only
    _checkpoint(b, "ae", seed=1)
    assert main(_encode(folder, store, a, b)) == 0
    assert calls == ["encode"]
    assert capsys.readouterr().out.count("unchanged, reused") == 2

    calls.clear()
    assert main(_encode(folder, store, a, b, extra=["--repack"])) == 0
    assert calls == ["pack", "encode", "encode"]
    assert main(_encode(folder, store, a, name="mnist")) == 2
    assert "cannot name a store" in capsys.readouterr().err


def test_the_api_goes_through_the_same_function(setup, calls):
    folder, a, b, _ = setup
    said: list[str] = []
    session = prepare(
        [str(a), str(b)], f"folder:{folder}", progress=False, report=said.append
    )
    assert calls == ["pack", "encode", "encode"]
    assert said[0] == f"folder imgs: packed {N} images into {session.store}"
    calls.clear()
    said.clear()
    again = prepare(
        [str(a), str(b)], f"folder:{folder}", progress=False, report=said.append
    )
    assert calls == [] and again.store == session.store
    assert said == [
        f"folder imgs: reusing {session.store}",
        "a-vae: reusing its encoding (same weights)",
        "b-ae: reusing its encoding (same weights)",
    ]


def test_a_repacked_store_drops_the_encodings_of_its_old_images(setup, calls):
    folder, a, b, store = setup
    source = FolderImages(folder, (8, 8), 1)
    todo = [ToEncode(load_checkpoint(c), c.name, weights_hash(c)) for c in (a, b)]
    steps = ensure_encoded(store, todo, Images(source, "imgs", content_key(source)))
    assert [(s.what, s.done) for s in steps] == [("pack", True)] + [
        ("encode", True)
    ] * 2
    _rewrite(folder / "class-001" / "0001.png")
    source = FolderImages(folder, (8, 8), 1)
    calls.clear()
    images = Images(source, "imgs", content_key(source))
    steps = ensure_encoded(store, todo[:1], images)
    assert calls == ["pack", "encode"]
    assert list_stores(store.parent)["imgs"] == (store, ["a-vae"])
    # A store used as it is (no images given): its encodings are kept fresh.
    calls.clear()
    steps = ensure_encoded(store, todo)
    assert calls == ["encode"] and [s.done for s in steps] == [False, True]
    assert [s.what for s in steps] == ["encode", "encode"]
