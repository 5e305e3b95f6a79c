"""The map forming's replay in Chromium: frames per second drawn while Play
runs through 24 snapshots of 10,000 points per map (both maps: the default
AE and VAE, each with a synthetic snapshot file written through the
trainer's own writer, so the page builds the figure with the Training tab's
``explorer.app.replay.figure``), against the same with 2,000 points per map
(the size ``train --snapshots`` records) in the same run.

A frame per second is a ``requestAnimationFrame`` tick while plotly.js
animates: a long frame (plotly redrawing the points) blocks the ticks."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmarks import chromium
from benchmarks.rows import Row, rate_row
from explorer.fileio import weights_dir
from explorer.training.snapshots import SNAPSHOT_FILE, Frame, Recorder
from harness import driver

MODELS = ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2")
FRAMES = 24
STEPS_PER_EPOCH = 469
SIZES = (2_000, 10_000)  # points per map: the baseline, then the measured

# The replay's graph div, kept as window.gd, its animations counted.
FIND = """() => {
    const gd = [...document.querySelectorAll('.js-plotly-plot')]
        .find((g) => g._transitionData && g._transitionData._frames.length);
    if (!gd) return false;
    window.gd = gd; window.animated = 0;
    gd.on('plotly_animated', () => window.animated++);
    return true;
}"""
# Counts animation frames from now until plotly.js reports the play done.
COUNT = """() => { window.ticks = 0; window.t0 = performance.now();
    window.playing = true;
    window.gd.once('plotly_animated', () => {
        window.playing = false; window.t1 = performance.now(); });
    const tick = () => { if (!window.playing) return; window.ticks++;
        requestAnimationFrame(tick); };
    requestAnimationFrame(tick); }"""


@dataclass
class Samples:
    fps: dict[int, list[float]]  # points per map -> frames per second, per play
    seconds: dict[int, list[float]]  # points per map -> seconds per play


def write_snapshots(folder: Path, n: int, vae: bool, seed: int) -> None:
    """A synthetic ``snapshots.safetensors``: ``n`` 2-D points drifting out
    from the origin over ``FRAMES`` frames (step 0, the first epoch, then
    epoch ends), in ten classes."""
    rng = np.random.default_rng(seed)
    end = rng.normal(size=(n, 2)).astype(np.float32) * 3
    steps = sorted(
        {0, *np.geomspace(1, STEPS_PER_EPOCH, 12).round().astype(int).tolist()}
    )
    steps += [STEPS_PER_EPOCH * e for e in range(2, 2 + FRAMES - len(steps))]
    labels = torch.arange(n) % 10
    rec = Recorder(
        torch.zeros(n, 1), labels, np.arange(n), steps, STEPS_PER_EPOCH, seed,
        {"dataset": "fashion-mnist", "split": "test"},
    )  # fmt: skip
    for k, s in enumerate(steps):
        means = end * (k + 1) / len(steps) + rng.normal(size=(n, 2)) * 0.2
        rec.frames[s] = Frame(
            s, s / STEPS_PER_EPOCH, torch.from_numpy(means.astype(np.float32)),
            torch.zeros(n, 2) if vae else None, 500.0 / (k + 1), float(vae),
        )  # fmt: skip
    rec.write(folder)


def _plays(browser, weights: Path, repeats: int) -> tuple[list[float], list[float]]:
    fps, seconds = [], []
    with tempfile.TemporaryDirectory() as cache:
        env = {"EXPLORER_WEIGHTS_DIR": str(weights), "XDG_CACHE_HOME": cache}
        with driver.streamlit_server(env) as url:
            page = browser.new_page(viewport=chromium.VIEWPORT)
            driver.open_app(page, url + "/?tab=Training", 300_000)
            page.wait_for_function(FIND, timeout=300_000)
            page.locator(
                "[data-testid='stPlotlyChart']"
            ).last.scroll_into_view_if_needed()
            play = page.locator(".updatemenu-button").filter(has_text="Play")
            for r in range(repeats):
                page.evaluate(
                    "() => Plotly.animate(window.gd, ['0'], {mode: 'immediate',"
                    " frame: {duration: 0, redraw: false}, transition: {duration: 0}})"
                )
                page.wait_for_function(f"() => window.animated >= {2 * r + 1}")
                page.evaluate(COUNT)
                play.click()
                page.wait_for_function("() => !window.playing", timeout=300_000)
                ticks, ms = page.evaluate("() => [window.ticks, window.t1 - window.t0]")
                fps.append(ticks / (ms / 1000))
                seconds.append(ms / 1000)
            page.close()
    return fps, seconds


def measure(repeats: int) -> Samples:
    from playwright.sync_api import sync_playwright

    out = Samples({}, {})
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = driver.launch(p)
        for n in SIZES:
            weights = Path(tmp) / f"weights-{n}"
            for seed, name in enumerate(MODELS):
                ignore = shutil.ignore_patterns(SNAPSHOT_FILE)
                shutil.copytree(weights_dir() / name, weights / name, ignore=ignore)
                write_snapshots(weights / name, n, "vae" in name, seed)
            out.fps[n], out.seconds[n] = _plays(browser, weights, repeats)
        browser.close()
    return out


def report(s: Samples) -> list[Row]:
    small, large = SIZES
    base = float(np.median(s.fps[small]))
    return [
        rate_row(
            f"replay playing, {n:,} points per map",
            "frames/s",
            s.fps[n],
            "reported",
            baseline=f"{small:,} points per map: {base:.1f}/s" if n == large else "",
            note=f"Play through {FRAMES} snapshots on both maps (AE and VAE, "
            f"{2 * n:,} points drawn), plotly.js animating SVG points (eased "
            f"400 ms transitions, a frame each 450 ms), "
            f"{np.median(s.seconds[n]):.1f} s per play; "
            "requestAnimationFrame ticks per second; the p95 column is the 5th "
            "percentile",
        )
        for n in SIZES
    ]
