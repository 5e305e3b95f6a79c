"""Large maps: which points are drawn, and the density image under them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from explorer.app.components import density
from explorer.app.components.latent_map import COLORS


def rgb(hex_colour: str) -> list[int]:
    return [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]


def test_drawn_points_are_capped_stable_and_complete_when_few():
    rng = np.random.default_rng(1)
    coords = rng.normal(size=(50_000, 2)).astype(np.float32)
    every = np.arange(len(coords))
    wide = ((-5.0, 5.0), (-5.0, 5.0))
    medium = ((-1.0, 1.0), (-1.0, 1.0))  # about 23,000 points
    narrow = ((0.0, 0.5), (0.0, 0.5))  # about 1,800
    a = density.pick(every[density.inside(coords, wide)], len(coords), 2_000)
    m = density.pick(every[density.inside(coords, medium)], len(coords), 2_000)
    b = density.pick(every[density.inside(coords, narrow)], len(coords), 2_000)
    assert len(a) == len(m) == 2_000 and np.all(np.diff(a) > 0)
    # Zooming in keeps every point drawn before that is still in view ...
    kept = a[density.inside(coords[a], medium)]
    assert 0 < len(kept) < 2_000 and set(kept) <= set(m)
    # ... and draws all of them once they are few enough.
    assert len(b) < 2_000
    assert np.array_equal(b, every[density.inside(coords, narrow)])


def test_density_image_places_colours_and_counts():
    window = ((0.0, 4.0), (0.0, 3.0))
    coords = np.array(
        [[0.5, 2.5]] * 9 + [[3.5, 0.5]] + [[2.5, 0.5], [2.5, 0.5]], np.float32
    )
    labels = np.array([0] * 9 + [1] + [2, 3])
    img = density.density_image(coords, window, labels, bins=(4, 3))
    assert img.shape == (3, 4, 4)
    # Row 0 is the top of the map: the 9 points of class 0 at (0.5, 2.5).
    assert img[0, 0, :3].tolist() == rgb(COLORS[0])
    assert img[2, 3, :3].tolist() == rgb(COLORS[1])
    mixed = (np.array(rgb(COLORS[2])) + np.array(rgb(COLORS[3]))) / 2
    assert np.abs(img[2, 2, :3] - mixed).max() <= 1
    # More points, more opaque; empty bins are clear.
    assert img[0, 0, 3] > img[2, 2, 3] > img[2, 3, 3] > 0
    assert img[1, 1, 3] == 0 and img[0, 3, 3] == 0


def test_density_by_a_measure_uses_the_bin_mean_on_viridis():
    window = ((0.0, 2.0), (0.0, 1.0))
    coords = np.array([[0.5, 0.5], [0.5, 0.5], [1.5, 0.5]], np.float32)
    values = np.array([0.0, 2.0, 4.0])
    img = density.density_image(coords, window, values=values, bins=(2, 1))
    viridis = density._viridis()
    assert np.abs(img[0, 0, :3] - viridis[int(0.25 * 255)]).max() <= 1  # mean 1 of 4
    assert np.abs(img[0, 1, :3] - viridis[255]).max() <= 1


def test_large_map_writes_the_drawn_points_and_the_density(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rng = np.random.default_rng(2)
    coords = rng.normal(size=(30_000, 2)).astype(np.float32)
    labels = rng.integers(0, 10, len(coords))
    shown = np.arange(0, len(coords), 2)  # a sample of half the points
    window = ((0.0, 1.0), (0.0, 1.0))
    pts, drawn = density.large_map(
        coords, shown, ("x", "y"), labels, tuple("abcdefghij"), None, None,
        window, "key", limit=500,
    )  # fmt: skip
    in_view = shown[density.inside(coords[shown], window)]
    assert len(drawn) == pts.n == 500 and set(drawn) <= set(in_view)
    assert pts.density["in_window"] == len(in_view)
    assert pts.density["shown"] == len(shown) and pts.view_key == "key"
    from explorer.app.components.latent_map import component_dir

    folder = component_dir()
    raw = (folder / pts.file).read_bytes()
    xs = np.frombuffer(raw[: 4 * pts.n], "<f4")
    assert np.array_equal(xs, coords[drawn, 0])
    with Image.open(folder / pts.density["file"]) as im:
        assert im.size == density.BINS and im.mode == "RGBA"
    # No window: the whole extent, every shown point in view.
    pts, _ = density.large_map(
        coords, shown, ("x", "y"), labels, (), None, None, None, "key", limit=500
    )
    assert pts.density["in_window"] == len(shown)


def test_data_files_are_capped_least_recently_used_first(tmp_path, monkeypatch):
    """Each window of a large map writes a file: the folder cannot grow
    without bound. Past the cap the least recently used files go."""
    import os
    import time

    from explorer.app.components import latent_map

    monkeypatch.setattr(latent_map, "component_dir", lambda name: tmp_path)
    (tmp_path / "latent_map.js").write_bytes(b"x" * 5000)  # the component's own
    names = []
    for i in range(10):
        names.append(latent_map.write_once("points", bytes([i]) * 1000, "m", cap=3500))
        t = time.time() - 100 + i  # written in order, a second apart
        os.utime(tmp_path / names[-1], (t, t))
        if i == 5:  # file 0 is used again: the most recent now
            assert latent_map.write_once("points", bytes([0]) * 1000, "m") == names[0]
    left = sorted(f.name for f in tmp_path.iterdir())
    assert "latent_map.js" in left  # never a component file
    kept = [n for n in names if n in left]
    # 3 x 1000 bytes fit: file 0 (used last, at i=5, "now") and the newest two
    assert kept == [names[0], names[8], names[9]]
    assert sum((tmp_path / n).stat().st_size for n in kept) <= 3500


def test_the_full_view_names_every_point_for_the_browser(monkeypatch, tmp_path):
    """Without a window, a large map also writes every shown point in order of
    priority, every image's coordinates and its measure: the first ``limit``
    of that order inside any window are the points ``pick`` picks there, which
    is how the view draws a window with no round trip."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from explorer.app.components.latent_map import component_dir

    rng = np.random.default_rng(3)
    coords = rng.normal(size=(20_000, 2)).astype(np.float32)
    values = rng.random(len(coords)).astype(np.float32)
    shown = np.sort(rng.choice(len(coords), 15_000, replace=False))
    pts, _ = density.large_map(
        coords, shown, ("x", "y"), None, (), values, "loss", None, "key", limit=300
    )
    d, folder = pts.density, component_dir()
    order = np.frombuffer((folder / d["order"]).read_bytes(), "<i4")
    assert sorted(order) == list(shown)
    xy = np.frombuffer((folder / d["coords"]).read_bytes(), "<f4").reshape(-1, 2)
    assert np.array_equal(xy, coords)
    assert np.array_equal(
        np.frombuffer((folder / d["values"]).read_bytes(), "<f4"), values
    )
    assert d["limit"] == 300 and d["bins"] == list(density.BINS)
    for window in [
        ((0.0, 1.0), (0.0, 1.0)),
        ((-3.0, 3.0), (-3.0, 3.0)),
        ((2, 2.5), (0, 1)),
    ]:
        inside = density.inside(coords[order], window)
        first = np.sort(order[inside][:300])
        want = density.pick(
            shown[density.inside(coords[shown], window)], len(coords), 300
        )
        assert np.array_equal(first, want)
    # a window asked of the server (the benchmark's classic page): no such files
    pts, _ = density.large_map(
        coords, shown, ("x", "y"), None, (), None, None, ((0, 1), (0, 1)), "key"
    )
    assert "order" not in pts.density


def test_viridis_is_the_scale_the_density_uses():
    table = density.viridis()
    assert len(table) == 256 and all(len(c) == 3 for c in table)
    assert np.abs(np.array(table) - density._viridis()).max() <= 0.5


def test_priority_order_of_every_point_or_a_sample():
    n = 5_000
    rank = density.priority(n)
    sample = np.sort(np.random.default_rng(4).choice(n, 1_200, replace=False))
    for shown in (np.arange(n), sample):
        got = density.by_priority(shown, n)
        assert np.array_equal(got, shown[np.argsort(rank[shown])])
