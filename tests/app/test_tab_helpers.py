"""The tabs' functions that compute rather than draw, called on their own
(bare Streamlit: ``st.session_state`` is a plain store here). The tabs as the
page shows them are in ``test_tabs.py``."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import streamlit as st

from explorer.app.tabs import directions, movement, prior

pytestmark = pytest.mark.usefixtures("fresh_session_state")


def test_movement_sample_is_seeded_sorted_and_at_most_n():
    pool = np.arange(100, 200)
    a = movement.sample(pool, 10, seed=3)
    assert len(a) == 10 and len(set(a)) == 10 and np.all(np.diff(a) > 0)
    assert set(a) <= set(pool) and np.array_equal(a, movement.sample(pool, 10, 3))
    assert not np.array_equal(a, movement.sample(pool, 10, 4))
    assert np.array_equal(movement.sample(pool[::-1], 500), pool)  # all of them


def test_prior_samples_follow_the_tabs_settings():
    sp = SimpleNamespace(latent_dim=3)
    default = prior.prior_zs(sp)
    assert default.shape == (16, 3)
    st.session_state.update(prior_n=40, prior_tau=0.0, prior_seed=0)
    assert np.array_equal(prior.prior_zs(sp), np.zeros((40, 3)))  # temperature 0
    st.session_state.update(prior_n=16, prior_tau=2.0)
    assert np.allclose(prior.prior_zs(sp), 2 * default)  # the same draws, scaled
    st.session_state.prior_seed = 1
    assert not np.allclose(prior.prior_zs(sp), 2 * default)


def _two_classes():
    """Codes of class 0 around (0, 0) and class 1 around (4, 2), 2-D."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 100)
    z = rng.normal(0, 0.3, (200, 2)) + np.array([[0, 0], [4, 2]])[labels]
    panel = SimpleNamespace(slot=0, space=SimpleNamespace(z=z, latent_dim=2))
    ds = SimpleNamespace(labels=labels, class_names=("a", "b"))
    centroids = np.stack([z[labels == k].mean(0) for k in (0, 1)])
    return panel, ds, centroids


def test_directions_move_the_cross_from_where_it_was_towards_class_b():
    p, ds, c = _two_classes()
    ss = st.session_state
    ss.cursor = {0: np.array([1.0, 1.0])}
    ss.update(dir_a=0, dir_b=1, dir_t=0.5, dir_l1=0.0, dir_l2=0.0)
    assert directions.labelled(ds)
    # halfway along A -> B from the ×
    assert np.allclose(directions.point(p, ds), [1, 1] + 0.5 * (c[1] - c[0]))
    # the × moved by the sliders keeps its start; moved by anything else, the
    # start follows it
    ss.dir_last = {0: np.array([1.0, 1.0])}
    assert np.allclose(directions.anchor(p), [1, 1])
    ss.cursor = {0: np.array([3.0, 0.0])}
    assert np.allclose(directions.anchor(p), [3, 0])
    # from class A's centroid instead: t = 1 lands on class B's
    ss.update(dir_from=directions.STARTS[1], dir_t=1.0)
    assert np.allclose(directions.point(p, ds), c[1])


def test_local_moves_go_along_the_datas_spread_at_the_start():
    p, ds, c = _two_classes()
    ss = st.session_state
    ss.cursor = {0: c[0].copy()}
    ss.update(dir_a=0, dir_b=1, dir_t=0.0, dir_l1=1.0, dir_l2=0.0)
    step = directions.point(p, ds) - c[0]
    # one standard deviation of the nearby codes (about 0.3 each way)
    assert 0.15 < np.linalg.norm(step) < 0.6


def test_unlabelled_data_has_no_class_direction():
    p, ds, _ = _two_classes()
    assert not directions.labelled(SimpleNamespace(labels=None, class_names=()))
    assert not directions.labelled(
        SimpleNamespace(labels=ds.labels, class_names=("a",))
    )
