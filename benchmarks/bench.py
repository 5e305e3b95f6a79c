"""``python -m benchmarks``: every speed figure, as one table and as JSON.

Each figure is the median and 95th percentile over repeated runs on this
machine, next to its target and, where one exists, a baseline measured in the
same run (so a ratio is reported, not only an absolute time).
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from explorer.data.dataset import DatasetError, ImageDataset, concatenate
from explorer.data.load import load_dataset
from explorer.fileio import load_json
from explorer.latent.space import encode_all
from explorer.model.checkpoint import load_checkpoint, resolve
from explorer.model.protocol import batched

MAP_POINTS = 70_000


@dataclass
class Row:
    """One measured figure."""

    name: str
    unit: str
    median: float
    p95: float
    n: int
    target: str = ""
    met: bool | None = None
    baseline: str = ""
    note: str = ""
    samples: list[float] = field(default_factory=list, repr=False)


def summarize(samples: list[float]) -> tuple[float, float]:
    a = np.asarray(samples, dtype=np.float64)
    return float(np.median(a)), float(np.percentile(a, 95))


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``fn()`` over ``repeats`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def row(
    name, unit, samples, target="", ok=None, baseline="", note="", scale=1.0
) -> Row:
    s = [v * scale for v in samples]
    med, p95 = summarize(s)
    met = None if ok is None else bool(ok(med, p95))
    return Row(name, unit, med, p95, len(s), target, met, baseline, note, s)


def rate_row(name, unit, samples, target="", ok=None, baseline="", note="") -> Row:
    """A rate (more is better): its p95 column holds the 5th percentile, the
    slow end; ``ok(median, p5)`` decides ``met``."""
    s = [float(v) for v in samples]
    med, p5 = float(np.median(s)), float(np.percentile(s, 5))
    met = None if ok is None else bool(ok(med, p5))
    return Row(name, unit, med, p5, len(s), target, met, baseline, note, s)


# --- data and models -------------------------------------------------------------


class ShiftedCopies(torch.utils.data.Dataset):
    """``n`` images made from ``base``: image i is base image ``i % len(base)``
    shifted by up to 2 pixels each way (seeded; the first copy unshifted), with
    its label. A stand-in for a million-image dataset, made on the fly."""

    def __init__(self, base: ImageDataset, n: int):
        self.base, self.n = base, n
        self.class_names = base.class_names
        self.image_shape = base.image_shape
        self.labels = base.labels[np.arange(n) % len(base)]
        self.name = f"{base.name} x{n / len(base):.1f} shifted"
        self.shifts = np.random.default_rng(0).integers(-2, 3, (n, 2)).astype(np.int8)
        self.shifts[: len(base)] = 0

    def __len__(self) -> int:
        return self.n

    def __getitems__(self, index: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = np.asarray(index)
        images = self.base.images[index % len(self.base)].copy()
        shifts = self.shifts[index]
        for dy, dx in np.unique(shifts, axis=0):
            if dy or dx:
                rows = np.all(shifts == (dy, dx), axis=1)
                images[rows] = np.roll(images[rows], (int(dy), int(dx)), axis=(2, 3))
        return torch.from_numpy(images), torch.from_numpy(self.labels[index])


def map_dataset(data_dir: str | None) -> tuple[ImageDataset, str]:
    """70,000 Fashion-MNIST images (test + train), or the test split tiled."""
    test = load_dataset("fashion-mnist", "test", data_dir)
    try:
        train = load_dataset("fashion-mnist", "train", data_dir, download=False)
        return concatenate([test, train]), "fashion-mnist test + train"
    except DatasetError:
        reps = math.ceil(MAP_POINTS / len(test))
        tiled = test.subset(np.tile(np.arange(len(test)), reps)[:MAP_POINTS])
        return (
            tiled,
            "fashion-mnist test split tiled 7x (train split not on this machine)",
        )


# --- model figures ---------------------------------------------------------------


def bench_training(data_dir: str | None, epochs: int) -> Row:
    from explorer.model.config import ModelConfig
    from explorer.training.config import TrainConfig
    from explorer.training.train import train

    model = load_checkpoint("fashion-mnist-vae-z2")
    try:
        ds = load_dataset("fashion-mnist", "train", data_dir, download=False)
        note = "60,000 training images (57,000 steps + 3,000 validation)"
    except DatasetError:
        return Row(
            "train vae-z2, one epoch",
            "s",
            math.nan,
            math.nan,
            0,
            note="skipped: the Fashion-MNIST train split is not on this machine",
        )
    cfg = ModelConfig(**{**model.config.to_dict(), "dataset": "fashion-mnist"})
    with tempfile.TemporaryDirectory() as tmp:
        state = train(
            cfg,
            TrainConfig(epochs=epochs, seed=0),
            tmp,
            dataset=ds,
            progress=False,
            verbose=False,
        )
    secs = [h["seconds"] for h in state.history]
    return row("train vae-z2, one epoch", "s", secs, note=note)


def bench_encoding(x: torch.Tensor, repeats: int, source: str) -> list[Row]:
    model = load_checkpoint("fashion-mnist-vae-z2")

    def encode(m=model):
        with torch.inference_mode():
            for _, xb, _ in batched(m, x, None, 10_000):
                m.encode(xb)

    secs = timed(encode, repeats)
    rate = [len(x) / s for s in secs]
    med = float(np.median(rate))

    def encode_bf16():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            encode()

    bf16 = [len(x) / s for s in timed(encode_bf16, repeats)]
    with torch.inference_mode():
        exact = model.encode(x[:5000]).mean
        with torch.autocast("cpu", dtype=torch.bfloat16):
            approx = model.encode(x[:5000]).mean.float()
    dev = float((exact - approx).abs().mean() / exact.std())
    baseline = (
        f"bfloat16: {np.median(bf16):,.0f}/s ({np.median(bf16) / med:.1f}x), "
        f"mean deviation {dev:.1%} of the latent's spread"
    )
    out = rate_row(
        f"encode {len(x):,} images (vae-z2)",
        "images/s",
        rate,
        ">= 100,000",
        lambda m, p: m >= 100_000,
        baseline=baseline,
        note=f"float32 (what the app uses); {source}; the p95 column is the "
        "5th percentile of the rate",
    )
    return [out]


def bench_decoding(repeats: int) -> list[Row]:
    model = load_checkpoint("fashion-mnist-vae-z2")
    z1 = torch.zeros(1, model.config.latent_dim)
    g = np.linspace(-2, 2, 30)
    zg = torch.tensor(
        np.stack(np.meshgrid(g, g), -1).reshape(-1, 2), dtype=torch.float32
    )

    def dec(z):
        with torch.inference_mode():
            model.decode(z)

    one = timed(lambda: dec(z1), repeats * 20, warmup=5)
    grid = timed(lambda: dec(zg), repeats * 4, warmup=2)
    return [
        row("decode one image", "ms", one, "<= 1 ms", lambda m, p: m <= 1.0, scale=1e3),
        row(
            "decode a 30x30 grid",
            "ms",
            grid,
            "<= 20 ms",
            lambda m, p: m <= 20,
            scale=1e3,
        ),
    ]


# --- convolutional models (the server decodes them: no browser export) -----------

CONV_SHAPES = {"64x64 RGB": (3, 64, 64), "28x28 grey": (1, 28, 28)}


def conv_model(
    shape: tuple[int, int, int], kind: str = "vae", latent: int = 16, gain: float = 1
):
    """A conv model as ``train --arch conv`` makes it (default channels and
    widths); random weights: the time of a decode does not depend on them.
    ``gain`` scales the decoder's weights, so that its image changes visibly
    with z (at initialisation it is a nearly uniform grey whatever z)."""
    from explorer.model.autoencoder import build_model
    from explorer.model.config import ModelConfig

    torch.manual_seed(0)
    config = ModelConfig(
        model_type=kind,
        latent_dim=latent,
        image_shape=shape,
        hidden=(256,),
        arch="conv",
        channels=(32, 32, 64, 64),
        dataset="bench",
    )
    model = build_model(config).eval().requires_grad_(False)
    for name, p in model.named_parameters():
        if name.startswith(("head.", "decoder.")) and name.endswith("weight"):
            p.mul_(gain)
    return model


def bench_conv(repeats: int, x28: torch.Tensor) -> list[Row]:
    """The conv VAE's decode of one image and of a 30x30 grid, and its encode
    rate, at 64x64 RGB and 28x28 grey; the MLP VAE (fashion-mnist-vae-z2)
    measured the same way, in the same run, is the baseline."""
    mlp = load_checkpoint("fashion-mnist-vae-z2")
    g = np.linspace(-2, 2, 30)
    grid2 = torch.tensor(np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)).float()

    def dec(model, z):
        with torch.inference_mode():
            model.decode(z)

    def rate(model, x):
        def run():
            with torch.inference_mode():
                for _, xb, _ in batched(model, x, None, 1024):
                    model.encode(xb)

        return [len(x) / s for s in timed(run, max(2, repeats // 2))]

    mlp_one = np.median(timed(lambda: dec(mlp, torch.zeros(1, 2)), repeats * 20, 5))
    mlp_grid = np.median(timed(lambda: dec(mlp, grid2), repeats * 4, 2))
    mlp_rate = np.median(rate(mlp, x28[:2000]))
    rows = []
    for label, shape in CONV_SHAPES.items():
        model = conv_model(shape)
        z1 = torch.zeros(1, model.latent_dim)
        zg = torch.randn(
            900, model.latent_dim, generator=torch.Generator().manual_seed(0)
        )
        one = timed(lambda m=model, z=z1: dec(m, z), repeats * 20, warmup=5)
        grid = timed(lambda m=model, z=zg: dec(m, z), repeats, warmup=1)
        if shape == (1, 28, 28):
            x = x28[:2000]
        else:
            x = torch.rand(1000, *shape, generator=torch.Generator().manual_seed(0))
        enc = rate(model, x)
        params = sum(p.numel() for p in model.parameters())
        note = f"conv VAE, z=16, {params / 1e6:.2f} M parameters, float32"
        rows += [
            row(
                f"conv decode one image ({label})",
                "ms",
                one,
                baseline=f"MLP VAE (28x28): {mlp_one * 1e3:.2f} ms "
                f"({np.median(one) / mlp_one:.1f}x)",
                note=note,
                scale=1e3,
            ),
            row(
                f"conv decode a 30x30 grid ({label})",
                "ms",
                grid,
                baseline=f"MLP VAE (28x28): {mlp_grid * 1e3:.1f} ms "
                f"({np.median(grid) / mlp_grid:.1f}x)",
                note=note,
                scale=1e3,
            ),
        ]
        rows.append(
            rate_row(
                f"conv encode ({label})",
                "images/s",
                enc,
                baseline=f"MLP VAE (28x28): {mlp_rate:,.0f}/s "
                f"({mlp_rate / np.median(enc):.0f}x faster)",
                note=note + "; batches of 1,024; the p95 column is the 5th percentile",
            )
        )
    return rows


def bench_conv_browser(
    interactions: int, data_dir: str | None, n_images: int = 10_000
) -> list[Row]:
    """Click-to-image on two 64x64 RGB conv models (a VAE and an AE, z=2, the
    explorer's own checkpoints, random weights, the decoders' scaled) through
    ``latent-explorer explore``: the server decodes (a conv decoder is not
    exported). 10,000 Fashion-MNIST test images, enlarged to 64x64 and
    tinted, as the data."""
    import subprocess
    import sys

    from playwright.sync_api import sync_playwright

    from explorer.data.store import pack
    from explorer.model.checkpoint import save_checkpoint
    from tests.e2e import driver

    test = load_dataset("fashion-mnist", "test", data_dir).subset(slice(0, n_images))
    big = torch.nn.functional.interpolate(
        torch.from_numpy(test.images).float(), size=(64, 64), mode="bilinear"
    )
    tint = torch.tensor([1.0, 0.6, 0.25]).view(1, 3, 1, 1)
    rgb = (big * tint).round().clamp(0, 255).to(torch.uint8).numpy()
    data = ImageDataset(rgb, test.labels, test.class_names, "tinted", "test")
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
                page = browser.new_page(viewport={"width": 1500, "height": 1400})
                frames = driver.open_app(page, url)
                driver.set_live(page, False)
                results = driver.measure_interactions(page, frames, interactions)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
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
            f"({names[name]}), {len(test):,} points",
        )
        for name, samples in results.items()
    ]


def bench_figure(coords: np.ndarray, labels: np.ndarray, repeats: int) -> list[Row]:
    """The map's payload: our points file vs the figure st.plotly_chart would send."""
    import plotly.graph_objects as go

    from explorer.app.components.latent_map import points_bytes

    ours = timed(lambda: points_bytes(coords, labels), repeats)
    size = len(points_bytes(coords, labels))

    def plotly_json(kind) -> str:
        traces = [
            kind(
                x=coords[labels == c, 0],
                y=coords[labels == c, 1],
                mode="markers",
                name=str(c),
            )
            for c in np.unique(labels)
        ]
        return go.Figure(traces).to_json()

    gl = timed(lambda: plotly_json(go.Scattergl), max(2, repeats // 2))
    gl_bytes = len(plotly_json(go.Scattergl).encode())
    n = len(coords)
    return [
        row(
            f"pack the {n:,}-point map file (NumPy bytes)",
            "ms",
            ours,
            scale=1e3,
            baseline=f"building a plotly figure of the same points as JSON: "
            f"{np.median(gl) * 1e3:.0f} ms",
            note="the file is packed once per map and colouring; the baseline is "
            "what st.plotly_chart would build instead",
        ),
        Row(
            f"map payload, {n:,} points",
            "MB",
            size / 1e6,
            size / 1e6,
            1,
            "<= 2 MB",
            size <= 2e6,
            baseline=f"plotly figure JSON: {gl_bytes / 1e6:.1f} MB "
            f"({gl_bytes / size:.1f}x larger)",
            note="sent once per map and cached by the browser",
        ),
        rerun_payload(),
    ]


def rerun_payload() -> Row:
    """What a rerun sends for the two maps: the view's JSON data (the overlay
    marks, settings and URLs; every binary is fetched by URL), measured on the
    default page, beside the classic design's two map components' arguments."""
    from streamlit.testing.v1 import AppTest

    from explorer.app.routes import SCRIPT

    def sizes(design: str) -> list[tuple[int, int]]:
        old = os.environ.get("EXPLORER_DESIGN")
        os.environ["EXPLORER_DESIGN"] = design
        try:
            at = AppTest.from_file(str(SCRIPT), default_timeout=300).run()
        finally:
            if old is None:
                os.environ.pop("EXPLORER_DESIGN")
            else:
                os.environ["EXPLORER_DESIGN"] = old
        out = []

        def walk(node):
            kind = getattr(node, "type", "")
            if kind == "bidi_component" and node.proto.component_name.endswith("_view"):
                data = json.loads(json.loads(node.proto.json)["view"])
                marks = sum(len(json.dumps(m["overlays"])) for m in data["maps"])
                out.append((len(node.proto.json), marks))
            if kind == "component_instance" and node.proto.component_name.endswith(
                "latent_map"
            ):
                args = json.loads(node.proto.json_args)
                out.append(
                    (len(node.proto.json_args), len(json.dumps(args["overlays"])))
                )
            for child in getattr(node, "children", {}).values():
                walk(child)

        walk(at.main)
        return out

    view, classic = sizes("instant"), sizes("classic")
    total = sum(a for a, _ in view)
    return Row(
        "map data sent per rerun, both maps",
        "kB",
        total / 1e3,
        total / 1e3,
        len(view),
        "",
        None,
        baseline=f"classic: {sum(a for a, _ in classic) / 1e3:.1f} kB",
        note="JSON data of the view on the default page (AE and VAE, 2-D, "
        "decoded in the browser): "
        + ", ".join(
            f"{a / 1e3:.1f} kB of which overlay marks {o / 1e3:.1f} kB" for a, o in view
        )
        + "; classic: the two map components' arguments",
    )


# --- browser figures ---------------------------------------------------------------


VIEWPORT = {"width": 1500, "height": 1400}


def _with_training_images(page, driver) -> int:
    """Adds the training split to the maps when it is on this machine (the
    bundled Fashion-MNIST test split plus the shared data's 60,000 training
    images: 70,000 points); returns the number of points drawn."""
    switch = page.get_by_role("switch", name="Add the training images (train split)")
    if switch.count() and switch.is_enabled():
        driver.act(page, lambda: switch.click(force=True), 300_000)
        driver.map_frames(page, 300_000)
    return int(
        driver.map_frames(page)[0].evaluate(
            "() => +document.getElementById('map').dataset.points"
        )
    )


def bench_browser(repeats: int, interactions: int, data_dir: str | None) -> list[Row]:
    """The page in Chromium, in the instant design (``components.view``: the
    browser answers a click, Python catches up) and in the classic one
    (``EXPLORER_DESIGN=classic``: an iframe per map, every click a rerun) as
    the baseline, measured the same way in the same run."""
    from playwright.sync_api import sync_playwright

    from tests.e2e import driver

    env = {"EXPLORER_DATA_DIR": data_dir} if data_dir else {}
    cold: dict[str, list[float]] = {}
    first: dict[str, float] = {}
    clicks: dict[str, dict] = {}
    points: dict[str, int] = {}
    with sync_playwright() as p:
        browser = driver.launch(p)
        for design in ("instant", "classic"):
            denv = {**env, "EXPLORER_DESIGN": design}
            starts = []
            # An empty cache folder: the first start ever encodes the bundled
            # data; the later ones read the codes it wrote.
            with tempfile.TemporaryDirectory() as cache:
                for _ in range(repeats + 1):
                    t = time.perf_counter()
                    with driver.streamlit_server(
                        {**denv, "XDG_CACHE_HOME": cache}
                    ) as url:
                        page = browser.new_page(viewport=VIEWPORT)
                        driver.maps_drawn(page, url)
                        starts.append(time.perf_counter() - t)
                        driver.wait_idle(page)  # the run goes on (and saves)
                        page.close()
            first[design], cold[design] = starts[0], starts[1:]
            with driver.streamlit_server(denv) as url:
                page = browser.new_page(viewport=VIEWPORT)
                driver.open_app(page, url)
                if design == "instant":
                    left, _ = driver.live_frames(page)
                    live = [
                        driver.measure_live_drag(page, left) for _ in range(repeats * 3)
                    ]
                    steps = driver.measure_live_steps(page, left, interactions)
                else:  # as measured before the view: the server decodes
                    driver.set_live(page, False)
                points[design] = _with_training_images(page, driver)
                frames = driver.map_frames(page)
                clicks[design] = driver.measure_interactions(page, frames, interactions)
                page.close()
        browser.close()
    new, old = clicks["instant"], clicks["classic"]

    def ms(samples):
        return f"{np.median(samples) * 1e3:.0f} ms"

    where = f"{points['instant']:,} points"
    rows = [
        row(
            "first start ever until both maps drawn",
            "s",
            [first["instant"]],
            "reported",
            baseline=f"classic: {first['classic']:.1f} s",
            note="a new server process and an empty cache folder: the bundled "
            "data (10,000 points) is encoded by both models",
        ),
        row(
            "cold start until both maps drawn (second start)",
            "s",
            cold["instant"],
            "<= 4 s",
            lambda m, p: m <= 4,
            baseline=f"classic: {np.median(cold['classic']):.1f} s",
            note="a new server process each time, the codes cached by the first "
            "start; until both maps and the image strip are drawn (classic: both "
            "map frames); the page's run goes on after that",
        ),
        row(
            driver.POINT,
            "ms",
            new[driver.POINT],
            "<= 50 ms median, <= 100 ms p95",
            lambda m, p: m <= 50 and p <= 100,
            scale=1e3,
            baseline=f"classic: {ms(old[driver.POINT])}",
            note=f"{where}; answered in the browser (exported decoders, the "
            "dataset's image chunks); the classic design waits for a rerun",
        ),
        row(
            driver.SPACE,
            "ms",
            new[driver.SPACE],
            "<= 50 ms median",
            lambda m, p: m <= 50,
            scale=1e3,
            baseline=f"classic: {ms(old[driver.SPACE])}",
            note=f"{where}; the inverse PCA and the decode in the browser",
        ),
        row(
            driver.PYTHON,
            "ms",
            new[driver.PYTHON],
            "<= 400 ms median",
            lambda m, p: m <= 400,
            scale=1e3,
            baseline=f"classic (the click itself): {ms(old[driver.POINT])}",
            note="from the click until Python's rerun echoed it (neighbours, "
            "tabs and the link follow), point and empty-space clicks",
        ),
    ]
    fps = [r["fps"] for r in live]
    decode_ms = float(np.median([r["ms_per_decode"] for r in live]))
    slider_ms = float(np.median(old[driver.SLIDER])) * 1e3
    rows.append(
        rate_row(
            "live decode while dragging a slider",
            "frames/s",
            fps,
            ">= 30",
            lambda m, p: m >= 30,
            baseline=f"classic, server decode on release: {1e3 / slider_ms:.1f}/s",
            note=f"decoded in the browser, {decode_ms:.1f} ms per image, at most "
            "one decode per animation frame; the p95 column is the 5th percentile",
        )
    )
    rows.append(
        row(
            "slider change until the image changed (in the browser, default)",
            "ms",
            steps,
            "<= 200 ms median",
            lambda m, p: m <= 200,
            scale=1e3,
            baseline=f"classic, server decode: {slider_ms:.0f} ms",
            note="key press until the new image is drawn",
        )
    )
    return rows


# --- the command ----------------------------------------------------------------------


def fmt(v: float, unit: str) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "-"
    if unit == "images/s":
        return f"{v:,.0f}"
    return f"{v:.3g}" if v < 100 else f"{v:,.0f}"


def table(rows: list[Row]) -> str:
    head = ["figure", "median", "p95", "unit", "n", "target", "met", "baseline"]
    body = [
        [
            r.name,
            fmt(r.median, r.unit),
            fmt(r.p95, r.unit),
            r.unit,
            str(r.n),
            r.target,
            {True: "yes", False: "NO", None: ""}[r.met],
            r.baseline,
        ]
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)).rstrip()
        for x in [head, [("-" * w) for w in widths], *body]
    ]
    notes = [f"- {r.name}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def bench_load(
    users: int, seconds: float, data_dir: str | None, alone: bool = True
) -> list[Row]:
    """Many sessions at once (``tests.e2e.load``), next to one session alone
    (the baseline; ``alone=False`` leaves it out)."""
    from tests.e2e.load import LOST_MS, SETTLE_MB, WAIT_MS, run_load

    env = {"EXPLORER_DATA_DIR": data_dir} if data_dir else {}
    one, mem1 = run_load(1, seconds, env) if alone else ([], {"peak": 0.0})
    crowd, mem = run_load(users, seconds, env)

    def pool(results, attr):
        return [v for r in results for v in getattr(r, attr)]

    errors = [e for r in crowd for e in r.errors]
    foreign = sum(r.foreign for r in crowd)
    lost = sum(r.lost for r in crowd)
    late = sum(r.late for r in crowd)
    missed = sum(r.missed for r in crowd)
    problems = len(errors) + foreign + missed
    idle_users = sum(not r.clicks for r in crowd)
    rows = []
    for attr, what in (
        ("clicks", "click a point"),
        ("empty", "click empty space"),
        ("sliders", "slider change (server decode)"),
    ):
        solo, many = pool(one, attr), pool(crowd, attr)
        if not many:  # too short a run for every user to reach this input
            continue
        rows.append(
            row(
                f"{what}, {users} users at once",
                "ms",
                many,
                scale=1e3,
                baseline=f"1 user: {np.median(solo) * 1e3:.0f} ms median, "
                f"{np.percentile(solo, 95) * 1e3:.0f} ms p95"
                if solo
                else "",
                note=f"{users} Chromiums and the server share this machine's "
                f"{os.cpu_count()} cores; {seconds:.0f} s of input each",
            )
        )
    settled = mem["after"] - mem["warm"]
    rows.append(
        Row(
            f"server memory after {users} users left, above the warm server",
            "MB",
            settled,
            settled,
            users,
            f"<= {SETTLE_MB:.0f} MB",
            settled <= SETTLE_MB,
            baseline=f"1 user: peak {mem1['peak']:.0f} MB" if alone else "",
            note=f"warm server (one session came and went): {mem['warm']:.0f} MB; "
            f"peak while {users} users acted: {mem['peak']:.0f} MB; after they "
            f"left: {mem['after']:.0f} MB (lowest of 6 samples over 6 s)",
        )
    )
    rows.append(
        Row(
            f"errors, foreign selections, lost or missed inputs, {users} users",
            "count",
            float(problems + lost),
            float(problems + lost),
            users,
            "0",
            problems + lost == 0,
            baseline=f"errors: {len(errors)}, foreign selections: {foreign}, "
            f"inputs never answered (within {(WAIT_MS + LOST_MS) // 1000} s): "
            f"{lost}; answered late (after {WAIT_MS // 1000} s): {late}; presses "
            f"the view never took as an input: {missed}",
            note="page errors, exceptions shown, point clicks after which "
            "the server selected another image than the page answered with "
            "(another session's), inputs the page never answered, and presses "
            "the view never took; a late answer's latency is in the rows above"
            + (f"; first error: {errors[0][:300]}" if errors else "")
            + "".join(f"; {f}" for r in crowd for f in r.foreign_at[:3])
            + "".join(f"; never answered: {k}" for r in crowd for k in r.lost_kinds[:3])
            + "".join(f"; late: {k}" for r in crowd for k in r.late_kinds[:3])
            + "".join(f"; missed: {k}" for r in crowd for k in r.missed_kinds[:3]),
        )
    )
    rows.append(
        Row(
            f"users with no answered point click, {users} users",
            "count",
            float(idle_users),
            float(idle_users),
            users,
            "0",
            idle_users == 0,
            note="each user must have had a point click answered (and its "
            "selection checked), not the users together",
        )
    )
    return rows


MAPS_MODEL = "fashion-mnist-vae-z16"
MAPS_HELD = 1_000  # held-out codes for the round trips


def bench_maps(data_dir: str | None, sizes=(10_000, 70_000)) -> list[Row]:
    """Non-linear maps of a 16-D VAE's means: fit times (UMAP at each size,
    t-SNE at the first; PCA as the baseline), the inverse per click, and on
    held-out codes the round trip ``inverse(project(mu))``: its latent error
    and what it does to the decoded image."""
    from explorer.latent import maps

    model = load_checkpoint(MAPS_MODEL)
    ds, source = map_dataset(data_dir)
    x, _ = ds.tensors()
    mu, _ = encode_all(model, x, None)
    order = np.random.default_rng(0).permutation(len(mu))
    held, pool = mu[order[:MAPS_HELD]], mu[order[MAPS_HELD:]]

    def decode(z: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model.decode(torch.as_tensor(z, dtype=torch.float32)).numpy()

    rows = []
    # umap-learn's numba kernels compile on the first fit in a process: that
    # once, on a small fit, as its own row; the fits below are warm
    t = time.perf_counter()
    maps.make_projection("umap", pool[:MAPS_HELD])
    rows.append(
        row(
            f"UMAP first fit in a process, {MAPS_HELD:,} points",
            "s",
            [time.perf_counter() - t],
            note="mostly numba compiling umap-learn's kernels, which each "
            "server process does once",
        )
    )
    # (a size above the codes there are is fitted on all of them)
    for n in dict.fromkeys(min(n, len(pool)) for n in sizes):
        t = time.perf_counter()
        maps.make_projection("pca", pool[:n])
        pca_s = time.perf_counter() - t
        first = n == min(sizes[0], len(pool))
        kinds = ("umap", "tsne") if first else ("umap",)
        fitted = {"pca": maps.make_projection("pca", pool[:n])}
        for kind in kinds:
            t = time.perf_counter()
            fitted[kind] = maps.make_projection(kind, pool[:n])
            took = time.perf_counter() - t
            rows.append(
                row(
                    f"{maps.LABELS[kind]} fit, {n:,} points",
                    "s",
                    [took],
                    baseline=f"PCA: {pca_s * 1e3:.0f} ms",
                    note=f"{MAPS_MODEL} means ({source}); umap-learn with a seed "
                    "runs on one thread, 500 epochs up to 10,000 points and 200 "
                    "above (its default); openTSNE on 2",
                )
            )
        if not first:
            continue
        lo, hi = fitted["umap"].coords.min(0), fitted["umap"].coords.max(0)
        clicks = np.random.default_rng(1).uniform(lo, hi, (50, 2))
        per = {}
        for kind, proj in fitted.items():
            proj.inverse(clicks[:1])  # the triangulation, built once per map
            per[kind] = [
                s_
                for c in clicks
                for s_ in timed(lambda c=c, p=proj: p.inverse(c), 1, 0)
            ]
        rows.append(
            row(
                f"inverse of one click (UMAP map, {n:,} points)",
                "ms",
                per["umap"],
                baseline=f"PCA: {np.median(per['pca']) * 1e3:.3f} ms; t-SNE: "
                f"{np.median(per['tsne']) * 1e3:.3f} ms",
                scale=1e3,
                note="barycentric in the Delaunay triangle under the click "
                "(SciPy), outside the hull the nearest code",
            )
        )
        direct = decode(held)
        for kind, proj in fitted.items():
            back = proj.inverse(proj.project(held))
            err = maps.roundtrip_error(proj, held)
            mse = ((decode(back) - direct) ** 2).reshape(len(held), -1).mean(1)
            rows.append(
                row(
                    f"round trip on held-out codes, {maps.LABELS[kind]}: latent error",
                    "ratio",
                    list(err),
                    note=f"|inverse(project(mu)) - mu| over the means' RMS spread, "
                    f"{MAPS_HELD:,} codes not fitted; decoded, against decoding "
                    f"mu: MSE {np.median(mse):.4f} median, "
                    f"{np.percentile(mse, 95):.4f} p95 (pixels in [0, 1])",
                )
            )
    return rows


def bench_maps_browser(data_dir: str | None, repeats: int) -> list[Row]:
    """The maps' new interactions in Chromium, on the 70,000 points of
    Fashion-MNIST test + train where the training split is here: a lasso
    until both maps grey around it and until the selection panel is drawn
    (baseline: a click on a point until Python's rerun, the same page), and
    pan frames per second with the dots drawn as images (baseline: the same
    pan with images off)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e import driver

    env = {"EXPLORER_DATA_DIR": data_dir} if data_dir else {}
    rng = np.random.default_rng(0)
    with sync_playwright() as p, driver.streamlit_server(env) as url:
        browser = driver.launch(p)
        page = browser.new_page(viewport=VIEWPORT)
        driver.open_app(page, url)
        driver.set_live(page, True)
        n = _with_training_images(page, driver)
        left, right = driver.map_frames(page)
        (x0, x1), (y0, y1) = left.evaluate(
            "() => { const L = document.getElementById('map')._fullLayout;"
            " return [L.xaxis.range, L.yaxis.range]; }"
        )
        polygons = []
        for _ in range(repeats * 3):  # a hexagon somewhere in the middle
            c = rng.uniform(
                [x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0)],
                [x1 - 0.3 * (x1 - x0), y1 - 0.3 * (y1 - y0)],
            )
            r = 0.08 * np.array([x1 - x0, y1 - y0]) * rng.uniform(0.6, 1.4)
            a = np.linspace(0, 2 * np.pi, 7)[:-1]
            polygons.append(
                np.stack([c[0] + r[0] * np.cos(a), c[1] + r[1] * np.sin(a)], 1)
            )
        lassos = driver.measure_lasso(page, left, polygons)
        # the baseline: a point click until Python's rerun echoed it
        driver.act(page, page.get_by_role("button", name="Clear the selection").click)
        left.locator(".modebar-btn[data-title='Pan']").first.click(force=True)
        clicks = driver.measure_interactions(page, [left, right], repeats * 3)
        # pan with images on, then off, zoomed in the same
        thumbs = driver.zoom_to_thumbs(page, left)
        with_images = [driver.measure_pan_fps(page, left) for _ in range(repeats)]
        driver.act(
            page, page.get_by_text("Images instead of dots when zoomed in").click
        )
        dots = [driver.measure_pan_fps(page, left) for _ in range(repeats)]
        browser.close()
    python = float(np.median(clicks[driver.PYTHON])) * 1e3
    return [
        row(
            "lasso until both maps grey around it",
            "ms",
            lassos["maps"],
            scale=1e3,
            baseline=f"a point click until Python's rerun: {python:.0f} ms",
            note=f"{n:,} points; the drawn points inside, greyed around in both "
            "maps by the browser, before Python is asked",
        ),
        row(
            "lasso until the selection panel is drawn",
            "ms",
            lassos["panel"],
            scale=1e3,
            baseline=f"a point click until Python's rerun: {python:.0f} ms",
            note=f"{n:,} points; Python selects every image inside the polygon "
            "(Shapely) and reruns: count, classes, mean image, decodes of the mean "
            "code, the link",
        ),
        rate_row(
            "pan with the dots drawn as images",
            "frames/s",
            with_images,
            "reported",
            baseline=f"the same pan with dots: {np.median(dots):.1f}/s",
            note=f"{n:,} points, zoomed in until {thumbs} images are drawn; "
            "plotly's drag pan for 2 s; the p95 column is the 5th percentile",
        ),
    ]


MILLION = 1_000_000
MILLION_MODELS = ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2")
MILLION_DS = "fashion-mnist-1m"
ZOOMS = (-300, 300, -300)  # wheel deltas of the 1M zoom samples (3 steps each)


def bench_million(data_dir: str | None, browser: bool, n: int = MILLION) -> list[Row]:
    """A store of ``n`` images (Fashion-MNIST, shifted copies): packing and
    streamed encoding (time and memory), the map's bytes, and in Chromium the
    time until both maps are drawn and until a zoom has redrawn."""
    from explorer.app.components import density
    from explorer.data.store import pack
    from explorer.latent.encoded import encode, open_encoding
    from explorer.memory import MemoryWatch

    base, _ = map_dataset(data_dir)
    source = ShiftedCopies(base, n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        spaces = Path(tmp) / "spaces"
        with MemoryWatch() as mem:
            t = time.perf_counter()
            store = pack(source, spaces / "fm-1m", MILLION_DS, 4096, 0, False)
            packed = time.perf_counter() - t
            took = []
            for name in MILLION_MODELS:
                t = time.perf_counter()
                encode(load_checkpoint(name), resolve(name), store, 8192, False)
                took.append(time.perf_counter() - t)
        rows.append(row(f"pack {n:,} images into a store", "images/s", [n / packed]))
        rows.append(
            row(
                f"encode {n:,} images into memory-mapped files",
                "images/s",
                [n / s for s in took],
                note="codes and per-image measures (one decode each); "
                + ", ".join(MILLION_MODELS),
            )
        )
        rows.append(
            row(
                "memory while packing and encoding",
                "MB",
                [mem.growth_mb],
                note=f"allocated on top of the {mem.start_anon_mb:.0f} MB before; "
                f"the images alone are {n * 784 / 2**20:.0f} MB (uint8), "
                f"{n * 784 * 4 / 2**20:.0f} MB as float32",
            )
        )
        enc = open_encoding(store, resolve(MILLION_MODELS[1]))
        coords = np.ascontiguousarray(enc.mean[:, :2], dtype=np.float32)
        pts, _ = density.large_map(
            coords, np.arange(n), ("z[0]", "z[1]"), np.asarray(source.labels),
            base.class_names, None, None, None, "bench",
        )  # fmt: skip
        from explorer.app.components.latent_map import component_dir

        folder = component_dir()
        sizes = [(folder / f).stat().st_size for f in (pts.file, pts.density["file"])]
        rows.append(
            row(
                f"map payload, {n:,} points",
                "MB",
                [sum(sizes) / 1e6],
                "<= 2 MB",
                lambda m, p: m <= 2,
                note=f"{pts.n:,} points drawn ({sizes[0] / 1e6:.2f} MB) + density "
                f"image ({sizes[1] / 1e3:.0f} kB), before the first draw; then, in "
                f"the background, every point: {n * 12 / 1e6:.0f} MB for the first "
                f"map (order, coordinates), {n * 8 / 1e6:.0f} MB for the second",
            )
        )
        rows += _folder_rows(base, Path(tmp), min(n, FOLDER_IMAGES))
        if browser:
            rows += _million_browser(spaces, data_dir)
    return rows


FOLDER_IMAGES = 50_000


def _folder_rows(base: ImageDataset, tmp: Path, n: int) -> list[Row]:
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
    name = MILLION_MODELS[1]
    with MemoryWatch() as mem:
        t = time.perf_counter()
        store = pack(FolderImages(root), tmp / "folder-store", "folder", 256, 2, False)
        packed = time.perf_counter() - t
        encode(load_checkpoint(name), resolve(name), store, 4096, False)
    return [
        row(
            f"pack a folder of {n:,} PNG files",
            "images/s",
            [n / packed],
            note="2 loader workers decode the files",
        ),
        row(
            f"memory while packing and encoding {n:,} files",
            "MB",
            [mem.growth_mb],
            note=f"the images in memory: {n * 784 / 2**20:.0f} MB (uint8), "
            f"{n * 784 * 4 / 2**20:.0f} MB as float32",
        ),
    ]


def _million_browser(spaces: Path, data_dir: str | None) -> list[Row]:
    """Opening and zooming a map of a million points, in the instant design
    (the browser fetches every point after the first draw and draws each
    window itself) and in the classic one (each window asked of the server)
    as the baseline, in the same run."""
    from playwright.sync_api import sync_playwright

    from tests.e2e import driver

    env = {"EXPLORER_SPACES_DIR": str(spaces)}
    if data_dir:
        env["EXPLORER_DATA_DIR"] = data_dir
    # per design: [first open ever, reload, a new server's open (cold)]
    drawn: dict[str, list[float]] = {}
    zoom: dict[str, list[float]] = {}
    every: list[float] = []
    with sync_playwright() as p:
        browser = driver.launch(p)
        for design in ("instant", "classic"):
            drawn[design], zoom[design] = [], []
            denv = {**env, "EXPLORER_DESIGN": design}
            # The first server: the link's first open ever (its spaces built
            # from the store), then a reload; the second, a new process: cold.
            for opens in (2, 1):
                with driver.streamlit_server(denv) as url:
                    for _ in range(opens):
                        page = browser.new_page(viewport=VIEWPORT)
                        t = time.perf_counter()
                        # until both maps are drawn; the page's run goes on
                        address = f"{url}/?ds={MILLION_DS}"
                        frames = driver.maps_drawn(page, address, 300_000)
                        drawn[design].append(time.perf_counter() - t)
                        left = frames[0]
                        if design == "instant":  # every point, in the background
                            for f in frames:
                                f.wait_for_function(
                                    "() => document.getElementById('map').dataset.all",
                                    timeout=120_000,
                                )
                            every.append(time.perf_counter() - t - drawn[design][-1])
                        driver.wait_idle(page, 300_000)
                        # until the last step's window is on screen (instant)
                        # or the server's density image has changed (classic)
                        drawn_now = (
                            driver.window_drawn
                            if design == "instant"
                            else driver.density_drawn
                        )
                        for delta in ZOOMS:  # in, out, in: a sample each
                            old = drawn_now(left)
                            since = driver.mark(page)
                            driver.scroll_zoom(
                                page, left, steps=3, delta=delta, pause_ms=30
                            )
                            t = time.perf_counter()
                            driver.wait_until(
                                lambda f=left, o=old, g=drawn_now: (
                                    g(f) not in (None, o)
                                ),
                                120,
                            )
                            zoom[design].append(time.perf_counter() - t)
                            driver.wait_idle(page, since=since)
                        page.close()
        browser.close()

    def was(samples, unit="s", scale=1.0):
        return f"classic: {np.median(samples) * scale:.{0 if scale > 1 else 2}f} {unit}"

    return [
        row(
            "1M points: open the app until both maps drawn, cold",
            "s",
            drawn["instant"][2:],
            "<= 5 s",
            lambda m, p: m <= 5,
            baseline=was(drawn["classic"][2:]),
            note="a new server's first session, as for the cold start above: "
            "the spaces' caches and the link's saved first view on disk from "
            "the server before; until both maps are drawn (the page's run goes on)",
        ),
        row(
            "1M points: open a link for the first time ever",
            "s",
            drawn["instant"][:1],
            baseline=was(drawn["classic"][:1]),
            note="a new server, nothing saved for this address: both spaces "
            "built from the store (PCA) and PyTorch imported before the view",
        ),
        row(
            "1M points: reload until both maps drawn",
            "s",
            drawn["instant"][1:2],
            baseline=was(drawn["classic"][1:2]),
        ),
        row(
            "1M points: every point in the browser, after the maps are drawn",
            "s",
            every,
            note="order, coordinates and labels of both maps, fetched in the "
            "background while the first view is already drawn (first open, "
            "reload, a new server)",
        ),
        row(
            "1M points: zoom until the view's points redrawn",
            "ms",
            zoom["instant"],
            "<= 250 ms",
            lambda m, p: m <= 250,
            baseline=was(zoom["classic"], "ms", 1000),
            scale=1000,
            note="after the last of 3 wheel steps 30 ms apart, until its window "
            "is on screen; instant: the view zooms itself, one redraw per step "
            "with the window's points picked and binned in the browser; "
            "classic: plotly's wheel zoom, then the server's points after the "
            "400 ms the map waits for the zoom to end",
        ),
    ]


def _cpu_model() -> str:
    """The processor's name and its widest vector units (Linux)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    name = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in info.splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    flags = next(
        (
            ln.split(":", 1)[1].split()
            for ln in info.splitlines()
            if ln.startswith("flags")
        ),
        [],
    )
    vector = [f for f in ("avx512f", "avx2", "avx") if f in flags][:1]
    return name + (f", {vector[0]}" if vector else "")


def load_rows(path: str | Path) -> tuple[dict, list[Row]]:
    """The machine and rows a bench run wrote (``--out``)."""
    record = load_json(path)
    return record["meta"], [Row(**r) for r in record["rows"]]


def render(path: str | Path) -> str:
    """The table of a saved run, as the run printed it, under a line saying
    when and on what it ran."""
    meta, rows = load_rows(path)
    head = (
        f"{meta['when']}, {meta['mode']} run: {meta['cpus']} cores "
        f"({meta['machine']}{', ' + meta['cpu'] if meta.get('cpu') else ''}), "
        f"torch {meta['torch']} with {meta['torch_threads']} threads"
    )
    return head + "\n\n" + table(rows)


def run(
    quick: bool,
    browser: bool,
    data_dir: str | None,
    out: str | Path,
    users: int = 0,
    seconds: float = 60.0,
    million: bool = False,
    projections: bool = False,
    only_maps: bool = False,
) -> list[Row]:
    data_dir = data_dir or os.environ.get("EXPLORER_DATA_DIR")
    if not (resolve("fashion-mnist-vae-z2") / "model.safetensors").is_file():
        raise DatasetError(
            "the fashion-mnist-vae-z2 checkpoint is missing from weights/"
        )
    repeats = 3 if quick else 10
    if only_maps:
        rows = bench_maps(data_dir, (10_000,) if quick else (10_000, 70_000))
        if browser:
            rows += bench_maps_browser(data_dir, 2 if quick else 4)
        return _saved(rows, quick, out)
    ds, source = map_dataset(data_dir)
    x, _ = ds.tensors()
    rows = bench_encoding(x, repeats, source) + bench_decoding(repeats)
    rows += bench_conv(repeats, x[-10_000:])
    coords, _ = encode_all(load_checkpoint("fashion-mnist-vae-z2"), x, None)
    rows += bench_figure(coords.astype(np.float32), ds.labels, repeats)
    rows.append(bench_training(data_dir, 2 if quick else 5))
    if browser:
        rows += bench_browser(1 if quick else 3, 20 if quick else 40, data_dir)
        rows += bench_conv_browser(20 if quick else 40, data_dir)
    if users:
        rows += bench_load(users, seconds, data_dir)
    if million:
        rows += bench_million(data_dir, browser)
    if projections:
        rows += bench_maps(data_dir, (10_000,) if quick else (10_000, 70_000))
        if browser:
            rows += bench_maps_browser(data_dir, 2 if quick else 4)
    return _saved(rows, quick, out)


def _saved(rows: list[Row], quick: bool, out: str | Path) -> list[Row]:
    """Writes a run's rows and the machine it ran on to ``out``; returns them."""
    meta = {
        "mode": "quick" if quick else "full",
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    Path(out).write_text(
        json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]}, indent=2) + "\n"
    )
    return rows
