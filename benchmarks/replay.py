"""The map forming's replay in Chromium: frames per second drawn while Play
runs through 24 snapshots of 10,000 points per map (both maps: the default
AE and VAE, each with a synthetic snapshot file written through the
trainer's own writer, so the page builds the Training tab's canvas element
with ``explorer.app.replay.element``), against the same with 2,000 points per
map (the size ``train --snapshots`` records) in the same run.

A frame is one ``requestAnimationFrame`` draw of the element while its points
move (its own count, ``root.replayStats()``: draws, and the milliseconds its
tweens took); the pauses between steps, where nothing moves, are left out.
Target: 30 frames/s at 10,000 points per map."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmarks import chromium
from benchmarks.rows import Row, rate_row
from explorer.app.components.canvas import HOLD_MS, TWEEN_MS
from explorer.fileio import weights_dir
from explorer.training.snapshots import SNAPSHOT_FILE, Frame, Recorder
from harness import driver

MODELS = ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2")
FRAMES = 24
STEPS_PER_EPOCH = 469
SIZES = (2_000, 10_000)  # points per map: the baseline, then the measured

TARGET = 30.0  # frames/s at 10,000 points per map
ROOT = ".lx-canvas[data-ready='1']"
# Step ``k`` shown: its tween ended and Play (if it ran) stopped.
SHOWN = """(k) => { const r = document.querySelector('.lx-canvas');
    return r.dataset.step === String(k) && r.dataset.settled === '1'
        && r.dataset.playing !== '1'; }"""
# Back to step 0 at once-ish (the slider's own event, a tween of its own).
REWIND = """() => { const s = document.querySelector('.lx-canvas-slider');
    s.value = 0; s.dispatchEvent(new Event('input')); }"""
STATS = "() => document.querySelector('.lx-canvas').replayStats()"


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
            root = page.locator(ROOT)
            root.wait_for(timeout=300_000)
            root.scroll_into_view_if_needed()
            last = int(root.get_attribute("data-steps")) - 1
            for _ in range(repeats):
                page.evaluate(REWIND)
                page.wait_for_function(SHOWN, arg=0)
                before = page.evaluate(STATS)
                t0 = page.evaluate("() => performance.now()")
                page.locator(".lx-canvas-play").click()
                page.wait_for_function(SHOWN, arg=last, timeout=300_000)
                after = page.evaluate(STATS)
                t1 = page.evaluate("() => performance.now()")
                draws = after["draws"] - before["draws"]
                fps.append(draws / ((after["ms"] - before["ms"]) / 1000))
                seconds.append((t1 - t0) / 1000)
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
            f">= {TARGET:.0f}/s" if n == large else "reported",
            ok=(lambda med, p5: med >= TARGET) if n == large else None,
            baseline=f"{small:,} points per map: {base:.1f}/s" if n == large else "",
            note=f"Play through {FRAMES} snapshots on both maps (AE and VAE, "
            f"{2 * n:,} points drawn), the canvas element tweening every point "
            f"(eased, {TWEEN_MS} ms a step, {HOLD_MS} ms held), "
            f"{np.median(s.seconds[n]):.1f} s per play; requestAnimationFrame "
            "draws per second of tweening; the p95 column is the 5th percentile",
        )
        for n in SIZES
    ]
