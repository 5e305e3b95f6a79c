"""A store of a million images (Fashion-MNIST, shifted copies): packing and
streamed encoding (time and memory), the map's bytes, a folder of PNG files
packed and encoded, and in Chromium the time until both maps are drawn and
until a zoom has redrawn (the classic design, ``benchmarks.classic``, as the
baseline)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import chromium, classic
from benchmarks.data import ShiftedCopies, map_dataset
from benchmarks.rows import Row, row
from explorer.data.dataset import ImageDataset
from explorer.model.checkpoint import load_checkpoint, resolve
from harness import driver

MILLION = 1_000_000
MODELS = ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2")
DATASET = "fashion-mnist-1m"
FOLDER_IMAGES = 50_000


@dataclass
class Folder:
    """A folder of ``n`` PNG files: seconds to pack, MB it took with encoding."""

    n: int
    packed: float
    growth_mb: float


@dataclass
class Browser:
    instant: chromium.Opens  # its ``after``: every point in the browser
    classic: chromium.Opens


@dataclass
class Samples:
    n: int
    packed: float  # seconds
    encoded: list[float]  # seconds, one a model
    growth_mb: float
    start_mb: float
    drawn: int  # points the map draws at first
    sizes: list[int]  # bytes of the points file and the density image
    folder: Folder
    browser: Browser | None


def measure(data_dir: str | None, browser: bool, n: int = MILLION) -> Samples:
    from explorer.app.components import density
    from explorer.app.components.latent_map import component_dir
    from explorer.data.store import pack
    from explorer.latent.encoded import encode, open_encoding
    from explorer.memory import MemoryWatch

    base, _ = map_dataset(data_dir)
    source = ShiftedCopies(base, n)
    with tempfile.TemporaryDirectory() as tmp:
        spaces = Path(tmp) / "spaces"
        with MemoryWatch() as mem:
            t = time.perf_counter()
            store = pack(source, spaces / "fm-1m", DATASET, 4096, 0, False)
            packed = time.perf_counter() - t
            took = []
            for name in MODELS:
                t = time.perf_counter()
                encode(load_checkpoint(name), resolve(name), store, 8192, False)
                took.append(time.perf_counter() - t)
        enc = open_encoding(store, resolve(MODELS[1]))
        coords = np.ascontiguousarray(enc.mean[:, :2], dtype=np.float32)
        pts, _ = density.large_map(
            coords, np.arange(n), ("z[0]", "z[1]"), np.asarray(source.labels),
            base.class_names, None, None, None, "bench",
        )  # fmt: skip
        folder = component_dir()
        sizes = [(folder / f).stat().st_size for f in (pts.file, pts.density["file"])]
        files = _folder(base, Path(tmp), min(n, FOLDER_IMAGES))
        opened = _browser(spaces, data_dir) if browser else None
    return Samples(
        n, packed, took, mem.growth_mb, mem.start_anon_mb, pts.n, sizes, files, opened
    )


def _folder(base: ImageDataset, tmp: Path, n: int) -> Folder:
    """A folder of ``n`` PNG files (Fashion-MNIST images, one sub-folder per
    class): packed by 2 loader workers and encoded, with the memory it took."""
    from PIL import Image

    from explorer.data.folder import FolderImages
    from explorer.data.store import pack
    from explorer.latent.encoded import encode
    from explorer.memory import MemoryWatch

    root = tmp / "folder"
    for i in range(n):
        path = root / base.class_names[base.labels[i]] / f"{i:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(base.images[i, 0]).save(path)
    name = MODELS[1]
    with MemoryWatch() as mem:
        t = time.perf_counter()
        store = pack(FolderImages(root), tmp / "folder-store", "folder", 256, 2, False)
        packed = time.perf_counter() - t
        encode(load_checkpoint(name), resolve(name), store, 4096, False)
    return Folder(n, packed, mem.growth_mb)


def _browser(spaces: Path, data_dir: str | None) -> Browser:
    """Opening and zooming the map, in the instant design (the browser
    fetches every point after the first draw and draws each window itself)
    and in the classic one (each window asked of the server), the same run."""
    from playwright.sync_api import sync_playwright

    env = {"EXPLORER_SPACES_DIR": str(spaces), **chromium.data_env(data_dir)}
    address = f"/?ds={DATASET}"

    def every_point(frames):  # fetched in the background
        for f in frames:
            f.wait_for_function(
                "() => document.getElementById('map').dataset.all", timeout=120_000
            )

    with sync_playwright() as p:
        browser = driver.launch(p)
        # until the last step's window is on screen
        instant = chromium.open_and_zoom(
            browser,
            env,
            address,
            driver.window_drawn,
            every_point,
        )
        old = classic.opens(browser, env, address)
        browser.close()
    return Browser(instant, old)


def report(s: Samples) -> list[Row]:
    n = s.n
    rows = [
        row(f"pack {n:,} images into a store", "images/s", [n / s.packed]),
        row(
            f"encode {n:,} images into memory-mapped files",
            "images/s",
            [n / t for t in s.encoded],
            note="codes and per-image measures (one decode each); " + ", ".join(MODELS),
        ),
        row(
            "memory while packing and encoding",
            "MB",
            [s.growth_mb],
            note=f"allocated on top of the {s.start_mb:.0f} MB before; "
            f"the images alone are {n * 784 / 2**20:.0f} MB (uint8), "
            f"{n * 784 * 4 / 2**20:.0f} MB as float32",
        ),
        row(
            f"map payload, {n:,} points",
            "MB",
            [sum(s.sizes) / 1e6],
            "<= 2 MB",
            lambda m, p: m <= 2,
            note=f"{s.drawn:,} points drawn ({s.sizes[0] / 1e6:.2f} MB) + density "
            f"image ({s.sizes[1] / 1e3:.0f} kB), before the first draw; then, in "
            f"the background, every point: {n * 12 / 1e6:.0f} MB for the first "
            f"map (order, coordinates), {n * 8 / 1e6:.0f} MB for the second",
        ),
        *_folder_rows(s.folder),
    ]
    if s.browser is not None:
        rows += _browser_rows(s.browser)
    return rows


def _folder_rows(f: Folder) -> list[Row]:
    return [
        row(
            f"pack a folder of {f.n:,} PNG files",
            "images/s",
            [f.n / f.packed],
            note="2 loader workers decode the files",
        ),
        row(
            f"memory while packing and encoding {f.n:,} files",
            "MB",
            [f.growth_mb],
            note=f"the images in memory: {f.n * 784 / 2**20:.0f} MB (uint8), "
            f"{f.n * 784 * 4 / 2**20:.0f} MB as float32",
        ),
    ]


def _browser_rows(b: Browser) -> list[Row]:
    new, old = b.instant, b.classic

    def was(samples, unit="s", scale=1.0):
        return f"classic: {np.median(samples) * scale:.{0 if scale > 1 else 2}f} {unit}"

    return [
        row(
            "1M points: open the app until both maps drawn, cold",
            "s",
            new.drawn[2:],
            "<= 5 s",
            lambda m, p: m <= 5,
            baseline=was(old.drawn[2:]),
            note="a new server's first session, as for the cold start above: "
            "the spaces' caches and the link's saved first view on disk from "
            "the server before; until both maps are drawn (the page's run goes on)",
        ),
        row(
            "1M points: open a link for the first time ever",
            "s",
            new.drawn[:1],
            baseline=was(old.drawn[:1]),
            note="a new server, nothing saved for this address: both spaces "
            "built from the store (PCA) and PyTorch imported before the view",
        ),
        row(
            "1M points: reload until both maps drawn",
            "s",
            new.drawn[1:2],
            baseline=was(old.drawn[1:2]),
        ),
        row(
            "1M points: every point in the browser, after the maps are drawn",
            "s",
            new.after,
            note="order, coordinates and labels of both maps, fetched in the "
            "background while the first view is already drawn (first open, "
            "reload, a new server)",
        ),
        row(
            "1M points: zoom until the view's points redrawn",
            "ms",
            new.zoom,
            "<= 250 ms",
            lambda m, p: m <= 250,
            baseline=was(old.zoom, "ms", 1000),
            scale=1000,
            note="after the last of 3 wheel steps 30 ms apart, until its window "
            "is on screen; instant: the view zooms itself, one redraw per step "
            "with the window's points picked and binned in the browser; "
            "classic: plotly's wheel zoom, then the server's points after the "
            "400 ms the map waits for the zoom to end",
        ),
    ]
