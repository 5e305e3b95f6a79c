"""A selection of images, made with a lasso or a box on a map: which images
fall inside, what they have in common (class mix, mean image, mean code and
measures), their CSV, and a compact text of their indices for a link.

A selection is a sorted array of unique dataset indices; both maps show the
same images, so a selection made on one is the same images on the other."""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from explorer.problem import Problem

# The longest selection a link carries (characters): a lasso's ~6,000
# scattered images of 70,000, well inside what browsers and servers take.
MAX_TEXT = 8000


class SelectionError(Problem, ValueError):
    """A selection's text or shape that cannot be read."""

    MESSAGES = {
        "lasso_points": "a lasso needs 3 or more [x, y] points, not {shape}",
        "lasso_finite": "a lasso's points must be finite numbers",
        "box": "a box is [[x0, x1], [y0, y1]]",
        "shape": "neither a lasso nor a box",
        "indices": "a selection holds image indices 0 to {last}; got {lo} to {hi}",
        "too_scattered": "a selection of {n:,} images this scattered takes "
        "{chars:,} characters; a link carries at most {limit:,}",
        "too_long": "a selection's text is too long",
        "unreadable": "not a selection: {text!r}",
        "other_size": "the selection is of {bits} images at most, not of this "
        "dataset's {n:,}",
        "past_end": "the selection holds indices past {last}",
        "backwards": "the run {run!r} goes backwards",
        "index": "the selection holds index {index}; the data has {n:,} images",
        "empty": "an empty selection has no summary",
    }


def in_box(
    xy: np.ndarray, x_range: Sequence[float], y_range: Sequence[float]
) -> np.ndarray:
    """Which of the points ``xy`` ``[N, 2]`` lie in the box (edges included)."""
    xy = np.asarray(xy, dtype=np.float64)
    (x0, x1), (y0, y1) = sorted(map(float, x_range)), sorted(map(float, y_range))
    return (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)


def in_lasso(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which of the points ``xy`` ``[N, 2]`` lie inside the closed ``polygon``
    ``[M, 2]`` a lasso drew (Shapely; a lasso that crosses itself counts the
    area of each loop, as plotly.js does)."""
    import shapely

    poly = np.asarray(polygon, dtype=np.float64)
    if poly.ndim != 2 or poly.shape[1] != 2 or len(poly) < 3:
        raise SelectionError("lasso_points", shape=poly.shape)
    if not np.isfinite(poly).all():
        raise SelectionError("lasso_finite")
    shape = shapely.make_valid(shapely.Polygon(poly))
    xy = np.asarray(xy, dtype=np.float64)
    return np.asarray(shapely.contains_xy(shape, xy[:, 0], xy[:, 1]), dtype=bool)


def normalise(indices, n: int) -> np.ndarray:
    """``indices`` as a sorted array of unique ints in ``[0, n)``."""
    out = np.unique(np.asarray(indices, dtype=np.int64).ravel())
    if len(out) and (out[0] < 0 or out[-1] >= n):
        raise SelectionError("indices", last=n - 1, lo=int(out[0]), hi=int(out[-1]))
    return out


# --- the selection in a link ------------------------------------------------------

_RANGES = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
_BITS = re.compile(r"^z[A-Za-z0-9_-]+$")


def encode(indices: np.ndarray, n: int) -> str:
    """A short text of a selection (sorted unique indices below ``n``): runs
    as ``"3-7,12,40-41"``, or when that is longer, ``"z"`` and the zlib-
    compressed bitmask in URL-safe base64. Raises SelectionError when even
    that is longer than ``MAX_TEXT`` (scattered picks from a large set)."""
    idx = normalise(indices, n)
    if not len(idx):
        return ""
    breaks = np.flatnonzero(np.diff(idx) != 1) + 1
    starts = idx[np.r_[0, breaks]]
    ends = idx[np.r_[breaks - 1, len(idx) - 1]]
    runs = ",".join(
        f"{a}" if a == b else f"{a}-{b}" for a, b in zip(starts, ends, strict=True)
    )
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    packed = zlib.compress(np.packbits(mask).tobytes(), 9)
    bits = "z" + base64.urlsafe_b64encode(packed).decode().rstrip("=")
    text = min(runs, bits, key=len)
    if len(text) > MAX_TEXT:
        raise SelectionError(
            "too_scattered", n=len(idx), chars=len(text), limit=MAX_TEXT
        )
    return text


def decode(text: str, n: int) -> np.ndarray:
    """The indices ``encode`` wrote for a dataset of ``n`` images."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise SelectionError("too_long")
    if text == "":
        return np.zeros(0, dtype=np.int64)
    if text.startswith("z"):
        if not _BITS.match(text):
            raise SelectionError("unreadable", text=text[:40])
        try:
            pad = "=" * (-(len(text) - 1) % 4)
            raw = zlib.decompress(
                base64.urlsafe_b64decode(text[1:] + pad), bufsize=n // 8 + 1
            )
        except (ValueError, zlib.error) as e:
            raise SelectionError("unreadable", text=text[:40]) from e
        if len(raw) != (n + 7) // 8:
            raise SelectionError("other_size", bits=len(raw) * 8, n=n)
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8))
        if bits[n:].any():
            raise SelectionError("past_end", last=n - 1)
        return np.flatnonzero(bits[:n]).astype(np.int64)
    if not _RANGES.match(text):
        raise SelectionError("unreadable", text=text[:40])
    parts = []
    for run in text.split(","):
        a, _, b = run.partition("-")
        lo, hi = int(a), int(b or a)
        if hi < lo:
            raise SelectionError("backwards", run=run)
        if hi >= n:
            raise SelectionError("index", index=hi, n=n)
        parts.append(np.arange(lo, hi + 1))
    return np.unique(np.concatenate(parts))


# --- what a selection holds -------------------------------------------------------


def _name(class_names: Sequence[str], label: int) -> str:
    return str(class_names[label]) if 0 <= label < len(class_names) else str(label)


@dataclass(frozen=True)
class Summary:
    """A selection at a glance.

    Attributes:
        count: how many images.
        classes: ``[(class name, count)]``, most common first (empty without
            labels).
        mean_image: the pixel mean of the images ``[C, H, W]``, rounded to
            uint8 as the images are stored.
        mean_codes: per model, the mean of the images' latent means ``[D]``.
        measures: per model, the mean of each per-image measure (``recon``,
            ``kl``, ``loss``) over the images.
    """

    count: int
    classes: list[tuple[str, int]]
    mean_image: np.ndarray
    mean_codes: dict[str, np.ndarray]
    measures: dict[str, dict[str, float]]


def summarise(
    indices: np.ndarray,
    images,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    codes: Mapping[str, np.ndarray],
    measures: Mapping[str, Mapping[str, np.ndarray]],
    chunk: int = 4096,
) -> Summary:
    """The ``Summary`` of ``indices`` over ``images`` ``[N, C, H, W]`` (uint8,
    as stored; a memory-mapped store is read in chunks), each model's codes
    ``[N, D]`` and per-image measures ``{name: [N]}``."""
    idx = np.asarray(indices, dtype=np.int64)
    if not len(idx):
        raise SelectionError("empty")
    total = None
    for s in range(0, len(idx), chunk):
        block = np.asarray(images[idx[s : s + chunk]], dtype=np.float64)
        part = block.sum(0)
        total = part if total is None else total + part
    mean = np.rint(total / len(idx)).astype(np.uint8)
    classes = []
    if labels is not None and len(class_names):
        counts = np.bincount(np.asarray(labels)[idx], minlength=len(class_names))
        order = np.argsort(-counts, kind="stable")
        classes = [(_name(class_names, c), int(counts[c])) for c in order if counts[c]]
    return Summary(
        count=len(idx),
        classes=classes,
        mean_image=mean,
        mean_codes={k: np.asarray(z)[idx].mean(0) for k, z in codes.items()},
        measures={
            k: {name: float(np.asarray(v)[idx].mean()) for name, v in m.items()}
            for k, m in measures.items()
        },
    )


def to_csv(
    indices: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    codes: Mapping[str, np.ndarray],
    measures: Mapping[str, Mapping[str, np.ndarray]],
) -> str:
    """A CSV row per selected image: ``index``, ``label`` (its class name;
    empty without labels), then for each model ``<model>.z0 …`` (its latent
    mean) and ``<model>.<measure>``."""
    idx = np.asarray(indices, dtype=np.int64)
    header = ["index", "label"]
    columns = []
    for name, z in codes.items():
        z = np.asarray(z)
        header += [f"{name}.z{i}" for i in range(z.shape[1])]
        columns.append(z[idx])
        for m, v in measures.get(name, {}).items():
            header.append(f"{name}.{m}")
            columns.append(np.asarray(v)[idx][:, None])
    values = np.concatenate(columns, axis=1) if columns else np.zeros((len(idx), 0))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for row_i, i in enumerate(idx):
        label = "" if labels is None else _name(class_names, int(labels[i]))
        w.writerow([int(i), label, *(f"{v:.6g}" for v in values[row_i])])
    return out.getvalue()
