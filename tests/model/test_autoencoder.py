"""Models: shapes, determinism, the KL term, gradients through the sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from explorer.model.autoencoder import MODELS, build_model
from explorer.model.config import MODEL_TYPES, ModelConfig
from explorer.model.loss import kl_divergence as closed_form_kl
from explorer.model.loss import loss_terms, reconstruction_nll
from explorer.model.protocol import batched


def make(model_type="vae", latent_dim=2, **kw):
    kw.setdefault("image_shape", (1, 8, 8))
    kw.setdefault("hidden", (32, 16))
    kw.setdefault("num_classes", 3)
    torch.manual_seed(0)
    return build_model(ModelConfig(model_type=model_type, latent_dim=latent_dim, **kw))


@pytest.mark.parametrize("model_type", ["ae", "vae", "cvae"])
@pytest.mark.parametrize("latent_dim", [1, 2, 16])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 5, 7)])
def test_shapes_and_ranges(model_type, latent_dim, shape):
    model = make(model_type, latent_dim, image_shape=shape)
    x = torch.rand(4, *shape)
    y = torch.tensor([0, 1, 2, 0])
    enc = model.encode(x, y)
    assert enc.mean.shape == (4, latent_dim)
    assert (enc.logvar is None) == (model_type == "ae")
    if enc.logvar is not None:
        assert enc.logvar.shape == (4, latent_dim)
    img = model.decode(torch.randn(4, latent_dim), y)
    assert img.shape == (4, *shape) and img.min() >= 0 and img.max() <= 1
    out = model(x, y)
    assert out.logits.shape == (4, *shape) and out.z.shape == (4, latent_dim)


def test_sampling_is_reproducible_with_a_generator_and_mean_without_sampling():
    model = make("vae")
    x = torch.rand(5, 1, 8, 8)
    a = model(x, generator=torch.Generator().manual_seed(3))
    b = model(x, generator=torch.Generator().manual_seed(3))
    c = model(x, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a.z, b.z) and not torch.equal(a.z, c.z)
    assert torch.equal(model(x, sample=False).z, model.encode(x).mean)
    ae = make("ae")
    assert torch.equal(ae(x).z, ae.encode(x).mean)


def test_same_seed_builds_the_same_weights():
    a, b = make("cvae"), make("cvae")
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(v, w), k


def test_cvae_needs_labels_and_uses_them():
    model = make("cvae")
    z = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="needs the labels"):
        model.decode(z)
    assert not torch.allclose(
        model.decode(z, torch.tensor([0, 0])), model.decode(z, torch.tensor([1, 1]))
    )


def test_closed_form_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(6, 5, generator=g) * 2
    logvar = torch.randn(6, 5, generator=g)
    q = Independent(Normal(mean, torch.exp(0.5 * logvar)), 1)
    p = Independent(Normal(torch.zeros(5), torch.ones(5)), 1)
    torch.testing.assert_close(closed_form_kl(mean, logvar), kl_divergence(q, p))


def test_closed_form_kl_matches_monte_carlo():
    g = torch.Generator().manual_seed(1)
    mean = torch.tensor([[0.5, -1.0, 2.0]])
    logvar = torch.tensor([[-1.0, 0.3, 0.0]])
    std = torch.exp(0.5 * logvar)
    z = mean + std * torch.randn(400_000, 3, generator=g)
    log_q = Normal(mean, std).log_prob(z).sum(1)
    log_p = Normal(0.0, 1.0).log_prob(z).sum(1)
    mc = (log_q - log_p).mean()
    exact = closed_form_kl(mean, logvar)[0]
    assert abs(float(mc - exact)) < 0.02 * float(exact)
    assert float(closed_form_kl(torch.zeros(1, 3), torch.zeros(1, 3))[0]) == 0.0


def test_gradient_flows_through_reparameterization():
    model = make("vae")
    x = torch.rand(8, 1, 8, 8)
    out = model(x, generator=torch.Generator().manual_seed(0))
    # Reconstruction alone must reach the encoder, through both mean and logvar.
    reconstruction_nll(out.logits, x, model.config).mean().backward()
    enc_grad = model.encoder[-1].weight.grad
    d = model.config.latent_dim
    assert enc_grad[:d].abs().sum() > 0 and enc_grad[d:].abs().sum() > 0

    mean = torch.zeros(1, 2, requires_grad=True)
    logvar = torch.zeros(1, 2, requires_grad=True)
    from explorer.model.autoencoder import Encoding

    g = torch.Generator().manual_seed(7)
    z = model.reparameterize(Encoding(mean, logvar), generator=g)
    z.sum().backward()
    eps = torch.randn(1, 2, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(mean.grad, torch.ones(1, 2))
    torch.testing.assert_close(logvar.grad, 0.5 * eps)


def test_bernoulli_nll_matches_torch_distribution_on_binary_pixels():
    cfg = ModelConfig(model_type="vae", image_shape=(1, 4, 4))
    logits = torch.randn(3, 1, 4, 4)
    x = (torch.rand(3, 1, 4, 4) > 0.5).float()
    expected = -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(reconstruction_nll(logits, x, cfg), expected)


def test_gaussian_nll_is_a_proper_log_density():
    cfg = ModelConfig(
        model_type="vae",
        image_shape=(1, 4, 4),
        likelihood="gaussian",
        gaussian_sigma=0.2,
    )
    logits = torch.randn(3, 1, 4, 4)
    x = torch.rand(3, 1, 4, 4)
    expected = -Normal(torch.sigmoid(logits), 0.2).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(reconstruction_nll(logits, x, cfg), expected)


def test_loss_terms_beta_weights_the_kl():
    x = torch.rand(4, 1, 8, 8)
    for beta in (0.0, 1.0, 4.0):
        model = make("vae", beta=beta)
        t = loss_terms(
            model(x, generator=torch.Generator().manual_seed(0)), x, model.config
        )
        torch.testing.assert_close(t.total, t.recon + beta * t.kl)
        assert t.kl > 0
    ae = make("ae")
    t = loss_terms(ae(x), x, ae.config)
    assert float(t.kl) == 0.0 and torch.equal(t.total, t.recon)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"model_type": "gan"}, "model_type 'gan'"),
        ({"latent_dim": 0}, "latent_dim must be a positive integer"),
        ({"likelihood": "poisson"}, "likelihood 'poisson'"),
        ({"hidden": ()}, "hidden must be positive"),
        ({"image_shape": (28, 28)}, "image_shape must be"),
        ({"model_type": "cvae", "num_classes": 1}, "needs num_classes >= 2"),
    ],
)
def test_config_validation(kw, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**kw)


def test_config_round_trip_and_unknown_keys():
    cfg = ModelConfig(
        model_type="cvae", latent_dim=3, class_names=("a", "b"), num_classes=2
    )
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match=r"unknown config keys \['colour'\]"):
        ModelConfig.from_dict({**cfg.to_dict(), "colour": "red"})


def test_kl_formula_constant():
    # 1/2 * (e^1 - 2 + 0) for one dimension with logvar = 1, mean = 0.
    v = closed_form_kl(torch.zeros(1, 1), torch.ones(1, 1))
    assert math.isclose(float(v), 0.5 * (math.e - 2), rel_tol=1e-6)


def test_the_registry_and_the_config_name_the_same_kinds():
    assert tuple(MODELS) == MODEL_TYPES
    with pytest.raises(ValueError, match=r"not one of \['ae', 'cvae', 'vae'\]"):
        ModelConfig(model_type="gan")


@pytest.mark.parametrize("model_type", ["ae", "cvae"])
def test_batched_covers_every_row_once_and_passes_labels_to_a_cvae_only(model_type):
    model = make(model_type)
    x = np.arange(23 * 2).reshape(23, 2)  # an array, as a store's memory map
    y = np.arange(23) % 3
    rows, xs, ys = zip(*batched(model, x, y, 5), strict=True)
    assert [(r.start, r.stop) for r in rows] == [
        (0, 5),
        (5, 10),
        (10, 15),
        (15, 20),
        (20, 23),
    ]
    np.testing.assert_array_equal(np.concatenate(xs), x)
    if model_type == "cvae":
        np.testing.assert_array_equal(np.concatenate(ys), y)
    else:
        assert ys == (None,) * 5
    assert list(batched(model, x[:0], y[:0], 5)) == []


@pytest.mark.parametrize("model_type", ["ae", "vae", "cvae"])
@pytest.mark.parametrize(
    "shape", [(1, 28, 28), (3, 28, 28), (1, 32, 32), (3, 64, 64), (3, 128, 128)]
)
def test_conv_shapes_for_every_supported_size(model_type, shape):
    model = make(model_type, 3, image_shape=shape, arch="conv", channels=(4, 4, 8, 8))
    x = torch.rand(2, *shape)
    y = torch.tensor([0, 2])
    out = model(x, y)
    assert out.logits.shape == x.shape
    assert out.z.shape == (2, 3)
    assert (out.logvar is None) == (model_type == "ae")
    assert model.decode(out.mean, y).shape == x.shape
    # halving 4x4 convolutions, as many as keep a side of 3 (at most 4 here)
    sides = model.trunk.hs
    assert sides[0] == shape[1] and sides[-1] >= 3
    assert sides[-1] // 2 < 3 or len(sides) == 5
    assert not model.exportable


def test_a_config_written_before_the_conv_arch_loads_as_an_mlp():
    old = {
        "model_type": "vae",
        "latent_dim": 2,
        "image_shape": [1, 8, 8],
        "hidden": [16],
        "likelihood": "bernoulli",
        "gaussian_sigma": 0.1,
        "beta": 1.0,
        "num_classes": 10,
        "dataset": "tiny",
        "class_names": [],
    }
    cfg = ModelConfig.from_dict(old)
    assert cfg.arch == "mlp"
    model = build_model(cfg)
    assert model.exportable and model.name == "tiny-vae-z2"
    assert not any(k.startswith(("trunk.", "head.")) for k in model.state_dict())


def test_conv_config_checks():
    with pytest.raises(ValueError, match="arch 'rnn' is not one of"):
        ModelConfig(arch="rnn")
    with pytest.raises(ValueError, match="8 pixels or more a side"):
        ModelConfig(arch="conv", image_shape=(1, 6, 6))
    cfg = ModelConfig(arch="conv", dataset="pets", model_type="vae", latent_dim=16)
    assert cfg.default_name == "pets-conv-vae-z16"
