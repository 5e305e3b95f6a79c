"""Latent-space operations, without Streamlit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.data.images import grid, strip, to_png
from explorer.latent.neighbours import NearestData, typical_distance
from explorer.latent.paths import interpolate, lerp, slerp
from explorer.latent.projection import Projection, SliderBasis, slider_ranges
from explorer.latent.space import encode_space
from explorer.model.autoencoder import build_model
from explorer.model.config import ModelConfig
from tests.helpers import tiny_dataset

rng = np.random.default_rng(0)


@pytest.mark.parametrize("fn", [lerp, slerp])
def test_interpolation_endpoints_are_the_endpoints(fn):
    a, b = rng.normal(size=5), rng.normal(size=5)
    path = fn(a, b, np.array([0.0, 1.0]))
    np.testing.assert_allclose(path[0], a, atol=1e-12)
    np.testing.assert_allclose(path[1], b, atol=1e-12)


def test_lerp_midpoint_and_interpolate_steps():
    a, b = np.array([0.0, 2.0]), np.array([4.0, 0.0])
    np.testing.assert_allclose(lerp(a, b, 0.5), [2.0, 1.0])
    path = interpolate(a, b, 5)
    assert path.shape == (5, 2)
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile([1.0, -0.5], (4, 1)))


def test_slerp_keeps_the_norm_and_follows_the_arc():
    a, b = np.array([3.0, 0.0]), np.array([0.0, 3.0])
    path = slerp(a, b, np.linspace(0, 1, 7))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 3.0)
    angles = np.arctan2(path[:, 1], path[:, 0])
    np.testing.assert_allclose(np.diff(angles), np.pi / 12)
    # Norms change linearly when the ends differ in length.
    path = slerp(np.array([1.0, 0.0]), np.array([0.0, 3.0]), np.array([0.5]))
    assert np.linalg.norm(path[0]) == pytest.approx(2.0)


def test_slerp_degenerate_cases_fall_back_to_lerp():
    a = np.array([1.0, 1.0])
    np.testing.assert_allclose(slerp(a, 2 * a, 0.5), lerp(a, 2 * a, 0.5))
    np.testing.assert_allclose(slerp(np.zeros(2), a, 0.5), [0.5, 0.5])


def test_raw_projection_for_two_dimensions():
    z = rng.normal(size=(50, 2))
    proj = Projection.fit(z)
    assert not proj.is_pca and proj.axis_titles() == ("z[0]", "z[1]")
    np.testing.assert_allclose(proj.project(z), z)
    np.testing.assert_allclose(proj.inverse(z), z)


def test_one_dimensional_latent_sits_on_the_x_axis():
    z = rng.normal(size=(20, 1))
    proj = Projection.fit(z)
    p = proj.project(z)
    np.testing.assert_allclose(p[:, 0], z[:, 0])
    np.testing.assert_allclose(p[:, 1], 0.0)
    np.testing.assert_allclose(proj.inverse(p), z)


def test_pca_projection_inverse_lies_on_the_plane():
    # Data mostly in a 2-D plane of a 6-D space, plus small noise.
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T  # [2, 6] orthonormal
    z = (
        3
        + rng.normal(size=(400, 2)) * [5.0, 2.0] @ basis
        + 0.05 * rng.normal(size=(400, 6))
    )
    proj = Projection.fit(z)
    assert proj.is_pca and proj.explained[0] > proj.explained[1] > 0
    assert proj.axis_titles()[0].startswith("PC1 (")
    back = proj.inverse(proj.project(z))
    # On the plane: projecting again changes nothing, and the residual is orthogonal.
    np.testing.assert_allclose(proj.project(back), proj.project(z), atol=1e-9)
    np.testing.assert_allclose((z - back) @ proj.components.T, 0.0, atol=1e-9)
    # The projection of the data mean is the origin, and it maps back to the mean.
    np.testing.assert_allclose(proj.project(z.mean(0)), 0.0, atol=1e-9)
    np.testing.assert_allclose(proj.inverse(np.zeros(2))[0], z.mean(0), atol=1e-9)


def test_nearest_data_and_typical_distance():
    z = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [10.0, 10.0]])
    dist, idx = NearestData(z).query(np.array([0.9, 0.2]))
    assert idx[0, 0] == 1 and dist[0, 0] == pytest.approx(np.hypot(0.1, 0.2))
    grid_z = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), -1).reshape(-1, 2)
    assert typical_distance(grid_z) == pytest.approx(1.0)


def test_slider_basis_raw_and_pca():
    z = rng.normal(size=(300, 3))
    raw = SliderBasis.fit(z)
    assert raw.labels == ("z[0]", "z[1]", "z[2]")
    point = z[5].copy()
    moved = raw.move(point, 1, 0.7)
    np.testing.assert_allclose(moved, [point[0], 0.7, point[2]])
    z16 = rng.normal(size=(300, 16)) * np.linspace(3, 0.1, 16)
    pcs = SliderBasis.fit(z16)
    assert len(pcs.labels) == 4 and pcs.labels[0].startswith("PC1")
    moved = pcs.move(z16[0], 2, 1.5)
    assert pcs.coordinates(moved)[2] == pytest.approx(1.5)
    # Only that direction moved: the other slider values and the residual stay.
    keep = [0, 1, 3]
    np.testing.assert_allclose(
        pcs.coordinates(moved)[keep], pcs.coordinates(z16[0])[keep]
    )
    resid = lambda v: v - pcs.mean - pcs.coordinates(v) @ pcs.components  # noqa: E731
    np.testing.assert_allclose(resid(moved), resid(z16[0]), atol=1e-9)


def test_slider_ranges_cover_the_data():
    z = rng.normal(size=(1000, 2))
    lo, hi = np.percentile(z, [0.5, 99.5], axis=0)
    r = slider_ranges(z)  # a quarter of the 0.5-99.5% extent added on each side
    np.testing.assert_allclose(r[:, 0], lo - 0.25 * (hi - lo))
    np.testing.assert_allclose(r[:, 1], hi + 0.25 * (hi - lo))
    np.testing.assert_allclose(slider_ranges(z, margin=0.0), np.stack([lo, hi], 1))


def test_encode_space_decodes_and_maps_back():
    torch.manual_seed(0)
    cfg = ModelConfig(
        model_type="vae", latent_dim=4, image_shape=(1, 8, 8), hidden=(16,)
    )
    space = encode_space("tiny", build_model(cfg).eval(), tiny_dataset(40))
    assert space.z.shape == (40, 4) and space.coords.shape == (40, 2)
    assert space.projection.is_pca
    imgs = space.decode(space.z[:3])
    assert imgs.shape == (3, 1, 8, 8) and imgs.dtype == np.uint8
    j, d = space.nearest_point(space.z[7])
    assert d == 0.0 and np.array_equal(space.z[j], space.z[7])  # may be a duplicate
    on_plane = space.from_map(space.coords[7])
    np.testing.assert_allclose(space.to_map(on_plane)[0], space.coords[7], atol=1e-5)


def test_conditional_space_needs_labels_to_decode():
    torch.manual_seed(0)
    cfg = ModelConfig(
        model_type="cvae",
        latent_dim=2,
        image_shape=(1, 8, 8),
        hidden=(16,),
        num_classes=3,
    )
    space = encode_space("tiny", build_model(cfg).eval(), tiny_dataset(20))
    with pytest.raises(ValueError, match="conditional"):
        space.decode(space.z[:2])
    assert space.decode(space.z[:2], np.array([1])).shape == (2, 1, 8, 8)


def test_strip_grid_and_png():
    ims = np.stack([np.full((1, 3, 2), v, np.uint8) for v in (10, 20, 30)])
    s = strip(ims, gap=1)
    assert s.shape == (1, 3, 8)
    assert s[0, 0].tolist() == [10, 10, 255, 20, 20, 255, 30, 30]
    g = grid(np.stack([ims, ims]), gap=1)
    assert g.shape == (1, 7, 8) and (g[0, 3] == 255).all()
    from io import BytesIO

    from PIL import Image

    im = Image.open(BytesIO(to_png(ims[0], scale=4)))
    assert im.size == (8, 12) and im.getpixel((0, 0)) == 10


def test_default_pair_prefers_ae_and_vae_at_two_dimensions(tmp_path):
    from explorer.app.catalogue import Entry, default_pair

    def entry(name, kind, d):
        return Entry(name, tmp_path, "x", kind, d, "test", "train")

    entries = [entry("x-ae-z16", "ae", 16), entry("x-cvae-z2", "cvae", 2),
               entry("x-vae-z2", "vae", 2), entry("x-ae-z2", "ae", 2)]  # fmt: skip
    assert default_pair(entries) == ("x-ae-z2", "x-vae-z2")
    assert default_pair(entries[:2]) == ("x-ae-z16", "x-cvae-z2")
    assert default_pair(entries[:1]) == ("x-ae-z16", "x-ae-z16")
    # no 2-D pair: the smallest size that has both, skipping broken ones
    one_d = [entry("y-ae-z1", "ae", 1), entry("y-cvae-z1", "cvae", 1),
             entry("y-vae-z1", "vae", 1), entry("y-vae-z8", "vae", 8)]  # fmt: skip
    assert default_pair(one_d) == ("y-ae-z1", "y-vae-z1")
    broken = Entry("y-ae-z0", tmp_path, "x", None, None, "t", "t", "unreadable")
    assert default_pair([broken, *one_d[1:]]) == ("y-cvae-z1", "y-vae-z1")


def test_gif_plays_forward_then_back_and_loops():
    import io

    from PIL import Image, ImageSequence

    from explorer.data.images import to_gif

    frames = np.stack([np.full((1, 4, 4), v, np.uint8) for v in (0, 100, 200, 255)])
    gif = Image.open(io.BytesIO(to_gif(frames, scale=2, ms_per_frame=50)))
    seq = [np.asarray(f.convert("L"))[0, 0] for f in ImageSequence.Iterator(gif)]
    assert seq == [0, 100, 200, 255, 200, 100]
    assert gif.size == (8, 8) and gif.info["loop"] == 0
    rgb = np.repeat(frames, 3, axis=1)
    assert Image.open(io.BytesIO(to_gif(rgb))).n_frames == 6
    with pytest.raises(ValueError):
        to_gif(frames[:0])


@pytest.mark.parametrize(
    "z, why",
    [
        (np.ones((1, 5)), "1 point cannot span a PCA plane"),
        (rng.normal(size=(2, 5)), "2 points cannot span a PCA plane"),
        (np.tile(rng.normal(size=5), (20, 1)), "every image has the same latent mean"),
        (
            np.outer(np.linspace(-1, 1, 20), rng.normal(size=5)),
            "the latent means do not spread in two directions",
        ),
    ],
    ids=["one", "two", "identical", "collinear"],
)
def test_degenerate_points_get_raw_axes_and_say_why(z, why):
    p = Projection.fit(z)
    assert not p.is_pca and p.note.startswith(why)
    np.testing.assert_array_equal(p.components, np.eye(2, 5))
    np.testing.assert_allclose(p.project(z), z[:, :2])
    assert np.isfinite(p.project(z)).all()


def test_spread_points_get_a_pca_without_a_note():
    p = Projection.fit(rng.normal(size=(3, 5)))
    assert p.is_pca and p.note is None
    assert Projection.fit(rng.normal(size=(10, 1))).note.startswith("a 1-D latent")


def test_a_flat_dimension_gets_a_slider_of_width_two_around_its_value():
    z = np.stack([np.full(10, 3.0), np.linspace(0, 1, 10)], axis=1)
    r = slider_ranges(z)
    np.testing.assert_allclose(r[0], [2.0, 4.0])
    assert r[1, 0] < 0 and r[1, 1] > 1 and r[1, 1] - r[1, 0] < 2


def test_too_few_points_for_pca_sliders_get_raw_dimensions():
    basis = SliderBasis.fit(rng.normal(size=(3, 64)))
    assert basis.labels == tuple(f"z[{i}]" for i in range(8))
    np.testing.assert_array_equal(basis.components, np.eye(64)[:8])
    assert (basis.ranges[:, 1] > basis.ranges[:, 0]).all()
    identical = SliderBasis.fit(np.zeros((50, 16)))
    np.testing.assert_allclose(identical.ranges, [[-1.0, 1.0]] * 8)


def test_neighbours_of_fewer_points_than_asked_are_all_of_them():
    nn = NearestData(np.array([[0.0, 0.0], [3.0, 0.0]]))
    dist, idx = nn.query(np.array([2.0, 0.0]), k=6)
    assert idx.tolist() == [[1, 0]] and dist.tolist() == [[1.0, 2.0]]
    assert typical_distance(np.zeros((1, 2))) == 0.0
    assert typical_distance(np.array([[0.0, 0.0], [3.0, 0.0]])) == 3.0


def test_the_nearest_index_is_built_once_on_first_use(monkeypatch):
    """A space is drawn before its index is needed: the index is built by the
    first query (once, however many sessions ask at the same moment)."""
    import threading

    import scipy.spatial

    fits = []

    class Counted(scipy.spatial.cKDTree):
        def __init__(self, data, *a, **kw):
            fits.append(len(data))
            super().__init__(data, *a, **kw)

    monkeypatch.setattr(scipy.spatial, "cKDTree", Counted)
    z = np.random.default_rng(0).normal(size=(2000, 2))
    nn = NearestData(z)
    assert fits == []
    threads = [
        threading.Thread(target=nn.query, args=(np.zeros(2), 3)) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fits == [2000]
    _, idx = nn.query(z[7], 1)
    assert idx[0, 0] == 7 and fits == [2000]
