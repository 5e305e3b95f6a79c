"""AE, VAE and conditional VAE with MLP encoder and decoder, and their loss."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model; stored as ``config.json``.

    Attributes:
        model_type: a key of ``MODELS``: ``ae``, ``vae`` or ``cvae``.
        latent_dim: size D of z.
        image_shape: ``(C, H, W)``; pixels are in [0, 1].
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
        likelihood: ``bernoulli`` (logits + BCE on grey levels) or ``gaussian``
            (fixed ``gaussian_sigma``; the loss is a scaled MSE).
        gaussian_sigma: the Gaussian decoder's standard deviation.
        beta: weight of the KL term (beta-VAE); 1 is the ELBO.
        num_classes: labels the CVAE is conditioned on (ignored otherwise).
        dataset: the name of the dataset the model was trained on.
        class_names: one name per label.
    """

    model_type: str = "vae"
    latent_dim: int = 2
    image_shape: tuple[int, int, int] = (1, 28, 28)
    hidden: tuple[int, ...] = (512, 256)
    likelihood: str = "bernoulli"
    gaussian_sigma: float = 0.1
    beta: float = 1.0
    num_classes: int = 10
    dataset: str = ""
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.image_shape = tuple(int(v) for v in self.image_shape)  # type: ignore[assignment]
        self.hidden = tuple(int(v) for v in self.hidden)
        self.class_names = tuple(str(c) for c in self.class_names)
        problems = []
        if self.model_type not in MODELS:
            problems.append(
                f"model_type {self.model_type!r} is not one of {sorted(MODELS)}"
            )
        if not (isinstance(self.latent_dim, int) and self.latent_dim >= 1):
            problems.append(
                f"latent_dim must be a positive integer, not {self.latent_dim!r}"
            )
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            problems.append(f"image_shape must be (C, H, W), not {self.image_shape!r}")
        if not self.hidden or min(self.hidden) < 1:
            problems.append(f"hidden must be positive widths, not {self.hidden!r}")
        if self.likelihood not in LIKELIHOODS:
            problems.append(
                f"likelihood {self.likelihood!r} is not one of {LIKELIHOODS}"
            )
        if not self.gaussian_sigma > 0 or not self.beta >= 0:
            problems.append("gaussian_sigma must be > 0 and beta >= 0")
        if self.model_type == "cvae" and self.num_classes < 2:
            problems.append("a cvae needs num_classes >= 2")
        if (
            self.class_names
            and self.model_type == "cvae"
            and len(self.class_names) != self.num_classes
        ):
            problems.append(
                f"{len(self.class_names)} class_names for "
                f"num_classes={self.num_classes}"
            )
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def conditional(self) -> bool:
        return self.model_type == "cvae"

    @property
    def variational(self) -> bool:
        return self.model_type in ("vae", "cvae")

    @property
    def n_pixels(self) -> int:
        return math.prod(self.image_shape)

    def to_dict(self) -> dict:
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}")
        return cls(**d)


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


@dataclass
class LossTerms:
    """Batch means, in nats per image: ``total = recon + beta * kl``."""

    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


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


# --- loss ----------------------------------------------------------------------


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
