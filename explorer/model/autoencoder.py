"""AE, VAE and conditional VAE with MLP encoder and decoder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from explorer.model.config import ModelConfig
from explorer.model.nets import mlp


@dataclass
class Encoding:
    """The encoder's output.

    Attributes:
        mean: ``[B, D]``: the code (AE) or the posterior mean (VAE).
        logvar: ``[B, D]`` log-variance of q(z|x), or None for an AE.
    """

    mean: torch.Tensor
    logvar: torch.Tensor | None = None


@dataclass
class ModelOutput:
    """One forward pass.

    Attributes:
        logits: ``[B, C, H, W]`` decoder output before the sigmoid.
        z: ``[B, D]`` the code the decoder saw.
        mean: ``[B, D]``, logvar: ``[B, D]`` or None: the encoding.
    """

    logits: torch.Tensor
    z: torch.Tensor
    mean: torch.Tensor
    logvar: torch.Tensor | None


class Autoencoder(nn.Module):
    """Deterministic autoencoder: z = encoder(x)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        cond = config.num_classes if config.conditional else 0
        out = config.latent_dim * (2 if config.variational else 1)
        self.encoder = mlp([config.n_pixels + cond, *config.hidden, out])
        self.decoder = mlp(
            [config.latent_dim + cond, *reversed(config.hidden), config.n_pixels]
        )

    def _with_label(self, h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if not self.config.conditional:
            return h
        if y is None:
            raise ValueError("a cvae needs the labels y")
        return torch.cat(
            [h, F.one_hot(y.long(), self.config.num_classes).to(h.dtype)], 1
        )

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Encoding:
        """Encodes images ``x`` ``[B, C, H, W]`` in [0, 1]; a cvae also needs ``y``."""
        h = self.encoder(self._with_label(x.flatten(1), y))  # [B, D] or [B, 2D]
        if not self.config.variational:
            return Encoding(h)
        mean, logvar = h.chunk(2, dim=1)
        return Encoding(mean, logvar)

    def reparameterize(
        self,
        enc: Encoding,
        sample: bool = True,
        generator: torch.Generator | None = None,
        eps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """z = mu + sigma * eps (Kingma & Welling 2013, Sec. 2.4), or mu.

        ``eps`` ~ N(0, I) is drawn from ``generator`` unless given (distributed
        training hands each process its rows of one batch-wide draw).
        """
        if enc.logvar is None or not sample:
            return enc.mean
        if eps is None:
            eps = torch.randn(
                enc.mean.shape, generator=generator, dtype=enc.mean.dtype
            ).to(enc.mean.device)
        return enc.mean + torch.exp(0.5 * enc.logvar) * eps

    def decode_logits(
        self, z: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Decodes ``z`` ``[B, D]`` to logits ``[B, C, H, W]``."""
        return self.decoder(self._with_label(z, y)).view(-1, *self.config.image_shape)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Decodes ``z`` ``[B, D]`` to images ``[B, C, H, W]`` in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        sample: bool = True,
        generator: torch.Generator | None = None,
        eps: torch.Tensor | None = None,
    ) -> ModelOutput:
        enc = self.encode(x, y)
        z = self.reparameterize(enc, sample, generator, eps)
        return ModelOutput(self.decode_logits(z, y), z, enc.mean, enc.logvar)


class VAE(Autoencoder):
    """VAE: the encoder gives q(z|x) = N(mean, exp(logvar)), prior N(0, I)."""


class ConditionalVAE(VAE):
    """CVAE (Sohn et al. 2015): encoder and decoder also see the one-hot label."""


MODELS: dict[str, type[Autoencoder]] = {
    "ae": Autoencoder,
    "vae": VAE,
    "cvae": ConditionalVAE,
}


def build_model(config: ModelConfig) -> Autoencoder:
    return MODELS[config.model_type](config)


def batched(
    model: Autoencoder, x, y, batch_size: int
) -> Iterator[tuple[slice, object, object]]:
    """The one batching loop of inference: ``(rows, x[rows], y[rows])`` for
    consecutive chunks of at most ``batch_size`` images. ``x`` and ``y`` may be
    tensors or arrays (a store's memory map); ``y`` is passed on only to a
    conditional model, so the others ignore labels they do not use.
    """
    for i in range(0, len(x), batch_size):
        rows = slice(i, min(i + batch_size, len(x)))
        yield rows, x[rows], (y[rows] if model.config.conditional else None)
