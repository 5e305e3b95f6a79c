"""Selections: what a lasso or box holds, the link's text, the summary and
the CSV."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from explorer.latent import selection as sel


def grid(n: int = 10) -> np.ndarray:
    """Points on the integer grid 0..n-1 squared, row by row."""
    xs, ys = np.meshgrid(np.arange(n), np.arange(n))
    return np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)


def test_a_box_holds_the_points_within_its_edges_either_way_round():
    xy = grid()
    inside = sel.in_box(xy, [5, 2], [1, 3])  # a box dragged right to left
    want = (xy[:, 0] >= 2) & (xy[:, 0] <= 5) & (xy[:, 1] >= 1) & (xy[:, 1] <= 3)
    assert inside.sum() == 4 * 3 and np.array_equal(inside, want)


def test_a_lasso_holds_the_points_inside_its_polygon():
    xy = grid()
    # a triangle (0.5, 0.5), (8.5, 0.5), (0.5, 8.5): points with x + y <= 8
    inside = sel.in_lasso(xy, [[0.5, 0.5], [8.5, 0.5], [0.5, 8.5]])
    want = (xy[:, 0] >= 1) & (xy[:, 1] >= 1) & (xy.sum(1) <= 8)
    assert np.array_equal(inside, want)


def test_a_lasso_that_crosses_itself_holds_both_loops():
    xy = np.array([[1.0, 1.0], [3.0, 1.0], [2.0, 2.5], [2.0, 1.0]])
    # a bow tie: one loop around x = 1, the other around x = 3
    bow = [[0, 0], [4, 2], [4, 0], [0, 2]]
    inside = sel.in_lasso(xy, bow)
    assert inside.tolist() == [True, True, False, False]


@pytest.mark.parametrize(
    "poly", [[[0, 0], [1, 1]], [[0, 0], [1, np.nan], [1, 0]], [1, 2, 3]]
)
def test_a_lasso_that_is_not_a_polygon_is_refused(poly):
    with pytest.raises(sel.SelectionError):
        sel.in_lasso(grid(), poly)


def test_runs_encode_short_and_decode_exactly():
    idx = np.array([3, 4, 5, 6, 7, 12, 40, 41])
    text = sel.encode(idx, 100)
    assert text == "3-7,12,40-41"
    assert np.array_equal(sel.decode(text, 100), idx)
    assert sel.encode([], 100) == "" and len(sel.decode("", 100)) == 0


def test_scattered_picks_use_the_compressed_bitmask():
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(10_000, 600, replace=False))
    text = sel.encode(idx, 10_000)
    assert text.startswith("z") and len(text) < len(
        ",".join(map(str, idx))
    )  # shorter than runs
    assert np.array_equal(sel.decode(text, 10_000), idx)


def test_a_selection_too_scattered_for_a_link_says_how_long_it_is():
    idx = np.random.default_rng(1).choice(70_000, 20_000, replace=False)
    with pytest.raises(sel.SelectionError, match=r"characters; a link carries"):
        sel.encode(idx, 70_000)


@pytest.mark.parametrize(
    "text, match",
    [
        ("3-x", "not a selection"),
        ("7-3", "backwards"),
        ("5,200", "holds index 200"),
        ("z!!!", "not a selection"),
        ("x" * 9000, "too long"),
    ],
)
def test_a_bad_link_selection_is_refused_with_a_reason(text, match):
    with pytest.raises(sel.SelectionError, match=match):
        sel.decode(text, 100)


def test_a_bitmask_of_another_dataset_size_is_refused():
    text = sel.encode(np.arange(0, 64, 2), 64)  # 32 scattered picks: a bitmask
    assert text.startswith("z")
    with pytest.raises(sel.SelectionError, match="not of this dataset"):
        sel.decode(text, 1_000)


def test_indices_out_of_range_are_refused():
    with pytest.raises(sel.SelectionError, match="0 to 9"):
        sel.normalise([3, 10], 10)
    assert sel.normalise([5, 1, 5], 10).tolist() == [1, 5]


def models(n: int = 6):
    rng = np.random.default_rng(2)
    codes = {"ae": rng.normal(size=(n, 2)), "vae": rng.normal(size=(n, 3))}
    measures = {
        "ae": {"recon": rng.random(n), "loss": rng.random(n)},
        "vae": {"recon": rng.random(n), "kl": rng.random(n), "loss": rng.random(n)},
    }
    return codes, measures


def test_the_summary_counts_classes_and_averages_images_codes_and_measures():
    images = np.arange(6 * 1 * 2 * 2, dtype=np.uint8).reshape(6, 1, 2, 2) * 10
    labels = np.array([0, 1, 1, 2, 1, 0])
    codes, measures = models()
    idx = np.array([1, 2, 4, 5])
    s = sel.summarise(idx, images, labels, ("a", "b", "c"), codes, measures, chunk=3)
    assert s.count == 4
    assert s.classes == [("b", 3), ("a", 1)]  # most common first; none of c
    assert s.mean_image.dtype == np.uint8
    assert np.array_equal(s.mean_image, np.rint(images[idx].mean(0)).astype(np.uint8))
    np.testing.assert_allclose(s.mean_codes["vae"], codes["vae"][idx].mean(0))
    assert s.measures["vae"]["kl"] == pytest.approx(measures["vae"]["kl"][idx].mean())
    assert "kl" not in s.measures["ae"]
    with pytest.raises(sel.SelectionError):
        sel.summarise(idx[:0], images, labels, ("a", "b", "c"), codes, measures)


def test_the_csv_has_a_row_per_image_with_both_models_codes_and_measures():
    codes, measures = models()
    labels = np.array([0, 1, 1, 2, 1, 0])
    text = sel.to_csv(np.array([2, 5]), labels, ("a", "b", "c"), codes, measures)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "index",
        "label",
        "ae.z0",
        "ae.z1",
        "ae.recon",
        "ae.loss",
        "vae.z0",
        "vae.z1",
        "vae.z2",
        "vae.recon",
        "vae.kl",
        "vae.loss",
    ]
    assert [r[:2] for r in rows[1:]] == [["2", "b"], ["5", "a"]]
    got = np.array([[float(v) for v in r[2:]] for r in rows[1:]])
    want = np.concatenate(
        [
            codes["ae"][[2, 5]],
            measures["ae"]["recon"][[2, 5], None],
            measures["ae"]["loss"][[2, 5], None],
            codes["vae"][[2, 5]],
            np.stack([measures["vae"][k][[2, 5]] for k in ("recon", "kl", "loss")], 1),
        ],
        axis=1,
    )
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # unlabelled data: an empty label column
    rows = list(csv.reader(io.StringIO(sel.to_csv([0], None, (), codes, measures))))
    assert rows[1][1] == ""
