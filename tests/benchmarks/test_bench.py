"""The benchmark's pieces; the figures come from `python -m benchmarks`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import bench
from benchmarks.__main__ import main


def test_summarize_and_timed():
    med, p95 = bench.summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert med == 3.0 and 4.0 < p95 < 100.0
    calls = []
    samples = bench.timed(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(samples) == 4 and len(calls) == 6 and all(s >= 0 for s in samples)


def test_row_checks_its_target():
    r = bench.row(
        "x", "ms", [0.001, 0.002, 0.003], "<= 2 ms", lambda m, p: m <= 2, scale=1e3
    )
    assert r.median == pytest.approx(2.0) and r.met is True and r.n == 3
    r = bench.row("x", "ms", [0.010], "<= 2 ms", lambda m, p: m <= 2, scale=1e3)
    assert r.met is False


def test_table_lists_every_row_and_its_notes():
    rows = [
        bench.Row("decode one image", "ms", 0.2, 0.4, 50, "<= 1 ms", True),
        bench.Row("encode", "images/s", 123456.0, 120000.0, 3, ">= 100,000", True,
                  baseline="none", note="a note"),
        bench.Row("skipped", "s", math.nan, math.nan, 0, note="not here"),
    ]  # fmt: skip
    text = bench.table(rows)
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
    ds, source = bench.map_dataset(None)
    assert len(ds) == bench.MAP_POINTS and "tiled" in source


def test_decoding_and_figure_rows():
    rows = bench.bench_decoding(repeats=1)
    assert [r.name for r in rows] == ["decode one image", "decode a 30x30 grid"]
    one, grid = rows
    # each row's verdict is its target applied to its own median
    assert one.median > 0 and one.met == (one.median <= 1.0)
    assert grid.median > 0 and grid.met == (grid.median <= 20.0)
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(2000, 2)).astype(np.float32)
    labels = rng.integers(0, 10, 2000)
    build, payload, rerun = bench.bench_figure(coords, labels, repeats=2)
    assert build.median > 0 and "plotly figure" in build.baseline
    assert payload.median == pytest.approx(2000 * 9 / 1e6)
    assert "plotly figure JSON" in payload.baseline and payload.met is True
    # what a rerun sends for the two maps, measured on the default page: one
    # view (instant), two map components (classic, the baseline)
    assert rerun.n == 1 and 1 < rerun.median < 100
    assert rerun.note.count("overlay marks") == 1
    classic = float(rerun.baseline.split(": ")[1].split(" kB")[0])
    assert 1 < classic < 100


def test_cli_runs_without_browser_and_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        bench, "bench_training", lambda *a: bench.Row("t", "s", 1.0, 1.0, 1)
    )
    # (the conv rows have a test of their own below)
    monkeypatch.setattr(bench, "bench_conv", lambda *a: [])
    out = tmp_path / "b.json"
    assert main(["--quick", "--no-browser", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "encode 70,000 images" in printed and f"wrote {out}" in printed
    import json

    data = json.loads(out.read_text())
    assert data["meta"]["mode"] == "quick"
    assert {r["name"] for r in data["rows"]} >= {
        "decode one image",
        "map payload, 70,000 points",
    }
    # the saved run renders to the table the run printed
    assert main(["--render", str(out)]) == 0
    rendered = capsys.readouterr().out
    assert rendered.split("\n\n", 1)[1].strip() in printed
    assert rendered.startswith(data["meta"]["when"] + ", quick run: ")


def test_shifted_copies_and_the_million_rows_on_a_small_set():
    base, _ = bench.map_dataset(None)  # the bundled test split, tiled
    copies = bench.ShiftedCopies(base, len(base) + 500)
    first, labels = copies.__getitems__([0, 1, len(base) + 3])
    assert np.array_equal(first[0].numpy(), base.images[0])
    dy, dx = copies.shifts[len(base) + 3]
    assert np.array_equal(
        first[2].numpy(), np.roll(base.images[3], (int(dy), int(dx)), axis=(1, 2))
    )
    assert labels.tolist() == [base.labels[0], base.labels[1], base.labels[3]]
    rows = {r.name: r for r in bench.bench_million(None, False, 20_000)}
    assert rows["pack 20,000 images into a store"].median > 0
    assert rows["encode 20,000 images into memory-mapped files"].n == 2
    assert rows["pack a folder of 20,000 PNG files"].median > 0
    assert rows["memory while packing and encoding 20,000 files"].n == 1
    payload = rows["map payload, 20,000 points"]
    assert 0 < payload.median < 20_000 * 13 / 1e6 + 0.5 and payload.met is not None


def test_conv_rows_compare_with_the_mlp_in_the_same_run():
    base, _ = bench.map_dataset(None)
    x, _ = base.subset(slice(0, 600)).tensors()
    rows = {r.name: r for r in bench.bench_conv(1, x)}
    for label in bench.CONV_SHAPES:
        one = rows[f"conv decode one image ({label})"]
        grid = rows[f"conv decode a 30x30 grid ({label})"]
        enc = rows[f"conv encode ({label})"]
        assert one.median > 0 and grid.median > one.median and enc.median > 0
        assert one.baseline.startswith("MLP VAE (28x28): ")
    # a 64x64 RGB image takes more work than a 28x28 grey one
    assert (
        rows["conv decode a 30x30 grid (64x64 RGB)"].median
        > rows["conv decode a 30x30 grid (28x28 grey)"].median
    )


@pytest.mark.browser
def test_conv_click_rows_run_through_explore():
    pytest.importorskip("playwright.sync_api")
    rows = bench.bench_conv_browser(2, None, n_images=300)
    from tests.e2e import driver

    names = [driver.POINT, driver.SPACE, driver.SLIDER, driver.PYTHON]
    assert [r.name for r in rows] == [f"conv 64x64 RGB: {n}" for n in names]
    assert [r.n for r in rows] == [2, 2, 2, 4]
    assert all(r.median > 0 and "300 points" in r.note for r in rows)


def test_the_maps_rows_on_a_small_fit(monkeypatch):
    monkeypatch.setattr(bench, "MAPS_HELD", 200)
    test, _ = bench.map_dataset(None)
    small = test.subset(np.arange(1_500))
    monkeypatch.setattr(bench, "map_dataset", lambda d: (small, "1,500 test images"))
    # the larger size is more than there are: fitted on all 1,300 not held out
    rows = {r.name: r for r in bench.bench_maps(None, (1_000, 70_000))}
    assert rows["UMAP first fit in a process, 200 points"].median > 0
    assert rows["UMAP fit, 1,300 points"].median > 0
    assert "t-SNE fit, 1,300 points" not in rows  # (t-SNE at the first size only)
    for name in ("UMAP fit, 1,000 points", "t-SNE fit, 1,000 points"):
        assert rows[name].median > 0 and rows[name].baseline.startswith("PCA: ")
    click = rows["inverse of one click (UMAP map, 1,000 points)"]
    assert click.n == 50 and 0 < click.median < 1_000 and "t-SNE: " in click.baseline
    for kind in ("PCA", "UMAP", "t-SNE"):
        trip = rows[f"round trip on held-out codes, {kind}: latent error"]
        assert trip.n == 200 and trip.median > 0 and "MSE" in trip.note
