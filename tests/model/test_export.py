"""The decoder export for the browser: the bytes decode as the model does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.model.autoencoder import build_model
from explorer.model.config import ModelConfig
from explorer.model.export import decode, export_decoder, read_decoder


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
