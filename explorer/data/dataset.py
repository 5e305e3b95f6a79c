"""Datasets: built-in MNIST and Fashion-MNIST (IDX files) and image folders.

Built-in files are looked up, in order, in an explicit directory (argument or
``EXPLORER_DATA_DIR``), the copy bundled with the package, the user cache
(``$XDG_CACHE_HOME/latent-explorer``), and finally downloaded from the
canonical URLs into the cache. Every file is verified against a checksum
before it is used; a download is written to a temporary file and renamed into
the cache only once verified, so the cache never holds a partial or wrong file.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from explorer.fileio import atomic_write

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).parent / "bundled"
DATA_DIR_ENV = "EXPLORER_DATA_DIR"
FOLDER_PREFIX = "folder:"
IMAGE_MAGIC = 2051  # IDX: unsigned byte, 3 dimensions
LABEL_MAGIC = 2049  # IDX: unsigned byte, 1 dimension


class DatasetError(RuntimeError):
    """A dataset could not be found, fetched, verified or parsed."""


@dataclass(frozen=True)
class RemoteFile:
    """One IDX file of a built-in dataset.

    A file is accepted when the md5 of its gzip bytes equals ``gz_md5`` (the
    canonical download) or the md5 of its decompressed bytes equals
    ``raw_md5`` (the same content, recompressed by a mirror or a distro).
    """

    name: str
    gz_md5: str | None
    raw_md5: str | None


@dataclass(frozen=True)
class Split:
    images: RemoteFile
    labels: RemoteFile
    downloadable: bool = True


@dataclass(frozen=True)
class BuiltinSpec:
    name: str
    urls: tuple[str, ...]
    class_names: tuple[str, ...]
    splits: dict[str, Split]


def _split(prefix: str, img: tuple, lab: tuple, downloadable: bool = True) -> Split:
    return Split(
        RemoteFile(f"{prefix}-images-idx3-ubyte.gz", *img),
        RemoteFile(f"{prefix}-labels-idx1-ubyte.gz", *lab),
        downloadable,
    )


BUILTIN: dict[str, BuiltinSpec] = {
    "mnist": BuiltinSpec(
        name="mnist",
        urls=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        class_names=tuple(str(d) for d in range(10)),
        splits={
            "train": _split(
                "train",
                ("f68b3c2dcbeaaa9fbdd348bbdeb94873", None),
                ("d53e105ee54ea40749a09fcbcd1e9432", None),
            ),
            "test": _split(
                "t10k",
                (
                    "9fb629c4189551a2d022fa330f9573f3",
                    "2646ac647ad5339dbf082846283269ea",
                ),
                (
                    "ec29112dd5afa0611ce80d1b7f02629c",
                    "27ae3e4e09519cfbb04c329615203637",
                ),
            ),
            # The first 500 training images of each digit; not published on its
            # own, so it comes only from the bundled copy or a local directory.
            "train5k": _split(
                "train5k",
                (
                    "1796f3602df549a6d9d2026828988b93",
                    "cf43cf5099b59d94a38ce26ba7d8c3cf",
                ),
                (
                    "1e389e6c31047d4a2d690b22266c6609",
                    "0b46166b7c9707a10274bd2f91b08208",
                ),
                downloadable=False,
            ),
        },
    ),
    "fashion-mnist": BuiltinSpec(
        name="fashion-mnist",
        urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        splits={
            "train": _split(
                "train",
                (
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                ),
                (
                    "25c81989df183df01b3e8a0aad5dffbe",
                    "9018921c3c673c538a1fc5bad174d6f9",
                ),
            ),
            "test": _split(
                "t10k",
                (
                    "bef4ecab320f06d8554ea6380940ec79",
                    "8181f5470baa50b63fa0f6fddb340f0a",
                ),
                (
                    "bb300cfdad3c16e7a12a480ee83cd310",
                    "15d484375f8d13e6eb1aabb0c3f46965",
                ),
            ),
        },
    ),
}


@dataclass
class ImageDataset:
    """Images with optional labels, as stored (uint8).

    Attributes:
        images: uint8 array ``[N, C, H, W]``.
        labels: int64 array ``[N]``, or None for unlabelled data.
        class_names: one name per label value.
        name: the dataset's name (``mnist``, ``folder:/path``...).
        split: which split this is.
    """

    images: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    name: str
    split: str

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Returns images as float ``[N, C, H, W]`` in [0, 1] and labels ``[N]``."""
        x = torch.from_numpy(self.images.astype(np.float32)).div_(255.0)
        y = None if self.labels is None else torch.from_numpy(self.labels.copy())
        return x, y

    def subset(self, index: np.ndarray, split: str | None = None) -> ImageDataset:
        labels = None if self.labels is None else self.labels[index]
        return ImageDataset(
            self.images[index], labels, self.class_names, self.name, split or self.split
        )


# --- IDX parsing -------------------------------------------------------------


def parse_idx(raw: bytes, magic: int, source: str) -> np.ndarray:
    """Parses decompressed IDX bytes of unsigned bytes.

    Args:
        raw: the decompressed file content.
        magic: 2051 for images (``[N, H, W]``) or 2049 for labels (``[N]``).
        source: file name used in error messages.

    Returns:
        A uint8 array of the shape the header declares.
    """
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{source}: too short for an IDX header ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DatasetError(f"{source}: bad IDX magic number {found}, expected {magic}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DatasetError(
            f"{source}: IDX header declares shape {tuple(dims)} ({expected} bytes) "
            f"but the file holds {len(raw)} bytes (truncated or corrupt)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _gunzip(data: bytes, source: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DatasetError(f"{source}: not a complete gzip file ({e})") from e


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def verify(data: bytes, spec: RemoteFile, source: str) -> bytes:
    """Checks gzip ``data`` against ``spec`` and returns the decompressed bytes."""
    if spec.gz_md5 is not None and _md5(data) == spec.gz_md5:
        return _gunzip(data, source)
    raw = _gunzip(data, source)
    if spec.raw_md5 is not None and _md5(raw) == spec.raw_md5:
        return raw
    raise DatasetError(
        f"{source}: checksum mismatch (md5 of file {_md5(data)}, of content "
        f"{_md5(raw)}; expected {spec.gz_md5 or '-'} or {spec.raw_md5 or '-'})"
    )


# --- locating and downloading ------------------------------------------------


def cache_dir() -> Path:
    """The user cache directory, honouring ``XDG_CACHE_HOME``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "latent-explorer"


def _candidate_dirs(dataset: str, data_dir: str | Path | None) -> list[Path]:
    explicit = data_dir or os.environ.get(DATA_DIR_ENV)
    dirs = [Path(explicit) / dataset] if explicit else []
    return dirs + [BUNDLED_DIR / dataset, cache_dir() / dataset]


def download(url: str, spec: RemoteFile, dest: Path, timeout: float = 30.0) -> bytes:
    """Downloads ``url``, verifies it and atomically moves it to ``dest``.

    Returns:
        The decompressed content.

    Raises:
        DatasetError: naming the file and URL on a network error or mismatch.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise DatasetError(f"could not download {spec.name} from {url}: {e}") from e
    raw = verify(data, spec, f"{spec.name} downloaded from {url}")
    atomic_write(dest, data)
    return raw


def _fetch(
    spec: BuiltinSpec,
    split: Split,
    file: RemoteFile,
    data_dir: str | Path | None,
    allow_download: bool = True,
) -> bytes:
    for folder in _candidate_dirs(spec.name, data_dir):
        path = folder / file.name
        if path.is_file():
            return verify(path.read_bytes(), file, str(path))
    if not split.downloadable or not allow_download:
        places = ", ".join(str(d) for d in _candidate_dirs(spec.name, data_dir))
        why = (
            "is not published for download"
            if allow_download
            else "is not on this machine"
        )
        raise DatasetError(
            f"{file.name} of {spec.name} {why}; put it in one of: {places}"
        )
    errors = []
    for base in spec.urls:
        try:
            return download(base + file.name, file, cache_dir() / spec.name / file.name)
        except DatasetError as e:
            errors.append(str(e))
    raise DatasetError("; ".join(errors))


def available_offline(
    name: str, split: str, data_dir: str | Path | None = None
) -> bool:
    """Whether a built-in split's files are on this machine (not read or
    verified: that happens when the split is loaded)."""
    spec = BUILTIN.get(name)
    if spec is None or split not in spec.splits:
        return False
    s = spec.splits[split]
    dirs = _candidate_dirs(spec.name, data_dir)
    return all(any((d / f.name).is_file() for d in dirs) for f in (s.images, s.labels))


def load_builtin(
    name: str,
    split: str = "test",
    data_dir: str | Path | None = None,
    download: bool = True,
) -> ImageDataset:
    """Loads a split of a built-in dataset (see module docstring for lookup).

    With ``download=False`` a split that is not on this machine is an error.
    """
    if name not in BUILTIN:
        raise DatasetError(f"unknown dataset {name!r}; choose from {sorted(BUILTIN)}")
    spec = BUILTIN[name]
    if split not in spec.splits:
        raise DatasetError(
            f"{name} has no split {split!r}; choose from {sorted(spec.splits)}"
        )
    s = spec.splits[split]
    raw_images = _fetch(spec, s, s.images, data_dir, download)
    raw_labels = _fetch(spec, s, s.labels, data_dir, download)
    images = parse_idx(raw_images, IMAGE_MAGIC, s.images.name)
    labels = parse_idx(raw_labels, LABEL_MAGIC, s.labels.name)
    if len(images) != len(labels):
        raise DatasetError(
            f"{name}/{split}: {len(images)} images but {len(labels)} labels"
        )
    return ImageDataset(
        images[:, None].copy(), labels.astype(np.int64), spec.class_names, name, split
    )


# --- image folders -----------------------------------------------------------


def load_image(path: Path, size: tuple[int, int], channels: int) -> np.ndarray:
    """Reads one image file as uint8 ``[C, H, W]`` of the given size and channels.

    Transparent pixels are composited on black, so an RGBA digit on a clear
    background reads like MNIST.

    Raises:
        OSError, ValueError or PIL errors when the file is not a readable image.
    """
    from PIL import Image

    from explorer.images import to_8bit

    with Image.open(path) as im:
        im.load()
        if im.mode in ("RGBA", "LA", "PA") or (
            im.mode == "P" and "transparency" in im.info
        ):
            rgba = im.convert("RGBA")
            im = Image.alpha_composite(
                Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba
            )
        im = to_8bit(im).convert("L" if channels == 1 else "RGB")
        im = im.resize((size[1], size[0]), Image.Resampling.LANCZOS)
        arr = np.asarray(im, dtype=np.uint8)
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def _list_folder(root: Path) -> tuple[list[Path], np.ndarray | None, tuple[str, ...]]:
    """The files of an image folder (sorted), their labels and the class names:
    one sub-folder per class, or a flat folder (unlabelled)."""
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder")
    classes = tuple(
        sorted(
            p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
    )
    if classes:
        pairs = [
            (f, i)
            for i, c in enumerate(classes)
            for f in sorted((root / c).rglob("*"))
            if f.is_file() and not f.name.startswith(".")
        ]
    else:
        pairs = [
            (f, -1)
            for f in sorted(root.iterdir())
            if f.is_file() and not f.name.startswith(".")
        ]
    files = [f for f, _ in pairs]
    labels = np.array([c for _, c in pairs], dtype=np.int64) if classes else None
    return files, labels, classes


def _split_index(n: int, split: str, test_fraction: float, seed: int) -> np.ndarray:
    """The sorted indices of a folder's seeded ``train``/``test`` split, or all."""
    if split == "all":
        return np.arange(n)
    if split not in ("train", "test"):
        raise DatasetError(
            f"a folder dataset has splits all, train and test, not {split!r}"
        )
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(test_fraction * n)) if n > 1 else 0
    return np.sort(order[:n_test] if split == "test" else order[n_test:])


class FolderImages(torch.utils.data.Dataset):
    """An image folder read lazily: one file is decoded per item, when asked.

    Only the file list is held in memory, so a ``DataLoader`` with workers can
    stream a folder of any size. Files are listed as by ``load_folder`` (same
    order and classes; the same seeded split when every file is an image). A
    file that cannot be decoded raises
    ``DatasetError`` naming it (a lazy reader cannot skip it without changing
    every later index).

    Items are ``(image, label)``: float ``[C, H, W]`` in [0, 1] and an int64
    label (-1 for an unlabelled folder).
    """

    def __init__(
        self,
        root: str | Path,
        size: tuple[int, int] = (28, 28),
        channels: int = 1,
        split: str = "all",
        test_fraction: float = 0.1,
        seed: int = 0,
    ):
        self.root = Path(root)
        files, labels, self.class_names = _list_folder(self.root)
        if not files:
            raise DatasetError(f"{self.root}: no images found")
        index = _split_index(len(files), split, test_fraction, seed)
        self.files = [files[i] for i in index]
        self.labels = None if labels is None else labels[index]
        self.size, self.channels, self.split = tuple(size), channels, split
        self.name = f"{FOLDER_PREFIX}{self.root}"

    def __len__(self) -> int:
        return len(self.files)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels, *self.size)  # type: ignore[return-value]

    def read(self, i: int) -> np.ndarray:
        """The ``i``-th image as stored: uint8 ``[C, H, W]``."""
        from PIL import Image, UnidentifiedImageError

        path = self.files[i]
        try:
            return load_image(path, self.size, self.channels)
        except (
            OSError,
            ValueError,
            SyntaxError,
            UnidentifiedImageError,
            Image.DecompressionBombError,
        ) as e:
            raise DatasetError(
                f"{path}: not a readable image ({e}); remove it from the folder"
            ) from e

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = torch.tensor(self.read(i), dtype=torch.float32).div_(255.0)
        return x, -1 if self.labels is None else int(self.labels[i])


class ArrayImages(torch.utils.data.Dataset):
    """A torch view of uint8 images ``[N, C, H, W]`` (in memory or memory-mapped)
    and their labels; batches are read with one slice (``__getitems__``)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = torch.from_numpy(np.array(self.images[i])).float().div_(255.0)
        return x, -1 if self.labels is None else int(self.labels[i])

    def __getitems__(self, index: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = np.asarray(index)
        x = torch.from_numpy(np.asarray(self.images[index])).float().div_(255.0)
        y = (
            torch.full((len(index),), -1, dtype=torch.long)
            if self.labels is None
            else torch.from_numpy(np.asarray(self.labels[index], dtype=np.int64))
        )
        return x, y


def collate_batch(batch):
    """``DataLoader`` collate: a ``__getitems__`` batch as is, else stacked."""
    if isinstance(batch, tuple):
        return batch
    return torch.utils.data.default_collate(batch)


def torch_view(dataset) -> torch.utils.data.Dataset:
    """A torch dataset of ``(image, label)`` items for an ``ImageDataset``
    (read from memory) or a ``FolderImages`` (read lazily)."""
    if isinstance(dataset, ImageDataset):
        return ArrayImages(dataset.images, dataset.labels)
    return dataset


def open_images(
    name: str,
    split: str = "test",
    data_dir: str | Path | None = None,
    size: tuple[int, int] = (28, 28),
    channels: int = 1,
) -> ImageDataset | FolderImages:
    """A dataset to stream through a ``DataLoader``: ``folder:<path>`` read
    lazily (it may not fit in memory), a built-in one loaded into memory."""
    if name.startswith(FOLDER_PREFIX):
        return FolderImages(name[len(FOLDER_PREFIX) :], size, channels, split)
    return load_builtin(name, split, data_dir)


def loader_workers(dataset: ImageDataset | FolderImages) -> int:
    """Default ``DataLoader`` worker processes: up to 4 to decode a folder's
    files, none for images already in memory."""
    return min(4, os.cpu_count() or 1) if isinstance(dataset, FolderImages) else 0


def load_folder(
    root: str | Path,
    size: tuple[int, int] = (28, 28),
    channels: int = 1,
    split: str = "all",
    test_fraction: float = 0.1,
    seed: int = 0,
) -> ImageDataset:
    """Loads a folder of images into memory: one sub-folder per class, or flat
    (unlabelled). For folders larger than memory use ``FolderImages``.

    Args:
        root: the folder.
        size: output ``(H, W)``.
        channels: 1 (grey) or 3 (RGB).
        split: ``all``, or ``train``/``test`` for a seeded random split.
        test_fraction: the share of images in ``test``.
        seed: seed of the split.

    Returns:
        The dataset. Files that are not readable images are skipped, with one
        warning that counts them.
    """
    folder = FolderImages(root, size, channels, "all")
    images, keep = [], []
    for i in range(len(folder)):
        try:
            images.append(folder.read(i))
            keep.append(i)
        except DatasetError:
            pass
    skipped = len(folder) - len(keep)
    if skipped:
        warnings.warn(
            f"{folder.root}: skipped {skipped} file(s) that are not readable images",
            stacklevel=2,
        )
    if not images:
        raise DatasetError(f"{folder.root}: no images found")
    labels = None if folder.labels is None else folder.labels[keep]
    ds = ImageDataset(np.stack(images), labels, folder.class_names, folder.name, "all")
    if split == "all":
        return ds
    return ds.subset(_split_index(len(ds), split, test_fraction, seed), split)


def load_dataset(
    name: str,
    split: str = "test",
    data_dir: str | Path | None = None,
    size: tuple[int, int] = (28, 28),
    channels: int = 1,
    download: bool = True,
) -> ImageDataset:
    """Loads a built-in dataset by name, or ``folder:<path>``, into memory."""
    if name.startswith(FOLDER_PREFIX):
        return load_folder(name[len(FOLDER_PREFIX) :], size, channels, split)
    return load_builtin(name, split, data_dir, download)


def concatenate(parts: list[ImageDataset]) -> ImageDataset:
    """One dataset of several splits, in order (all must share shape and classes)."""
    first = parts[0]
    labels = None
    if all(p.labels is not None for p in parts):
        labels = np.concatenate([p.labels for p in parts])
    return ImageDataset(
        np.concatenate([p.images for p in parts]),
        labels,
        first.class_names,
        first.name,
        "+".join(p.split for p in parts),
    )
