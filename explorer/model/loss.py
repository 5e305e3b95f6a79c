"""The loss: reconstruction -log p(x|z), closed-form KL, the negative ELBO."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from explorer.model.autoencoder import ModelOutput
from explorer.model.config import ModelConfig


@dataclass
class LossTerms:
    """Batch means, in nats per image: ``total = recon + beta * kl``."""

    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) per image, ``[B, D] -> [B]``."""
    # Closed form: Kingma & Welling 2013, Appendix B.
    return 0.5 * (logvar.exp() - (1.0 + logvar) + mean.pow(2)).sum(dim=1)


def reconstruction_nll(
    logits: torch.Tensor, x: torch.Tensor, config: ModelConfig
) -> torch.Tensor:
    """-log p(x|z) per image in nats, ``[B, C, H, W] -> [B]``."""
    if config.likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        return nll.flatten(1).sum(1)
    sigma = config.gaussian_sigma
    sq = (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)
    return sq / (2 * sigma**2) + config.n_pixels * math.log(
        sigma * math.sqrt(2 * math.pi)
    )


def loss_terms(out: ModelOutput, x: torch.Tensor, config: ModelConfig) -> LossTerms:
    """Negative ELBO (beta-weighted) of a batch: recon + beta * KL, batch means."""
    recon = reconstruction_nll(out.logits, x, config).mean()
    if out.logvar is None:
        kl = torch.zeros((), dtype=recon.dtype, device=recon.device)
    else:
        kl = kl_divergence(out.mean, out.logvar).mean()
    return LossTerms(recon + config.beta * kl, recon, kl)
