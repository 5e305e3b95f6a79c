"""The model config: everything needed to rebuild a model (``config.json``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

LIKELIHOODS = ("bernoulli", "gaussian")
ARCHS = ("mlp", "conv")
MODEL_TYPES = ("ae", "vae", "cvae")  # the keys of ``autoencoder.MODELS``


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model; stored as ``config.json``.

    Attributes:
        model_type: one of ``MODEL_TYPES``: ``ae``, ``vae`` or ``cvae``.
        latent_dim: size D of z.
        image_shape: ``(C, H, W)``; pixels are in [0, 1].
        hidden: widths of the encoder's dense hidden layers (the decoder
            mirrors them); for ``conv``, between the convolutions and the code.
        arch: ``mlp`` (dense layers on the pixels) or ``conv`` (strided 4x4
            convolutions, then the dense layers; see ``nets.ConvTrunk``).
        channels: the convolutions' output channels (``conv`` only).
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
    arch: str = "mlp"
    channels: tuple[int, ...] = (32, 32, 64, 64)
    likelihood: str = "bernoulli"
    gaussian_sigma: float = 0.1
    beta: float = 1.0
    num_classes: int = 10
    dataset: str = ""
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.image_shape = tuple(int(v) for v in self.image_shape)  # type: ignore[assignment]
        self.hidden = tuple(int(v) for v in self.hidden)
        self.channels = tuple(int(v) for v in self.channels)
        self.class_names = tuple(str(c) for c in self.class_names)
        problems = []
        if self.model_type not in MODEL_TYPES:
            problems.append(
                f"model_type {self.model_type!r} is not one of {sorted(MODEL_TYPES)}"
            )
        if not (isinstance(self.latent_dim, int) and self.latent_dim >= 1):
            problems.append(
                f"latent_dim must be a positive integer, not {self.latent_dim!r}"
            )
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            problems.append(f"image_shape must be (C, H, W), not {self.image_shape!r}")
        if not self.hidden or min(self.hidden) < 1:
            problems.append(f"hidden must be positive widths, not {self.hidden!r}")
        if self.arch not in ARCHS:
            problems.append(f"arch {self.arch!r} is not one of {ARCHS}")
        if self.arch == "conv" and (
            not self.channels
            or min(self.channels) < 1
            or min(self.image_shape[1:], default=0) < 8
        ):
            problems.append(
                "a conv model needs positive channels and images of 8 pixels or "
                f"more a side (channels {self.channels!r}, images {self.image_shape})"
            )
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
    def default_name(self) -> str:
        """``<dataset>-<kind>-z<D>``, with ``conv-`` before the kind of a conv
        model: the folder ``train`` writes to unless told otherwise."""
        conv = "conv-" if self.arch == "conv" else ""
        return f"{self.dataset}-{conv}{self.model_type}-z{self.latent_dim}".lstrip("-")

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
