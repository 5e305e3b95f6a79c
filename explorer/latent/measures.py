"""Per-image measures (reconstruction error, KL, loss), per-dimension KL and
active units, and traversals along a direction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.model.config import ModelConfig
from explorer.model.loss import kl_divergence, reconstruction_nll
from explorer.model.protocol import Encoding, LatentModel, batched


@dataclass(frozen=True)
class Measure:
    """The labels of a per-image measure, wherever it is shown.

    Attributes:
        name: a short name (the map's colour choices).
        title: the map's colour-bar title.
        text: what it is, with its unit.
    """

    name: str
    title: str
    text: str


MEASURES = {
    "loss": Measure(
        "loss (reconstruction + β·KL)",
        "loss",
        "loss: reconstruction error + beta * KL (nats)",
    ),
    "recon": Measure(
        "reconstruction error",
        "recon error",
        "reconstruction error (-log p(x|z) at the mean, nats; the squared "
        "error for a model the explorer did not train)",
    ),
    "kl": Measure("KL to the prior", "KL", "KL(q(z|x) || p(z)) (nats)"),
}


@torch.inference_mode()
def batch_measures(
    model: LatentModel, x: torch.Tensor, y: torch.Tensor | None, enc: Encoding
) -> dict[str, torch.Tensor]:
    """Per-image ``recon``, ``kl`` (a VAE only) and ``loss`` of one batch ``x``
    whose encoding ``enc`` is given (see ``image_measures``)."""
    cfg = getattr(model, "config", None)
    if isinstance(cfg, ModelConfig):  # the explorer's own: its likelihood and beta
        recon = reconstruction_nll(model.decode_logits(enc.mean, y), x, cfg)
        beta = cfg.beta
    else:  # another model's likelihood is unknown: its squared error
        recon = (model.decode(enc.mean, y) - x).pow(2).flatten(1).sum(1)
        beta = 1.0
    out = {"recon": recon}
    if enc.logvar is not None:
        out["kl"] = kl_divergence(enc.mean, enc.logvar)
        out["loss"] = out["recon"] + beta * out["kl"]
    else:
        out["loss"] = out["recon"]
    return out


def image_measures(
    model: LatentModel,
    x: torch.Tensor,
    y: torch.Tensor | None,
    batch_size: int = 5000,
) -> dict[str, np.ndarray]:
    """Per-image ``recon``, ``kl`` and ``loss`` ``[N]`` (float32).

    ``recon`` is -log p(x|z) with z the posterior mean (deterministic, so the
    ranking is stable); ``kl`` is the closed-form KL to the prior (absent for
    an AE); ``loss`` is recon + beta * kl, the model's training objective at
    the mean.
    """
    parts: dict[str, list[torch.Tensor]] = {}
    for _, xb, yb in batched(model, x, y, batch_size):
        for k, v in batch_measures(model, xb, yb, model.encode(xb, yb)).items():
            parts.setdefault(k, []).append(v)
    return {k: torch.cat(v).float().numpy() for k, v in parts.items()}


def most_unusual(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values, largest first."""
    k = min(k, len(values))
    top = np.argpartition(-values, k - 1)[:k]
    return top[np.argsort(-values[top], kind="stable")]


# --- dimensions ------------------------------------------------------------------

ACTIVE_THRESHOLD = 0.01  # the usual active-unit cut (Burda et al. 2015, Sec. 5.2)


@dataclass(frozen=True)
class DimensionReport:
    """Per latent dimension: mean KL to the prior over the data, the variance
    of the posterior means across the data, and whether it is active."""

    kl: np.ndarray
    mean_var: np.ndarray
    active: np.ndarray

    @property
    def order(self) -> np.ndarray:
        """Dimensions by KL, largest first."""
        return np.argsort(-self.kl, kind="stable")


def dimension_report(mean: np.ndarray, logvar: np.ndarray) -> DimensionReport:
    """KL per dimension, ``1/2 E_x[exp(lv) - (1 + lv) + mu^2]``, and active
    units (variance of the means above ``ACTIVE_THRESHOLD``)."""
    kl = 0.5 * (np.exp(logvar) - (1 + logvar) + mean**2).mean(0)
    var = mean.var(0)
    return DimensionReport(kl, var, var > ACTIVE_THRESHOLD)


def traversal(z: np.ndarray, direction: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``z`` moved to each coordinate ``values`` along a unit ``direction``
    (the rest of ``z`` kept): ``[len(values), D]``."""
    direction = np.asarray(direction, dtype=np.float64)
    here = float(z @ direction)
    return z + (np.asarray(values)[:, None] - here) * direction
