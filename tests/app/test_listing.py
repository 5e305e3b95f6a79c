"""The computation graph's code listing: each node maps to the line that
computes it in the model's own source (``explorer.app.listing``), for the
explorer's VAE and AE and a user's model seen through its adapter."""

from __future__ import annotations

import torch

from explorer.app.listing import listing, nodes
from explorer.model.adapters import open_model
from explorer.model.autoencoder import build_model
from explorer.model.config import ModelConfig
from tests.helpers import user_conv_vae


def lines_of(model) -> dict[str, str | None]:
    """Each node's code line, stripped (None: no line)."""
    out = listing(model)
    text = out.text_lines
    return {n: None if i is None else text[i].strip() for n, i in out.lines.items()}


def tiny(kind: str):
    return build_model(ModelConfig(model_type=kind, latent_dim=2, hidden=(8,)))


def test_the_vae_maps_each_node_to_its_line():
    got = lines_of(tiny("vae"))
    assert set(got) == set(nodes(tiny("vae")))
    assert got["x"].startswith("def encode(self, x")
    assert got["encoder"].startswith("h = self.encoder(")
    assert got["mu"] == got["logvar"] == "mean, logvar = h.chunk(2, dim=1)"
    assert got["eps"] == "eps = torch.randn("
    # σ has no line of its own: it is computed inside z's
    assert (
        got["z"]
        == got["sigma"]
        == "return enc.mean + torch.exp(0.5 * enc.logvar) * eps"
    )
    assert (
        got["decoder"]
        == got["xhat"]
        == "return torch.sigmoid(self.decode_logits(z, y))"
    )
    assert got["kl"].startswith("return 0.5 * (logvar.exp() - (1.0 + logvar)")
    assert got["recon"].startswith("return ")
    titles = [b.title for b in listing(tiny("vae")).blocks]
    assert titles == ["VAE.encode", "VAE.reparameterize", "VAE.decode",
                      "loss.kl_divergence", "loss.reconstruction_nll"]  # fmt: skip


def test_the_ae_has_no_sigma_eps_or_kl_and_its_z_is_what_encode_returns():
    model = tiny("ae")
    got = lines_of(model)
    assert set(got) == {"x", "encoder", "z", "decoder", "xhat", "recon"}
    assert got["z"] == "return Encoding(h)"  # the AE's return, not the VAE's
    titles = [b.title for b in listing(model).blocks]
    assert titles == ["Autoencoder.encode", "Autoencoder.decode",
                      "loss.reconstruction_nll"]  # fmt: skip


def test_a_users_model_shows_its_own_methods(tmp_path):
    images = torch.rand(4, 1, 16, 16)
    model = open_model(user_conv_vae(tmp_path), images)
    out = listing(model)
    got = lines_of(model)
    assert [b.title for b in out.blocks][:2] == ["ConvVAE.encode", "ConvVAE.decode"]
    assert got["encoder"] == got["mu"] == "mean, logvar = self.enc(x).chunk(2, 1)"
    assert got["logvar"] == got["mu"]
    assert got["decoder"] == got["xhat"] == "return self.dec(z)"
    # it has no reparameterize: σ, ε and z have no line in its code
    assert got["sigma"] is got["eps"] is got["z"] is None


class Terse(torch.nn.Module):
    """A model whose lines name nothing the rules look for."""

    kind = "vae"

    def encode(self, x):
        """Returns the mean and the log-variance."""
        return torch.chunk(x.flatten(1), 2, 1)

    def reparameterize(self, a, b):
        return a

    def decode(self, z):
        return z


def test_a_line_not_found_is_its_functions_def():
    got = lines_of(Terse())
    assert got["mu"] == got["logvar"] == got["encoder"] == "def encode(self, x):"
    assert got["eps"] == got["sigma"] == got["z"] == "def reparameterize(self, a, b):"
    assert got["decoder"] == "def decode(self, z):"
    assert got["xhat"] == "return z"
