"""The β series: finding its members, measuring each β on its snapshots'
last frame, the one-line readings, and the maps turned onto β = 1's."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from explorer.training.beta import (
    SPREAD,
    find_series,
    measure,
    prior_mean_norm,
    read_series,
    reading,
)
from explorer.training.snapshots import SNAPSHOT_FILE, read_snapshots

N = 200


def member(
    root, beta, means, logvars, recon=250.0, kl=5.0, model_beta=None, index=None
):  # noqa: E501
    folder = root / f"fmn-vae-z2-b{beta:g}"
    folder.mkdir(parents=True)
    config = {"model_type": "vae", "latent_dim": 2, "image_shape": [1, 8, 8]}
    config["beta"] = beta if model_beta is None else model_beta
    (folder / "config.json").write_text(json.dumps(config))
    s = 2
    t = {
        "means": torch.tensor(np.stack([means * 0.5, means]), dtype=torch.float32),
        "logvars": torch.tensor(np.stack([logvars, logvars]), dtype=torch.float32),
        "index": torch.arange(N) if index is None else torch.tensor(index),
        "labels": torch.arange(N) % 3,
        "step": torch.arange(s),
        "epoch": torch.arange(s, dtype=torch.float32),
        "recon": torch.tensor([recon + 9, recon]),
        "kl": torch.tensor([kl + 1, kl]),
    }
    save_file(t, folder / SNAPSHOT_FILE)
    return folder


def blob(seed=0, scale=1.0):
    return np.random.default_rng(seed).normal(size=(N, 2)) * scale


def test_the_series_is_its_named_folders_whose_beta_agrees_in_order(tmp_path):
    lv = np.zeros((N, 2))
    for beta in (10, 0, 1, 0.3):
        member(tmp_path, beta, blob(), lv)
    member(tmp_path, 3, blob(), lv, model_beta=2.0)  # a name that lies
    (tmp_path / "fmn-vae-z2-b7").mkdir()  # no config
    (tmp_path / "other-vae-z2-b1").mkdir()
    found = find_series(tmp_path, "fmn-vae-z2")
    assert [m.beta for m in found] == [0, 0.3, 1, 10]
    assert found[1].name == "fmn-vae-z2-b0.3"
    assert find_series(tmp_path / "nowhere", "fmn-vae-z2") == []


def test_the_prior_mean_norm():
    assert prior_mean_norm(2) == pytest.approx(math.sqrt(math.pi / 2))
    z = np.random.default_rng(0).normal(size=(200_000, 5))
    mean = np.linalg.norm(z, axis=1).mean()
    assert prior_mean_norm(5) == pytest.approx(mean, rel=5e-3)


def test_the_readings():
    far = SPREAD * prior_mean_norm(2) * 1.01
    assert reading(0, 2, 0.0) == "collapsed"
    assert reading(1, 2, 0.5) == "partial"
    assert reading(2, 2, far) == "gaps"
    assert reading(2, 2, 1.0) == "balanced"


def test_a_member_is_measured_on_its_last_frame(tmp_path):
    mu = blob(1, scale=2.0)
    lv = np.full((N, 2), np.log(0.3**2))
    f = member(tmp_path, 1, mu, lv, recon=240.0, kl=7.5)
    row = measure(1.0, read_snapshots(f))
    assert (row.recon, row.kl, row.dims) == (240.0, 7.5, 2)
    assert row.active_units == 2 and row.reading == "balanced"
    assert row.mean_sigma == pytest.approx(0.3, rel=1e-5)
    norm = np.linalg.norm(mu, axis=1).mean()
    assert row.mean_norm_mu == pytest.approx(norm, rel=1e-5)
    # a collapsed member: the means do not vary, σ = 1
    g = member(tmp_path, 100, np.full((N, 2), 1e-3), np.zeros((N, 2)))
    row = measure(100.0, read_snapshots(g))
    assert row.active_units == 0 and row.reading == "collapsed"
    assert row.mean_sigma == pytest.approx(1.0)


def test_each_map_is_turned_onto_beta_ones_keeping_its_scale(tmp_path):
    ref = blob(2)
    lv = np.zeros((N, 2))
    turn = np.array([[0.0, -1.0], [1.0, 0.0]])  # 90 degrees
    mirror = np.array([[1.0, 0.0], [0.0, -1.0]])
    member(tmp_path, 0, 10 * ref @ turn, lv)  # spread ten times wider, turned
    member(tmp_path, 1, ref, lv)
    member(tmp_path, 3, ref @ mirror, lv)
    member(tmp_path, 100, np.zeros((N, 2)), lv)  # collapsed: nothing to turn
    series = read_series(find_series(tmp_path, "fmn-vae-z2"))
    assert series.reference == 1 and [m.beta for m in series.members] == [0, 1, 3, 100]
    np.testing.assert_allclose(series.positions[0], 10 * ref, atol=1e-5)
    np.testing.assert_allclose(series.positions[1], ref, atol=1e-5)
    np.testing.assert_allclose(series.positions[2], ref, atol=1e-5)
    np.testing.assert_allclose(series.positions[3], 0, atol=1e-6)
    assert [r.reading for r in series.rows][-1] == "collapsed"
    np.testing.assert_array_equal(series.labels, np.arange(N) % 3)


def test_members_of_another_sample_are_left_out(tmp_path):
    lv = np.zeros((N, 2))
    member(tmp_path, 0, blob(), lv)
    member(tmp_path, 1, blob(), lv, index=np.arange(N) + 1)
    assert read_series(find_series(tmp_path, "fmn-vae-z2")) is None


# --- the shipped series ------------------------------------------------------------


def _shipped():
    from explorer.fileio import weights_dir

    return find_series(weights_dir(), "fashion-mnist-vae-z2")


def test_the_shipped_series_runs_from_an_aes_gaps_to_collapse_within_30_mb():
    members = _shipped()
    betas = [m.beta for m in members]
    assert len(members) >= 7 and betas[0] == 0 and 1 in betas
    size = sum(f.stat().st_size for m in members for f in m.folder.rglob("*"))
    assert size <= 30 * 2**20, size
    configs = {json.dumps({**json.loads((m.folder / "config.json").read_text()),
                           "beta": 0}) for m in members}  # fmt: skip
    assert len(configs) == 1  # the same net for every β


def test_the_shipped_series_kl_falls_and_reconstruction_rises_with_beta():
    """Recomputed here from the weights on 1,000 bundled test images, with
    the same ε for every model: not read from any file of metrics."""
    import torch.nn.functional as F

    from explorer.data.load import load_dataset
    from explorer.model.checkpoint import load_checkpoint

    ds = load_dataset("fashion-mnist", "test")
    x = torch.from_numpy(ds.images[:1000]).float() / 255
    eps = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    kls, recons, variances = [], [], []
    for m in _shipped():
        model = load_checkpoint(m.folder)
        with torch.no_grad():
            enc = model.encode(x)
            mu, lv = enc.mean.double(), enc.logvar.double()
            z = (mu + torch.exp(0.5 * lv) * eps).float()
            logits = model.decode_logits(z)
            recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kls.append(float(0.5 * (lv.exp() - 1 - lv + mu**2).sum(1).mean()))
        recons.append(float(recon) / len(x))
        variances.append(mu.var(0).numpy())
    assert all(a > b for a, b in zip(kls, kls[1:], strict=False)), kls
    assert all(a < b for a, b in zip(recons, recons[1:], strict=False)), recons
    assert np.all(variances[0] > 0.01)  # β = 0: both dimensions active
    assert np.all(variances[-1] < 0.01)  # the last β: none (collapsed)
    assert kls[-1] < 0.05
