"""Built-in MNIST and Fashion-MNIST: IDX files, their checksums, and download.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.data.dataset import DATA_DIR_ENV, DatasetError, ImageDataset, cache_dir
from explorer.fileio import atomic_write

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).parent / "bundled"
IMAGE_MAGIC = 2051  # IDX: unsigned byte, 3 dimensions
LABEL_MAGIC = 2049  # IDX: unsigned byte, 1 dimension


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
        raise DatasetError("idx_short", path=source, size=len(raw))
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DatasetError("idx_magic", path=source, found=found, magic=magic)
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DatasetError(
            "idx_size", path=source, shape=tuple(dims), want=expected, size=len(raw)
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _gunzip(data: bytes, source: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DatasetError("gzip", path=source, reason=e) from e


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
        "md5",
        path=source,
        got=_md5(data),
        raw=_md5(raw),
        want=spec.gz_md5 or "-",
        want_raw=spec.raw_md5 or "-",
    )


# --- locating and downloading ------------------------------------------------


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
        raise DatasetError("download", name=spec.name, url=url, reason=e) from e
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
        if allow_download:
            raise DatasetError(
                "not_published", file=file.name, name=spec.name, places=places
            )
        raise DatasetError("not_here", file=file.name, name=spec.name, places=places)
    errors = []
    for base in spec.urls:
        try:
            return download(base + file.name, file, cache_dir() / spec.name / file.name)
        except DatasetError as e:
            errors.append(str(e))
    reasons = "; ".join(errors)
    raise DatasetError("downloads", file=file.name, name=spec.name, reasons=reasons)


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
        raise DatasetError("unknown", name=name, choices=sorted(BUILTIN))
    spec = BUILTIN[name]
    if split not in spec.splits:
        raise DatasetError(
            "no_split", name=name, split=split, choices=sorted(spec.splits)
        )
    s = spec.splits[split]
    raw_images = _fetch(spec, s, s.images, data_dir, download)
    raw_labels = _fetch(spec, s, s.labels, data_dir, download)
    images = parse_idx(raw_images, IMAGE_MAGIC, s.images.name)
    labels = parse_idx(raw_labels, LABEL_MAGIC, s.labels.name)
    if len(images) != len(labels):
        raise DatasetError(
            "counts", name=name, split=split, images=len(images), labels=len(labels)
        )
    return ImageDataset(
        images[:, None].copy(), labels.astype(np.int64), spec.class_names, name, split
    )
