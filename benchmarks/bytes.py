"""The bytes of a visit to the default page (``streamlit run app.py``, the
AE and the VAE of Fashion-MNIST, 2-D, 10,000 points each), in Chromium: a
first visit in a fresh context, from the page's request until both maps are
drawn and the view can answer a click by itself (its decoders, means and
labels loaded: the view's ``data-clickable``), every response's bytes on the
wire and every websocket frame, by kind (``harness.traffic``); then a second
visit in the same context (the same cache).

The baseline is the same page as it was before this work (``BASELINE``, a
commit of this repository, unpacked into a temporary folder and served the
same way) in the same run: float32 decoders, nothing compressed, the same
immutable caching. Target: a first visit of at most 8 MB, and a second visit
that fetches none of the app's data (every ``/_lx/`` file from the cache).
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import chromium
from benchmarks.rows import Row, row
from explorer.fileio import weights_dir
from harness import driver, traffic

BASELINE = "407df4700af6774272bcf485dc2ed1c62ee1c43e"  # main before #29 part 3
TARGET = 8 * 10**6  # bytes of a first visit
MB = 1e-6
# the view's ready signal: both maps drawn, and a click answered in the page
READY = driver.VIEW + "[data-clickable='1']"
DECODERS = 2  # the default page's two maps each decode in the browser


@dataclass
class Visit:
    """One visit's bytes by kind, and the app's files it fetched from the
    server (not from the browser's cache)."""

    bytes: dict[str, int]
    app_fetched: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.bytes.values())


@dataclass
class Samples:
    """The first and second visit of the page now and of the baseline; per
    default model, the layers its view's decoder holds in float16, and the
    largest decode difference (grey levels) with them and with every layer
    in float16."""

    now: tuple[Visit, Visit]
    baseline: tuple[Visit, Visit]
    half: dict[str, tuple[list[bool], float, float]] = field(default_factory=dict)


MODELS = ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2")  # the default pair


def precision(data_dir: str | None = None) -> dict:
    """Per default model: the float16 layers the view's decoder holds, and
    the largest difference from float32 on the check's points, in grey
    levels, with them and with every layer in float16."""
    from explorer import load_dataset, load_model
    from explorer.app.components.live import check_points
    from explorer.latent.space import encode_space
    from explorer.model.export import grey_error, half_layers

    ds = load_dataset("fashion-mnist", "test", data_dir=data_dir)
    out = {}
    for name in MODELS:
        model = load_model(name)
        z, labels = check_points(encode_space(name, model, ds))
        half = half_layers(model, z, labels)
        every = [True] * len(half)
        err = [255 * grey_error(model, h, z, labels) for h in (half, every)]
        out[name] = (half, *err)
    return out


def _decoders_loaded(t: traffic.Traffic) -> bool:
    done = [u for rid, u in t.urls.items() if rid in t.sizes]
    return sum(traffic.kind(u) == "decoders" for u in done) >= DECODERS


def _poll(page, ok, timeout: float) -> None:
    """Polls ``ok()`` until it is true (letting Playwright deliver events)."""
    for _ in range(int(timeout / 20)):
        if ok():
            return
        page.wait_for_timeout(20)
    raise AssertionError("the decoders did not load")


def visit(context, url: str, ready: str, timeout: float = 300_000) -> Visit:
    """Opens ``url`` in a new page of ``context`` and counts its bytes until
    ``ready`` is on the page, its script run has ended and no request is
    under way."""
    page = context.new_page()
    t = traffic.record(context, page)
    driver.watch(page)
    page.goto(url, timeout=timeout)
    page.wait_for_selector(ready, timeout=timeout)
    driver.wait_idle(page, timeout)
    if ready == driver.VIEW:  # the baseline has no signal of its decoders
        _poll(page, lambda: _decoders_loaded(t), timeout)
    traffic.wait_settled(page, t, timeout / 1000)
    got = Visit(dict(t.bytes), t.network())
    page.close()
    return got


def _visits(url: str, ready: str) -> tuple[Visit, Visit]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = driver.launch(p)
        context = browser.new_context(viewport=chromium.VIEWPORT)
        first = visit(context, url, ready)
        second = visit(context, url, ready)
        browser.close()
    return first, second


def unpack(commit: str, into: Path) -> Path:
    """This repository's files at ``commit``, unpacked into ``into``."""
    archive = into / "src.tar"
    with archive.open("wb") as f:
        subprocess.run(
            ["git", "-C", str(driver.REPO), "archive", commit], stdout=f, check=True
        )
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    return into / "src"


def measure(data_dir: str | None = None) -> Samples:
    with tempfile.TemporaryDirectory(prefix="bench-bytes-") as tmp:
        tmp = Path(tmp)
        env = chromium.data_env(data_dir) | {"EXPLORER_WEIGHTS_DIR": str(weights_dir())}
        with driver.streamlit_server(env | {"XDG_CACHE_HOME": str(tmp / "now")}) as url:
            now = _visits(url, READY)
        src = unpack(BASELINE, tmp)
        # (its own package first: Streamlit puts the script's folder first)
        old = env | {"XDG_CACHE_HOME": str(tmp / "old"), "PYTHONPATH": str(src)}
        with driver.streamlit_server(old, app=src / "app.py") as url:
            baseline = _visits(url, driver.VIEW)
    return Samples(now, baseline, precision(data_dir))


def _kinds(v: Visit) -> str:
    order = [k for k, _ in traffic.KINDS] + ["page", traffic.WEBSOCKET]
    return ", ".join(f"{k} {v.bytes.get(k, 0) * MB:.2f}" for k in order)


def _half_row(s: Samples) -> Row:
    kinds = ", ".join(
        f"{name}: {''.join('h' if h else 'f' for h in half)} "
        f"({err:.2f}; all float16 {every:.2f})"
        for name, (half, err, every) in s.half.items()
    )
    return row(
        "decoders in float16: largest decode difference from float32",
        "grey levels",
        [err for _, err, _ in s.half.values()],
        "< 1",
        lambda m, p: max(err for _, err, _ in s.half.values()) < 1,
        note="per model, on a 64x64 grid over its sliders' ranges and 2,048 of "
        "the data's codes (components.live.check_points); its decoder's layers "
        "(h: float16, f: float32), the largest difference, and with every "
        "layer float16: " + kinds,
    )


def report(s: Samples) -> list[Row]:
    (first, second), (old_first, old_second) = s.now, s.baseline
    where = (
        "the default page (AE and VAE of Fashion-MNIST, 2-D, 10,000 points "
        "each) in a fresh Chromium context, until both maps are drawn and the "
        "view answers a click itself; bytes on the wire (CDP encodedDataLength) "
        "and websocket frames; MB by kind: "
    )
    return [
        row(
            "first visit: bytes fetched",
            "MB",
            [first.total * MB],
            "<= 8 MB",
            lambda m, p: m <= TARGET * MB,
            baseline=f"before (commit {BASELINE[:7]}), same run: "
            f"{old_first.total * MB:.2f} MB ({_kinds(old_first)})",
            note=where + _kinds(first),
        ),
        row(
            "second visit (same cache): bytes fetched",
            "MB",
            [second.total * MB],
            "reported",
            baseline=f"before, same run: {old_second.total * MB:.2f} MB",
            note="the same context opens the page again; MB by kind: " + _kinds(second),
        ),
        row(
            "second visit: the app's files fetched again",
            "files",
            [len(second.app_fetched)],
            "0",
            lambda m, p: m == 0,
            baseline=f"before, same run: {len(old_second.app_fetched)}",
            note="requests under /_lx/ (points, means, decoders, image chunks, "
            "the view's modules, plotly.js) that reached the server, a 304 "
            "included: " + (", ".join(second.app_fetched) or "none"),
        ),
        _half_row(s),
    ]
