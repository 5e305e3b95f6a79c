"""Click-to-image on two 64x64 RGB conv models (a VAE and an AE, z=2, the
explorer's own checkpoints, random weights, the decoders' scaled) through
``latent-explorer explore``: the server decodes (a conv decoder is not
exported). Fashion-MNIST test images, enlarged to 64x64 and tinted, as the
data."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmarks.chromium import VIEWPORT
from benchmarks.conv import conv_model
from benchmarks.rows import Row, row
from explorer.data.dataset import ImageDataset
from explorer.data.load import load_dataset
from harness import driver


@dataclass
class Samples:
    clicks: dict[str, list[float]]  # by the driver's names
    points: int


def _tinted(data_dir: str | None, n_images: int) -> ImageDataset:
    test = load_dataset("fashion-mnist", "test", data_dir).subset(slice(0, n_images))
    big = torch.nn.functional.interpolate(
        torch.from_numpy(test.images).float(), size=(64, 64), mode="bilinear"
    )
    tint = torch.tensor([1.0, 0.6, 0.25]).view(1, 3, 1, 1)
    rgb = (big * tint).round().clamp(0, 255).to(torch.uint8).numpy()
    return ImageDataset(rgb, test.labels, test.class_names, "tinted", "test")


def measure(interactions: int, data_dir: str | None, n_images: int = 10_000) -> Samples:
    from playwright.sync_api import sync_playwright

    from explorer.data.store import pack
    from explorer.model.checkpoint import save_checkpoint

    data = _tinted(data_dir, n_images)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spaces = tmp / "spaces"
        pack(data, spaces / "tinted64", "tinted64", progress=False)
        refs = []
        for kind in ("vae", "ae"):
            folder = tmp / f"conv-{kind}-z2"
            save_checkpoint(conv_model((3, 64, 64), kind, 2, gain=2.5), folder)
            refs += ["--model", str(folder)]
        log = open(tmp / "explore.log", "w+")  # noqa: SIM115 - closed below
        port = driver.free_port()
        cmd = [sys.executable, "-m", "explorer", "explore", "--data", "tinted64",
               *refs, "--port", str(port), "--headless", "--no-progress"]  # fmt: skip
        env = {**os.environ, "EXPLORER_SPACES_DIR": str(spaces)}
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 300
            while "Latent Explorer:" not in (tmp / "explore.log").read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp / "explore.log").read_text())
                time.sleep(0.2)
            with sync_playwright() as p:
                browser = driver.launch(p)
                page = browser.new_page(viewport=VIEWPORT)
                frames = driver.open_app(page, url)
                driver.set_live(page, False)
                results = driver.measure_interactions(page, frames, interactions)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
    return Samples(results, len(data))


def report(s: Samples) -> list[Row]:
    names = {
        driver.POINT: "both decoded",
        driver.SPACE: "one decoded",
        driver.SLIDER: "one decoded",
        driver.PYTHON: "its rerun",
    }
    return [
        row(
            f"conv 64x64 RGB: {name}",
            "ms",
            samples,
            "reported",
            scale=1e3,
            baseline="the MLP rows above (28x28 grey, the same measure)",
            note=f"latent-explorer explore, the view with the server's decode "
            f"({names[name]}), {s.points:,} points",
        )
        for name, samples in s.clicks.items()
    ]
