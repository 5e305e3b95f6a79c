"""Datasets: IDX parsing, checksums, lookup order, downloads, image folders."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.data import builtin
from explorer.data.builtin import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    BuiltinSpec,
    RemoteFile,
    Split,
    available_offline,
    load_builtin,
    parse_idx,
    verify,
)
from explorer.data.dataset import DatasetError, cache_dir, collate_batch
from explorer.data.folder import FolderImages, load_folder
from explorer.data.load import load_dataset
from tests.helpers import idx_bytes, write_idx_gz

md5 = lambda b: hashlib.md5(b).hexdigest()  # noqa: E731


# --- parsing and checksums -------------------------------------------------------


def test_parse_idx_reads_images_and_labels():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = parse_idx(idx_bytes(images, IMAGE_MAGIC), IMAGE_MAGIC, "f")
    np.testing.assert_array_equal(out, images)
    labels = np.array([3, 1, 4], dtype=np.uint8)
    np.testing.assert_array_equal(
        parse_idx(idx_bytes(labels, LABEL_MAGIC), LABEL_MAGIC, "f"), labels
    )


def test_parse_idx_rejects_bad_magic():
    raw = idx_bytes(np.zeros((2, 2, 2), np.uint8), IMAGE_MAGIC)
    with pytest.raises(DatasetError, match=r"labels\.idx: bad IDX magic number 2051"):
        parse_idx(raw, LABEL_MAGIC, "labels.idx")


@pytest.mark.parametrize("cut", [1, 10, 3])
def test_parse_idx_rejects_truncated(cut):
    raw = idx_bytes(np.zeros((2, 3, 3), np.uint8), IMAGE_MAGIC)
    with pytest.raises(
        DatasetError, match="images.idx: (IDX header declares|too short)"
    ):
        parse_idx(raw[:-cut] if cut != 3 else raw[:3], IMAGE_MAGIC, "images.idx")


def test_parse_idx_rejects_trailing_bytes():
    raw = idx_bytes(np.zeros((2, 3, 3), np.uint8), IMAGE_MAGIC) + b"\0"
    with pytest.raises(DatasetError, match="holds 35 bytes"):
        parse_idx(raw, IMAGE_MAGIC, "x")


def test_verify_accepts_gz_or_content_checksum_and_names_the_file():
    raw = b"hello idx"
    gz = gzip.compress(raw, mtime=0)
    regz = gzip.compress(raw, compresslevel=1, mtime=123)  # a mirror's recompression
    spec = RemoteFile("f.gz", gz_md5=md5(gz), raw_md5=md5(raw))
    assert verify(gz, spec, "f.gz") == raw
    assert verify(regz, spec, "f.gz") == raw
    bad = gzip.compress(b"hello idy", mtime=0)
    with pytest.raises(DatasetError, match="somewhere/f.gz: checksum mismatch"):
        verify(bad, spec, "somewhere/f.gz")
    with pytest.raises(DatasetError, match="not a complete gzip file"):
        verify(gz[: len(gz) // 2], spec, "f.gz")


# --- built-in data: bundled copy, shared copy --------------------------------------


def test_bundled_fashion_mnist_test_split():
    ds = load_builtin("fashion-mnist", "test")
    assert ds.images.shape == (10000, 1, 28, 28) and ds.images.dtype == np.uint8
    assert np.bincount(ds.labels).tolist() == [1000] * 10
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    x, y = ds.tensors()
    assert x.shape == (10000, 1, 28, 28) and 0.0 <= x.min() and x.max() <= 1.0
    assert y.dtype.is_floating_point is False


def test_bundled_mnist_splits_are_disjoint():
    test = load_builtin("mnist", "test")
    sub = load_builtin("mnist", "train5k")
    assert np.bincount(test.labels).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert np.bincount(sub.labels).tolist() == [500] * 10
    a = {hashlib.md5(im.tobytes()).digest() for im in test.images}
    b = {hashlib.md5(im.tobytes()).digest() for im in sub.images}
    assert not a & b


def test_shared_fashion_mnist_train_split(shared_data):
    ds = load_builtin("fashion-mnist", "train", data_dir=shared_data)
    assert ds.images.shape == (60000, 1, 28, 28)
    assert np.bincount(ds.labels).tolist() == [6000] * 10


def test_unknown_dataset_and_split():
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        load_builtin("cifar")
    with pytest.raises(DatasetError, match="has no split 'val'"):
        load_builtin("mnist", "val")


# --- lookup order and downloads, on a fake dataset -----------------------------------


@pytest.fixture
def tiny_builtin(tmp_path, monkeypatch):
    """A fake built-in dataset 'tiny' served from a local HTTP server."""
    images = np.random.default_rng(0).integers(0, 256, (6, 4, 4)).astype(np.uint8)
    labels = np.array([0, 1, 0, 1, 1, 0], np.uint8)
    served = tmp_path / "served"
    gz_img = write_idx_gz(served / "t-images-idx3-ubyte.gz", images, IMAGE_MAGIC)
    gz_lab = write_idx_gz(served / "t-labels-idx1-ubyte.gz", labels, LABEL_MAGIC)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    split = Split(
        RemoteFile("t-images-idx3-ubyte.gz", md5(gz_img), md5(gzip.decompress(gz_img))),
        RemoteFile("t-labels-idx1-ubyte.gz", md5(gz_lab), md5(gzip.decompress(gz_lab))),
    )
    spec = BuiltinSpec("tiny", (url,), ("no", "yes"), {"test": split})
    monkeypatch.setitem(builtin.BUILTIN, "tiny", spec)
    monkeypatch.setattr(builtin, "BUNDLED_DIR", tmp_path / "bundled")
    yield {
        "images": images,
        "labels": labels,
        "served": served,
        "url": url,
        "gz": (gz_img, gz_lab),
    }
    server.shutdown()
    server.server_close()


def _cache_files():
    return sorted(p.name for p in cache_dir().rglob("*") if p.is_file())


def test_download_into_cache_then_reuse(tiny_builtin):
    ds = load_builtin("tiny", "test")
    np.testing.assert_array_equal(ds.images[:, 0], tiny_builtin["images"])
    assert _cache_files() == ["t-images-idx3-ubyte.gz", "t-labels-idx1-ubyte.gz"]
    # Once cached, the server is not needed.
    for f in tiny_builtin["served"].iterdir():
        f.unlink()
    np.testing.assert_array_equal(
        load_builtin("tiny", "test").labels, tiny_builtin["labels"]
    )


def test_cache_honours_xdg_cache_home(tiny_builtin, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_builtin("tiny", "test")
    assert (
        tmp_path / "xdg" / "latent-explorer" / "tiny" / "t-images-idx3-ubyte.gz"
    ).is_file()


def test_truncated_download_leaves_no_file(tiny_builtin):
    path = tiny_builtin["served"] / "t-images-idx3-ubyte.gz"
    path.write_bytes(tiny_builtin["gz"][0][:-20])
    with pytest.raises(DatasetError) as e:
        load_builtin("tiny", "test")
    assert "t-images-idx3-ubyte.gz" in str(e.value) and tiny_builtin["url"] in str(
        e.value
    )
    assert _cache_files() == []


def test_corrupted_download_is_a_checksum_error_and_leaves_no_file(tiny_builtin):
    path = tiny_builtin["served"] / "t-labels-idx1-ubyte.gz"
    labels = tiny_builtin["labels"].copy()
    labels[0] = 7
    write_idx_gz(path, labels, LABEL_MAGIC)
    with pytest.raises(
        DatasetError,
        match=r"t-labels-idx1-ubyte.gz downloaded from http://127\.0\.0\.1:\d+/"
        r"t-labels-idx1-ubyte.gz: checksum mismatch",
    ):
        load_builtin("tiny", "test")
    assert "t-labels-idx1-ubyte.gz" not in _cache_files()
    assert not [p for p in cache_dir().rglob("*.part")]


def test_missing_file_on_server_names_url(tiny_builtin):
    (tiny_builtin["served"] / "t-images-idx3-ubyte.gz").unlink()
    with pytest.raises(
        DatasetError,
        match=r"could not download t-images-idx3-ubyte.gz from "
        r"http://127.0.0.1:\d+/t-images-idx3-ubyte.gz: HTTP Error 404",
    ):
        load_builtin("tiny", "test")


def test_unreachable_host_is_a_clear_error(tiny_builtin, monkeypatch):
    spec = builtin.BUILTIN["tiny"]
    dead = BuiltinSpec("tiny", ("http://127.0.0.1:9/",), spec.class_names, spec.splits)
    monkeypatch.setitem(builtin.BUILTIN, "tiny", dead)
    with pytest.raises(
        DatasetError,
        match=r"could not download t-images-idx3-ubyte.gz from http://127.0.0.1:9/",
    ):
        load_builtin("tiny", "test")


def test_lookup_order_explicit_then_bundled_then_cache(
    tiny_builtin, tmp_path, monkeypatch
):
    images, labels = tiny_builtin["images"], tiny_builtin["labels"]
    gz_img, gz_lab = tiny_builtin["gz"]
    for f in tiny_builtin["served"].iterdir():
        f.unlink()  # nothing can be downloaded
    with pytest.raises(DatasetError):
        load_builtin("tiny", "test")
    cache = cache_dir() / "tiny"
    cache.mkdir(parents=True)
    (cache / "t-images-idx3-ubyte.gz").write_bytes(gz_img)
    (cache / "t-labels-idx1-ubyte.gz").write_bytes(gz_lab)
    assert load_builtin("tiny", "test").images.shape == (6, 1, 4, 4)

    # A broken bundled copy is found before the good cache: bundled comes first.
    bundled = builtin.BUNDLED_DIR / "tiny"
    bundled.mkdir(parents=True)
    (bundled / "t-images-idx3-ubyte.gz").write_bytes(b"junk")
    with pytest.raises(DatasetError, match="bundled/tiny/t-images-idx3-ubyte.gz"):
        load_builtin("tiny", "test")

    # An explicit directory (argument or environment) comes before both.
    explicit = tmp_path / "explicit"
    write_idx_gz(explicit / "tiny" / "t-images-idx3-ubyte.gz", images, IMAGE_MAGIC)
    write_idx_gz(explicit / "tiny" / "t-labels-idx1-ubyte.gz", labels, LABEL_MAGIC)
    assert len(load_builtin("tiny", "test", data_dir=explicit)) == 6
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(explicit))
    assert len(load_builtin("tiny", "test")) == 6


def test_split_that_cannot_be_downloaded(monkeypatch, tmp_path):
    monkeypatch.setattr(builtin, "BUNDLED_DIR", tmp_path / "empty")
    with pytest.raises(
        DatasetError, match="train5k-images-idx3-ubyte.gz of mnist is not published"
    ):
        load_builtin("mnist", "train5k")


# --- image folders -----------------------------------------------------------------


def _save(path: Path, im: Image.Image, fmt: str = "PNG") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, fmt)


def test_folder_with_class_subfolders_any_size_and_mode(tmp_path):
    _save(tmp_path / "cats" / "a.png", Image.new("RGB", (40, 30), (255, 0, 0)))
    _save(tmp_path / "cats" / "b.jpg", Image.new("L", (10, 10), 200), "JPEG")
    _save(tmp_path / "dogs" / "c.png", Image.new("RGBA", (28, 28), (255, 255, 255, 0)))
    _save(tmp_path / "dogs" / "d.png", Image.new("P", (5, 7)))
    _save(tmp_path / "dogs" / "e.png", Image.new("I;16", (12, 12), 65535))
    (tmp_path / "dogs" / "notes.txt").write_text("not an image")
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.warns(UserWarning, match="skipped 2 file"):
        ds = load_folder(tmp_path)
    assert ds.images.shape == (5, 1, 28, 28)
    assert ds.class_names == ("cats", "dogs")
    assert ds.labels.tolist() == [0, 0, 1, 1, 1]
    assert ds.images[2].max() == 0  # fully transparent reads as black background
    assert ds.images[4].min() == 255  # 16-bit white stays white
    with pytest.warns(UserWarning, match="skipped 2 file"):
        rgb = load_folder(tmp_path, size=(16, 16), channels=3)
    assert rgb.images.shape == (5, 3, 16, 16)
    assert tuple(rgb.images[0, :, 0, 0]) == (255, 0, 0)


def test_flat_folder_is_unlabelled_and_splits_are_disjoint(tmp_path):
    for i in range(20):
        _save(tmp_path / f"{i:02d}.png", Image.new("L", (28, 28), i * 10))
    ds = load_dataset(f"folder:{tmp_path}", split="all")
    assert ds.labels is None and ds.class_names == () and len(ds) == 20
    train = load_folder(tmp_path, split="train", test_fraction=0.25)
    test = load_folder(tmp_path, split="test", test_fraction=0.25)
    assert len(train) == 15 and len(test) == 5
    seen = {int(im[0, 0, 0]) for im in np.concatenate([train.images, test.images])}
    assert len(seen) == 20


def test_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no images found"):
        load_folder(tmp_path)
    with pytest.raises(DatasetError, match="no such folder"):
        load_folder(tmp_path / "nope")
    (tmp_path / "readme.txt").write_text("x")
    with (
        pytest.warns(UserWarning, match="skipped 1 file"),
        pytest.raises(DatasetError, match="no images"),
    ):
        load_folder(tmp_path)


def test_no_download_when_not_allowed(tiny_builtin):
    assert not available_offline("tiny", "test")
    with pytest.raises(DatasetError, match="is not on this machine"):
        load_builtin("tiny", "test", download=False)
    assert _cache_files() == []
    load_builtin("tiny", "test")
    assert available_offline("tiny", "test")
    assert not available_offline("tiny", "nosuchsplit")
    assert not available_offline("nosuchdataset", "test")
    assert len(load_builtin("tiny", "test", download=False)) == 6


def test_lazy_folder_reads_the_same_images_and_names_a_bad_file(tmp_path):
    for i in range(12):
        _save(tmp_path / "ab"[i % 2] / f"{i:02d}.png", Image.new("L", (20, 20), i * 20))
    eager = load_folder(tmp_path, size=(8, 8))
    lazy = FolderImages(tmp_path, size=(8, 8))
    assert len(lazy) == 12 and lazy.image_shape == (1, 8, 8)
    assert lazy.class_names == eager.class_names
    assert lazy.labels.tolist() == eager.labels.tolist()
    for i in range(12):
        x, y = lazy[i]
        assert torch.equal(x, torch.from_numpy(eager.images[i]).float() / 255)
        assert y == eager.labels[i]
    # The same seeded split as the eager loader.
    test = FolderImages(tmp_path, size=(8, 8), split="test", test_fraction=0.25)
    eager_test = load_folder(tmp_path, size=(8, 8), split="test", test_fraction=0.25)
    assert np.array_equal(
        np.stack([test.read(i) for i in range(len(test))]), eager_test.images
    )
    # Batches through a DataLoader with worker processes.
    loader = torch.utils.data.DataLoader(
        lazy, batch_size=5, num_workers=2, collate_fn=collate_batch
    )
    xs, ys = zip(*loader, strict=True)
    assert torch.cat(xs).shape == (12, 1, 8, 8)
    assert torch.cat(ys).tolist() == eager.labels.tolist()
    (tmp_path / "a" / "zz.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    lazy = FolderImages(tmp_path, size=(8, 8))
    bad = [str(f) for f in lazy.files].index(str(tmp_path / "a" / "zz.png"))
    with pytest.raises(DatasetError, match=r"zz.png: not a readable image"):
        lazy[bad]
