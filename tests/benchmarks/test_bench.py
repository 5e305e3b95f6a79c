"""The benchmark's pieces; the figures come from `python -m benchmarks`."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks import (
    conv,
    conv_browser,
    data,
    encode,
    maps,
    million,
    model,
    page,
    training,
)
from benchmarks.__main__ import main, options, parser
from benchmarks.rows import Row, load_rows, row, summarize, table, timed
from benchmarks.suites import SUITES, chosen

SECONDS = {"s": 1.0, "ms": 1e-3}


def assert_measured(r: Row, took: float | None = None) -> None:
    """``r`` holds what was measured: one finite sample per repeat (positive
    for a time or a rate), its median, its p95 (for a rate, a percentile
    within the samples), and for a time, samples that fit in the ``took``
    seconds of the call that measured them."""
    s = np.asarray(r.samples, dtype=np.float64)
    assert len(s) == r.n >= 1 and np.all(np.isfinite(s)), r
    timed = r.unit in SECONDS or r.unit.endswith("/s")
    assert np.all(s > 0) if timed else np.all(s >= 0), r
    assert r.median == pytest.approx(np.median(s)), r
    if r.unit.endswith("/s"):
        assert s.min() <= r.p95 <= s.max(), r
    else:
        assert r.p95 == pytest.approx(np.percentile(s, 95)), r
    if took is not None and r.unit in SECONDS:
        assert s.sum() * SECONDS[r.unit] <= took, (r, took)


def test_summarize_and_timed():
    med, p95 = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert med == 3.0 and 4.0 < p95 < 100.0
    calls = []
    samples = timed(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(samples) == 4 and len(calls) == 6 and all(s >= 0 for s in samples)


def test_row_checks_its_target():
    r = row("x", "ms", [0.001, 0.002, 0.003], "<= 2 ms", lambda m, p: m <= 2, scale=1e3)
    assert r.median == pytest.approx(2.0) and r.met is True and r.n == 3
    r = row("x", "ms", [0.010], "<= 2 ms", lambda m, p: m <= 2, scale=1e3)
    assert r.met is False


def test_table_lists_every_row_and_its_notes():
    rows = [
        Row("decode one image", "ms", 0.2, 0.4, 50, "<= 1 ms", True),
        Row("encode", "images/s", 123456.0, 120000.0, 3, ">= 100,000", True,
                  baseline="none", note="a note"),
        Row("skipped", "s", math.nan, math.nan, 0, note="not here"),
    ]  # fmt: skip
    text = table(rows)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["figure", "median", "p95"]
    assert (
        "123,456" in text
        and "- encode: a note" in text
        and "- skipped: not here" in text
    )
    assert any(line.startswith("skipped") and " - " in line for line in lines)


def test_map_dataset_tiles_the_test_split_without_the_train_split(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))  # holds no train split
    ds, source = data.map_dataset(None)
    assert len(ds) == data.MAP_POINTS and "tiled" in source
    # the test split over and over: image 10,000 + i is image i
    assert np.array_equal(ds.images[10_000:10_100], ds.images[:100])
    assert np.array_equal(ds.labels[60_000:], ds.labels[:10_000])


def test_decoding_and_figure_rows(monkeypatch):
    vae = model.load_checkpoint("fashion-mnist-vae-z2")
    decoded = []
    real_decode = vae.decode

    def decode(z, *a):
        out = real_decode(z, *a)
        decoded.append((tuple(z.shape), tuple(out.shape)))
        return out

    vae.decode = decode
    monkeypatch.setattr(model, "load_checkpoint", lambda name: vae)
    t = time.perf_counter()
    rows = model.decoding_rows(model.measure_decoding(repeats=1))
    took = time.perf_counter() - t
    assert [r.name for r in rows] == ["decode one image", "decode a 30x30 grid"]
    one, grid = rows
    # what each row timed was decoded: one image 20 times after 5 warm-ups,
    # the 900 images of the grid 4 times after 2
    assert decoded.count(((1, 2), (1, 1, 28, 28))) == 25 and one.n == 20
    assert decoded.count(((900, 2), (900, 1, 28, 28))) == 6 and grid.n == 4
    assert len(decoded) == 31
    for r in rows:
        assert_measured(r, took)
        assert 1e-3 < r.median < 1e3  # ms
    # each row's verdict is its target applied to its own median
    assert one.met == (one.median <= 1.0) and grid.met == (grid.median <= 20.0)
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(2000, 2)).astype(np.float32)
    labels = rng.integers(0, 10, 2000)
    t = time.perf_counter()
    build, payload, rerun = page.report(page.measure(coords, labels, repeats=2))
    took = time.perf_counter() - t
    assert build.name == "pack the 2,000-point map file (NumPy bytes)"
    assert_measured(build, took)
    assert build.n == 2
    assert "plotly figure" in build.baseline
    # the payload is the points file: x, y (float32) and a label byte a point
    assert payload.name == "map payload, 2,000 points"
    assert payload.median == pytest.approx(2000 * 9 / 1e6) and payload.met is True
    larger = float(payload.baseline.split("(")[1].split("x larger")[0])
    assert 1 < larger < 100  # the same points as plotly JSON
    # what a rerun sends for the two maps, measured on the default page: one
    # view (instant), two map components (classic, the baseline)
    assert rerun.n == 1 and 1 < rerun.median < 100
    (sent,) = re.findall(r"([\d.]+) kB of which overlay marks ([\d.]+) kB", rerun.note)
    assert float(sent[0]) == pytest.approx(rerun.median, abs=0.05)
    assert 0 < float(sent[1]) < float(sent[0])  # the marks are part of it
    classic = float(rerun.baseline.split(": ")[1].split(" kB")[0])
    assert 1 < classic < 100


def test_cli_runs_without_browser_and_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(training, "measure", lambda **k: None)
    monkeypatch.setattr(training, "report", lambda s: [Row("t", "s", 1.0, 1.0, 1)])
    # (the conv rows have a test of their own below)
    monkeypatch.setattr(conv, "measure", lambda **k: None)
    monkeypatch.setattr(conv, "report", lambda s: [])
    monkeypatch.setattr(encode, "measure", lambda **k: None)  # (test_encode.py)
    monkeypatch.setattr(encode, "report", lambda s: [])
    out = tmp_path / "b.json"
    assert main(["--quick", "--no-browser", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "encode 70,000 images" in printed and f"wrote {out}" in printed
    import json

    data = json.loads(out.read_text())
    assert data["meta"]["mode"] == "quick"
    names = [r["name"] for r in data["rows"]]
    assert names == [
        "encode 70,000 images (vae-z2)",
        "decode one image",
        "decode a 30x30 grid",
        "pack the 70,000-point map file (NumPy bytes)",
        "map payload, 70,000 points",
        "map data sent per rerun, both maps",
        "t",
    ]
    # every row the run measured itself holds its samples (3 repeats)
    rows = {r.name: r for r in load_rows(out)[1]}
    for name in names[:4]:
        assert_measured(rows[name])
    assert rows["encode 70,000 images (vae-z2)"].n == 3
    assert 1_000 < rows["encode 70,000 images (vae-z2)"].median < 10_000_000
    assert rows["map payload, 70,000 points"].median == pytest.approx(70_000 * 9 / 1e6)
    # the saved run renders to the table the run printed
    assert main(["--render", str(out)]) == 0
    rendered = capsys.readouterr().out
    assert rendered.split("\n\n", 1)[1].strip() in printed
    assert rendered.startswith(data["meta"]["when"] + ", quick run: ")


def test_shifted_copies_are_the_base_images_shifted():
    base, _ = data.map_dataset(None)  # the bundled test split, tiled
    copies = data.ShiftedCopies(base, len(base) + 500)
    first, labels = copies.__getitems__([0, 1, len(base) + 3])
    assert np.array_equal(first[0].numpy(), base.images[0])
    dy, dx = copies.shifts[len(base) + 3]
    assert (dy, dx) != (0, 0)  # (seed 0: this copy is shifted)
    assert np.array_equal(
        first[2].numpy(), np.roll(base.images[3], (int(dy), int(dx)), axis=(1, 2))
    )
    assert labels.tolist() == [base.labels[0], base.labels[1], base.labels[3]]


def test_the_million_rows_on_a_small_set(monkeypatch):
    """The million rows on 2,000 images, with the map's draw limit lowered
    from 20,000 to 500 so that, as with a million, the map draws fewer points
    than there are (at the 20,000 this test used to pack, encode and write as
    PNG files, every point was drawn)."""
    from explorer.app.components import density
    from explorer.app.components.latent_map import component_dir
    from explorer.data import store
    from explorer.latent import encoded

    n, limit = 2_000, 500
    monkeypatch.setattr(density, "DRAW_LIMIT", limit)
    base, _ = data.map_dataset(None)
    packed, codes, large_maps = [], [], []
    real_pack, real_encode, real_map = store.pack, encoded.encode, density.large_map

    def pack(*a, **k):
        path = real_pack(*a, **k)
        packed.append(store.open_dataset(path))
        return path

    def encode(model, checkpoint, folder, *a, **k):
        out = real_encode(model, checkpoint, folder, *a, **k)
        enc = encoded.open_encoding(folder, checkpoint)
        x = torch.tensor(store.open_dataset(folder).images[:50]).float() / 255
        with torch.inference_mode():
            mean = model.encode(x).mean.numpy()
        codes.append((len(enc.mean), np.isfinite(enc.mean).all()))
        np.testing.assert_allclose(enc.mean[:50], mean, rtol=1e-4, atol=1e-5)
        return out

    def large_map(*a, **k):
        large_maps.append(real_map(*a, **k))
        return large_maps[-1]

    monkeypatch.setattr(store, "pack", pack)
    monkeypatch.setattr(encoded, "encode", encode)
    monkeypatch.setattr(density, "large_map", large_map)
    t = time.perf_counter()
    rows = {r.name: r for r in million.report(million.measure(None, False, n))}
    took = time.perf_counter() - t
    assert list(rows) == [
        "pack 2,000 images into a store",
        "encode 2,000 images into memory-mapped files",
        "memory while packing and encoding",
        "map payload, 2,000 points",
        "pack a folder of 2,000 PNG files",
        "memory while packing and encoding 2,000 files",
    ]
    # what was timed happened: the copies, then the PNG files, packed whole...
    copies, folder = packed
    assert np.array_equal(copies.images, base.images[:n])  # (unshifted: n < 70k)
    assert np.array_equal(copies.labels, base.labels[:n])
    assert len(folder) == n and folder.images.sum() == base.images[:n].sum()
    # one sub-folder a class (in the order of their names), as many images each
    counts = np.bincount(base.labels[:n], minlength=10)
    assert sorted(np.bincount(folder.labels)) == sorted(counts)
    # ...and encoded, every image (two models for the copies, one for the folder)
    assert codes == [(n, True)] * 3
    # each rate's time fits in the call, and is what the row says it timed
    for name in list(rows)[:2] + ["pack a folder of 2,000 PNG files"]:
        r = rows[name]
        assert_measured(r)
        assert r.unit == "images/s" and sum(n / s for s in r.samples) <= took
    assert rows["encode 2,000 images into memory-mapped files"].n == 2
    for name in ("memory while packing and encoding", list(rows)[-1]):
        assert_measured(rows[name])
        assert rows[name].unit == "MB" and rows[name].median < 500
    # the map: 500 of the 2,000 points drawn, 9 bytes each, and the density
    # image of all of them; the payload row is those two files
    ((points, drawn),) = large_maps
    assert points.n == len(drawn) == limit and points.density["shown"] == n
    files = (points.file, points.density["file"])
    sizes = [(component_dir() / f).stat().st_size for f in files]
    assert sizes[0] == limit * 9 and sizes[1] > 0
    payload = rows["map payload, 2,000 points"]
    assert payload.median == pytest.approx(sum(sizes) / 1e6) and payload.met is True
    assert f"{limit} points drawn" in payload.note


def test_conv_rows_compare_with_the_mlp_in_the_same_run():
    base, _ = data.map_dataset(None)
    x, _ = base.subset(slice(0, 600)).tensors()
    rows = {r.name: r for r in conv.report(conv.measure(1, x))}
    for label in conv.CONV_SHAPES:
        one = rows[f"conv decode one image ({label})"]
        grid = rows[f"conv decode a 30x30 grid ({label})"]
        enc = rows[f"conv encode ({label})"]
        for r in (one, grid, enc):
            assert_measured(r)
        # 20 single decodes, one grid of 900, two passes of the encoder
        assert (one.n, grid.n, enc.n) == (20, 1, 2)
        assert grid.median > one.median and 1e-3 < one.median < 1e3  # ms
        assert one.baseline.startswith("MLP VAE (28x28): ")
        ratio = float(one.baseline.split("(")[-1].rstrip("x)"))
        mlp_ms = float(one.baseline.split(": ")[1].split(" ms")[0])
        assert ratio == pytest.approx(one.median / mlp_ms, rel=0.1, abs=0.1)
    # a 64x64 RGB image takes more work than a 28x28 grey one
    assert (
        rows["conv decode a 30x30 grid (64x64 RGB)"].median
        > rows["conv decode a 30x30 grid (28x28 grey)"].median
    )


@pytest.mark.browser
def test_conv_click_rows_run_through_explore():
    pytest.importorskip("playwright.sync_api")
    rows = conv_browser.report(conv_browser.measure(2, None, n_images=300))
    from harness import driver

    names = [driver.POINT, driver.SPACE, driver.SLIDER, driver.PYTHON]
    assert [r.name for r in rows] == [f"conv 64x64 RGB: {n}" for n in names]
    assert [r.n for r in rows] == [2, 2, 2, 4]
    for r in rows:
        assert_measured(r)
        assert 1 < r.median < 60_000 and "300 points" in r.note  # ms


def test_the_maps_rows_on_a_small_fit(monkeypatch):
    monkeypatch.setattr(maps, "HELD", 200)
    test, _ = data.map_dataset(None)
    small = test.subset(np.arange(1_500))
    monkeypatch.setattr(maps, "map_dataset", lambda d: (small, "1,500 test images"))
    from explorer.latent import maps as projections

    fits, real_fit = [], projections.make_projection

    def make_projection(kind, codes):
        fits.append((kind, len(codes)))
        return real_fit(kind, codes)

    monkeypatch.setattr(projections, "make_projection", make_projection)
    # the larger size is more than there are: fitted on all 1,300 not held out
    t = time.perf_counter()
    rows = {r.name: r for r in maps.report(maps.measure(None, (1_000, 70_000)))}
    took = time.perf_counter() - t
    # each fit a row names was made, on as many codes as it says (PCA twice a
    # size: once timed, once kept for the inverse)
    assert fits == [("umap", 200)] + [("pca", 1_000)] * 2 + [
        ("umap", 1_000), ("tsne", 1_000), ("pca", 1_300), ("pca", 1_300),
        ("umap", 1_300),
    ]  # fmt: skip
    assert "t-SNE fit, 1,300 points" not in rows  # (t-SNE at the first size only)
    for r in rows.values():
        assert_measured(r, took)
    for name in ("UMAP fit, 1,000 points", "t-SNE fit, 1,000 points"):
        assert rows[name].baseline.startswith("PCA: ")
    assert rows["UMAP first fit in a process, 200 points"].n == 1
    click = rows["inverse of one click (UMAP map, 1,000 points)"]
    assert click.n == 50 and click.median < 1_000 and "t-SNE: " in click.baseline
    for kind in ("PCA", "UMAP", "t-SNE"):
        trip = rows[f"round trip on held-out codes, {kind}: latent error"]
        # relative errors of 200 held-out codes: 0 would be a perfect inverse,
        # 1 an error as large as the codes' spread
        assert trip.n == 200 and 0 < trip.median < 2 and "MSE" in trip.note
    # PCA to 2 of 16 dimensions loses something of every code
    assert min(rows["round trip on held-out codes, PCA: latent error"].samples) > 0


def test_the_suites_table_names_every_flags_suite_and_each_module_is_short():
    def names(*argv):
        return [s.name for s in chosen(options(parser().parse_args(list(argv))))]

    every = ["model", "conv", "page", "training", "encode"]
    browser = [
        "browser", "followup", "conv_browser", "lesson", "trainer", "replay", "bytes"
    ]  # fmt: skip
    assert names() == every + browser
    assert names("--no-browser") == every
    assert names("--users", "3") == every + browser + ["load"]
    assert names("--million", "--no-browser") == every + ["million"]
    assert names("--maps") == every + browser + ["maps", "maps_browser"]
    assert names("--only-maps") == ["maps", "maps_browser"]
    assert names("--only-maps", "--no-browser", "--users", "3") == ["maps"]
    assert names("--users", "2", "--million", "--maps") == [s.name for s in SUITES]
    assert names("--suite", "lesson", "--suite", "page") == ["page", "lesson"]
    with pytest.raises(SystemExit):
        names("--suite", "lessons")
    # each suite is a module of its own: measure() -> samples, report(samples)
    assert len({s.module for s in SUITES}) == len(SUITES)
    for s in SUITES:
        assert callable(s.module.measure) and callable(s.module.report), s.name
    folder = Path(data.__file__).parent
    lengths = {
        str(p.relative_to(folder)): len(p.read_text().splitlines())
        for p in folder.rglob("*.py")
    }
    assert {"suites.py", "classic/__init__.py", "classic/page.py"} <= set(lengths)
    assert max(lengths.values()) <= 400, lengths
