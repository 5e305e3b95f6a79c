"""A diffusers ``AutoencoderKL`` or ``AutoencoderTiny`` folder (``save_pretrained``:
``config.json`` + ``diffusion_pytorch_model.safetensors``).

Its spatial latents ``[C, h, w]`` are flattened to D = C*h*w for the map and
reshaped for decoding. Codes are scaled by the config's ``scaling_factor``,
as diffusion pipelines scale them (z = scaling_factor * latent), so the map
shows the space a diffusion model works in; decoding divides it back out.
Pixels are [-1, 1] to the model and clamped to it on the way out, as the
diffusers pipelines do. Weights are read only from safetensors files.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from explorer.fileio import read_json
from explorer.model.adapters.module import ModelContractError
from explorer.model.protocol import Encoding

CLASSES = ("AutoencoderKL", "AutoencoderTiny")
WEIGHTS = "diffusion_pytorch_model.safetensors"


def is_folder(path: Path) -> bool:
    """A folder whose ``config.json`` names one of ``CLASSES``."""
    config = read_json(path / "config.json") if path.is_dir() else None
    return bool(config) and config.get("_class_name") in CLASSES


def load(folder: Path) -> torch.nn.Module:
    """The autoencoder a diffusers folder holds, in eval mode.

    Raises:
        ModelContractError: the package is missing, the weights file is
            missing (a pickled ``.bin`` is not read), or it cannot be loaded.
    """
    try:
        import diffusers
    except ImportError as e:
        raise ModelContractError("install", path=folder, library="diffusers") from e
    name = read_json(folder / "config.json")["_class_name"]
    if not (folder / WEIGHTS).is_file():
        raise ModelContractError("no_weights", path=folder, weights=WEIGHTS)
    try:
        vae = getattr(diffusers, name).from_pretrained(
            folder, use_safetensors=True, local_files_only=True
        )
    except Exception as e:
        reason = f"{name}: {type(e).__name__}: {e}"
        raise ModelContractError(
            "load", path=folder, library="diffusers", reason=reason
        ) from e
    return vae.eval().requires_grad_(False)


def latents(vae: torch.nn.Module, x: torch.Tensor):
    """The raw (unscaled) latents of images ``x`` in [0, 1]: an ``AutoencoderKL``'s
    mean and log-variance, or an ``AutoencoderTiny``'s latents and None."""
    out = vae.encode(x * 2 - 1)
    if type(vae).__name__ == "AutoencoderTiny":
        return out.latents, None
    return out.latent_dist.mean, out.latent_dist.logvar


class DiffusersModel:
    """A diffusers autoencoder seen through ``LatentModel``: an ``AutoencoderKL``
    is a VAE (its latent distribution's mean and log-variance), an
    ``AutoencoderTiny`` an AE (its deterministic latents)."""

    exportable = False
    num_classes = None

    def __init__(self, vae: torch.nn.Module, name: str, image_shape, latent_shape):
        self.vae = vae
        self.name = name
        self.image_shape = tuple(image_shape)
        self.latent_shape = tuple(latent_shape)
        self.latent_dim = math.prod(self.latent_shape)
        self.kind = "ae" if type(vae).__name__ == "AutoencoderTiny" else "vae"
        self.scaling_factor = float(getattr(vae.config, "scaling_factor", 1.0) or 1.0)
        self.note = (
            f"latents scaled by the config's scaling_factor {self.scaling_factor:g}"
        )

    @torch.inference_mode()
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Encoding:
        mean, logvar = latents(self.vae, x)
        s = self.scaling_factor
        mean = (mean * s).reshape(len(x), -1)
        if logvar is not None:  # Var(s * z) = s^2 Var(z)
            logvar = (logvar + 2 * math.log(s)).reshape(len(x), -1)
        return Encoding(mean, logvar)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        latents = z.reshape(len(z), *self.latent_shape) / self.scaling_factor
        out = self.vae.decode(latents).sample
        return (out.clamp(-1, 1) + 1) / 2


def open_folder(folder: Path, images: torch.Tensor) -> DiffusersModel:
    """The adapter of a diffusers folder, its latent shape found by a trial
    encode of one data image."""
    vae = load(folder)
    with torch.inference_mode():
        try:
            mean, _ = latents(vae, images[:1])
        except Exception as e:
            reason = f"{type(e).__name__}: {e}"
            raise ModelContractError(
                "raised", what=f"{folder.name}.encode", reason=reason
            ) from e
    return DiffusersModel(vae, folder.name, images.shape[1:], mean.shape[1:])
