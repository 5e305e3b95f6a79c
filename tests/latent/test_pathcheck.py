"""The measures along an interpolation path."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.latent.pathcheck import check_path, log_prior
from explorer.latent.space import encode_space
from tests.helpers import tiny_dataset, tiny_vae


def test_log_prior_is_the_standard_normal_density():
    from scipy.stats import multivariate_normal

    z = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(
        log_prior(z), multivariate_normal(np.zeros(3), np.eye(3)).logpdf(z)
    )


@pytest.fixture(scope="module")
def space():
    return encode_space("tiny", tiny_vae(latent=4), tiny_dataset(64))


def test_a_path_between_two_codes_is_measured_at_each_step(space):
    a, b = space.z[0], space.z[1]
    c = check_path(space, a, b, 9, "linear")
    assert c.t.tolist() == np.linspace(0, 1, 9).tolist()
    assert c.log_prior.shape == c.nearest.shape == c.roundtrip.shape == (9,)
    np.testing.assert_allclose(c.log_prior[[0, -1]], log_prior(np.stack([a, b])))
    # the ends are data means: no distance to the nearest one
    assert c.nearest[0] == pytest.approx(0, abs=1e-9)
    assert c.nearest[-1] == pytest.approx(0, abs=1e-9)
    # the round trip is the decode against the decode of its re-encoding
    x = space.decode(a[None])
    again = space.decode(space.encode(x))
    want = (((x / 255.0) - (again / 255.0)) ** 2).mean()
    assert c.roundtrip[0] == pytest.approx(want)
    assert (c.roundtrip >= 0).all()


def test_a_straight_path_dips_inside_the_prior_shell_a_spherical_one_does_not(space):
    # two opposite codes on the shell of radius 3: the line passes the origin
    a = np.array([3.0, 0, 0, 0])
    line = check_path(space, a, -a, 11, "linear")
    arc = check_path(space, a, np.array([0, 3.0, 0, 0]), 11, "spherical")
    assert line.log_prior[5] == pytest.approx(log_prior(np.zeros((1, 4)))[0])
    assert line.log_prior[5] > line.log_prior[0] + 4
    np.testing.assert_allclose(arc.log_prior, arc.log_prior[0])  # level on the shell
    # far from the data in the middle of the line, in neighbour spacings
    assert line.nearest.max() > 1
