"""One image's way through a model, every value the computation graph shows,
computed by the model itself (``trace``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.model import loss
from explorer.model.config import ModelConfig


@dataclass
class Trace:
    """The values of one image's pass (one image: the batch of one dropped).

    Attributes:
        x: ``[C, H, W]`` the image in [0, 1].
        encoder_in: the shape of what the encoder's network takes.
        mu: ``[D]`` the posterior mean (an AE: its code, also ``z``).
        logvar, sigma, eps: ``[D]`` each, or None for an AE.
        z: ``[D]`` the code the decoder sees (``mu + sigma * eps``).
        decoder_in: the shape of what the decoder's network takes.
        xhat: ``[C, H, W]`` the decode of ``z`` in [0, 1].
        recon: -log p(x|z) in nats; kl: KL(q(z|x) || N(0, I)) in nats or None.
        exact_recon: the model's own likelihood (the explorer's models), not
            a Bernoulli read of its pixels (a model it did not train).
    """

    x: np.ndarray
    encoder_in: tuple[int, ...]
    mu: np.ndarray
    logvar: np.ndarray | None
    sigma: np.ndarray | None
    eps: np.ndarray | None
    z: np.ndarray
    decoder_in: tuple[int, ...]
    xhat: np.ndarray
    recon: float
    kl: float | None
    exact_recon: bool


def _net_input(model, t: torch.Tensor, y, part: str) -> tuple[int, ...]:
    """The shape the explorer's encoder (``part`` "encoder", after its trunk)
    or decoder takes; another model's: its input's."""
    with_label = getattr(model, "_with_label", None)
    if with_label is None:
        return tuple(t.shape)
    h = model.trunk(t) if part == "encoder" else t
    return tuple(with_label(h, y).shape)


@torch.inference_mode()
def trace(model, image: np.ndarray, label: int | None, seed: int) -> Trace:
    """Runs ``image`` (uint8 ``[C, H, W]``) through ``model``: encode, draw
    ε ~ N(0, I) from ``seed`` (a VAE), z = μ + σ·ε, decode, and the loss's
    terms (``explorer.model.loss``)."""
    x = torch.from_numpy(np.asarray(image, dtype=np.float32)[None] / 255.0)
    y = torch.tensor([label]) if getattr(model, "num_classes", None) else None
    enc = model.encode(x, y)
    mu, logvar = enc.mean.float(), enc.logvar
    sigma = eps = None
    z = mu
    if logvar is not None:
        logvar = logvar.float()
        sigma = torch.exp(0.5 * logvar)
        g = torch.Generator().manual_seed(int(seed))
        eps = torch.randn(mu.shape, generator=g)
        z = mu + sigma * eps
    config = getattr(model, "config", None)
    exact = isinstance(config, ModelConfig) and hasattr(model, "decode_logits")
    if exact:
        logits = model.decode_logits(z, y)
        xhat = torch.sigmoid(logits)
    else:  # a Bernoulli read of the model's pixels
        xhat = model.decode(z, y).float().clamp(0.0, 1.0)
        logits = torch.logit(xhat, eps=1e-6)
        config = ModelConfig(image_shape=tuple(x.shape[1:]))
    recon = loss.reconstruction_nll(logits, x, config)[0].item()
    kl = None if logvar is None else loss.kl_divergence(mu, logvar)[0].item()
    row = lambda t: None if t is None else t[0].double().numpy()  # noqa: E731
    return Trace(
        x=x[0].numpy(),
        encoder_in=_net_input(model, x, y, "encoder"),
        mu=row(mu),
        logvar=row(logvar),
        sigma=row(sigma),
        eps=row(eps),
        z=row(z),
        decoder_in=_net_input(model, z, y, "decoder"),
        xhat=xhat[0].numpy(),
        recon=recon,
        kl=kl,
        exact_recon=exact,
    )
