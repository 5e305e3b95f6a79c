"""AE, VAE and conditional VAE, with MLP or convolutional encoder and decoder."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from explorer.model.config import ModelConfig
from explorer.model.nets import ConvHead, ConvTrunk, mlp
from explorer.model.protocol import Encoding


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
    """Deterministic autoencoder: z = encoder(x). Implements ``LatentModel``."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.path = None  # the checkpoint folder it was loaded from, if any
        self.metrics = None  # its metrics.json, if any
        cond = config.num_classes if config.conditional else 0
        out = config.latent_dim * (2 if config.variational else 1)
        if config.arch == "conv":
            trunk = ConvTrunk(config.image_shape, config.channels)
            self.trunk: nn.Module = trunk
            self.head: nn.Module = ConvHead(trunk, config.image_shape[0])
            features = trunk.features
        else:  # the pixels, flattened (no parameters: MLP checkpoints load as ever)
            self.trunk = nn.Flatten()
            self.head = nn.Unflatten(1, config.image_shape)
            features = config.n_pixels
        self.encoder = mlp([features + cond, *config.hidden, out])
        self.decoder = mlp(
            [config.latent_dim + cond, *reversed(config.hidden), features]
        )

    @property
    def exportable(self) -> bool:
        """An MLP decoder runs in the browser (``model.export``); a conv one not."""
        return self.config.arch == "mlp"

    @property
    def name(self) -> str:
        """The checkpoint folder's name, else the config's default name."""
        return self.path.name if self.path is not None else self.config.default_name

    @property
    def kind(self) -> str:
        return self.config.model_type

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.config.image_shape

    @property
    def num_classes(self) -> int | None:
        return self.config.num_classes if self.config.conditional else None

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
        h = self.encoder(self._with_label(self.trunk(x), y))  # [B, D] or [B, 2D]
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
        return self.head(self.decoder(self._with_label(z, y)))

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
