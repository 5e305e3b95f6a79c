"""The decoder export for the browser: the bytes decode as the model does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.model.autoencoder import build_model
from explorer.model.config import ModelConfig
from explorer.model.export import (
    GREY,
    decode,
    export_decoder,
    grey_error,
    half_layers,
    read_decoder,
)


@pytest.mark.parametrize("model_type", ["ae", "vae", "cvae"])
def test_exported_decoder_matches_the_model(model_type):
    torch.manual_seed(0)
    cfg = ModelConfig(
        model_type=model_type, latent_dim=3, image_shape=(1, 6, 5), hidden=(16, 8),
        num_classes=4,
    )  # fmt: skip
    model = build_model(cfg).eval()
    data = export_decoder(model)
    header, layers = read_decoder(data)
    assert header["latent_dim"] == 3 and header["image_shape"] == [1, 6, 5]
    assert header["cond_dim"] == (4 if model_type == "cvae" else 0)
    assert [w.shape for w, _ in layers] == [
        (8, 3 + header["cond_dim"]),
        (16, 8),
        (30, 16),
    ]
    z = np.array([0.3, -1.2, 2.0])
    label = 2 if model_type == "cvae" else None
    y = torch.tensor([label]) if label is not None else None
    with torch.no_grad():
        expected = model.decode(torch.tensor(z[None], dtype=torch.float32), y)[0]
    expected = (expected.numpy() * 255 + 0.5).astype(int)
    assert np.abs(decode(data, z, label).astype(int) - expected).max() <= 1


def test_corrupt_export_is_refused():
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(1, 4, 4), hidden=(4,)))
    data = export_decoder(model)
    with pytest.raises(ValueError, match="not an exported decoder"):
        read_decoder(b"XXXX" + data[4:])
    with pytest.raises(ValueError, match="stray bytes"):
        read_decoder(data + b"\0\0\0\0")


def test_a_conv_decoder_is_not_exported():
    model = build_model(
        ModelConfig(image_shape=(1, 16, 16), hidden=(4,), arch="conv", channels=(4,))
    )
    assert not model.exportable
    with pytest.raises(ValueError, match="only an MLP decoder can be exported"):
        export_decoder(model)


def _pixels(data: bytes, z: np.ndarray, labels=None) -> np.ndarray:
    """The exported bytes' decodes of ``z`` ``[N, D]``, in [0, 1] (float64)."""
    header, layers = read_decoder(data)
    h = np.asarray(z, np.float64)
    if header["cond_dim"]:
        h = np.concatenate([h, np.eye(header["cond_dim"])[labels]], 1)
    for i, (w, b) in enumerate(layers):
        h = h @ w.T.astype(np.float64) + b
        h = np.maximum(h, 0) if i < len(layers) - 1 else h
    return 1 / (1 + np.exp(-h))


def _fragile_model():
    """A decoder whose last layer float16 cannot hold: two copies of one
    hidden unit weighted 1000.3 and -1000 (float16 rounds the first by 0.2,
    float32 keeps the difference)."""
    torch.manual_seed(0)
    cfg = ModelConfig(latent_dim=2, image_shape=(1, 5, 6), hidden=(64, 16))
    model = build_model(cfg).eval()
    *_, hidden, last = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        hidden.weight[1] = hidden.weight[0]
        hidden.bias[:2] = 1.0  # alive everywhere
        last.weight[:, 0] = 1000.3
        last.weight[:, 1] = -1000.0
    return model


def test_half_precision_only_where_the_decode_keeps_its_grey_levels():
    model = _fragile_model()
    rng = np.random.default_rng(0)
    z = rng.uniform(-2, 2, (400, 2)).astype(np.float32)
    with torch.no_grad():
        exact = model.decode(torch.from_numpy(z)).reshape(len(z), -1).numpy()
    n = len(read_decoder(export_decoder(model))[1])
    # every layer in float16: more than one grey level off somewhere
    all_half = _pixels(export_decoder(model, [True] * n), z)
    assert np.abs(all_half - exact).max() >= GREY
    half = half_layers(model, z)
    assert half == [True, True, False]  # the fragile layer kept float32
    data = export_decoder(model, half)
    assert np.abs(_pixels(data, z) - exact).max() < GREY  # recomputed here
    assert grey_error(model, half, z) < GREY <= grey_error(model, [True] * n, z)
    assert len(data) < len(export_decoder(model))


@pytest.mark.parametrize("model_type", ["ae", "cvae"])
def test_a_half_export_holds_the_rounded_weights(model_type):
    torch.manual_seed(1)
    cfg = ModelConfig(
        model_type=model_type, latent_dim=3, image_shape=(1, 3, 3), hidden=(7, 5),
        num_classes=4,
    )  # fmt: skip
    model = build_model(cfg).eval()
    half = [True, False, True]  # odd sizes: each array padded to 4 bytes
    header, layers = read_decoder(export_decoder(model, half))
    assert [L["dtype"] for L in header["layers"]] == ["f2", "f4", "f2"]
    linears = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    for (w, b), m, h in zip(layers, linears, half, strict=True):
        want = m.weight.detach().numpy()
        want = want.astype(np.float16).astype(np.float32) if h else want
        np.testing.assert_array_equal(w, want)
        assert b.dtype == np.float32
    with pytest.raises(ValueError, match="precision flags"):
        export_decoder(model, [True])
    data = export_decoder(model, half)
    with pytest.raises(ValueError, match="dtype f8"):
        read_decoder(data.replace(b'"f2"', b'"f8"', 1))
