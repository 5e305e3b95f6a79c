"""A pythae model folder (``model.save``: ``model_config.json`` + ``model.pt``,
and ``encoder.pkl`` / ``decoder.pkl`` for custom networks).

Custom networks are cloudpickled: unpickling them runs their code. As
pythae's own hub loader does, they are refused unless the user passes
``allow_pickle`` (``--allow-pickle``). The weights file holds tensors only
and is read by ``torch.load`` with ``weights_only=True`` (PyTorch's default).
"""

from __future__ import annotations

from pathlib import Path

import torch

from explorer.fileio import read_json
from explorer.model.adapters.module import ModelContractError
from explorer.model.protocol import Encoding

CONFIG = "model_config.json"
WEIGHTS = "model.pt"


def is_folder(path: Path) -> bool:
    return (path / CONFIG).is_file() and (path / WEIGHTS).is_file()


def load(folder: Path, allow_pickle: bool = False) -> torch.nn.Module:
    """The model a pythae folder holds, in eval mode.

    Raises:
        ModelContractError: pickled custom networks without ``allow_pickle``,
            the package missing, or a folder pythae cannot load.
    """
    config = read_json(folder / CONFIG)
    if config is None:
        raise ModelContractError("not_json", path=folder / CONFIG)
    custom = [
        f"{part}.pkl"
        for part in ("encoder", "decoder")
        if not config.get(f"uses_default_{part}", True)
    ]
    if custom and not allow_pickle:
        raise ModelContractError("pickled", path=folder, files=", ".join(custom))
    try:
        from pythae.models import AutoModel
    except ImportError as e:
        raise ModelContractError("install", path=folder, library="pythae") from e
    try:
        model = AutoModel.load_from_folder(str(folder))
    except Exception as e:
        reason = f"{type(e).__name__}: {e}"
        raise ModelContractError(
            "load", path=folder, library="pythae", reason=reason
        ) from e
    return model.eval().requires_grad_(False)


class PythaeModel:
    """A pythae model seen through ``LatentModel``: its encoder's ``embedding``
    (and ``log_covariance``, a VAE's diagonal log-variance) and its decoder's
    ``reconstruction``."""

    exportable = False
    num_classes = None

    def __init__(self, model: torch.nn.Module, name: str):
        self.model = model
        self.name = name
        cfg = model.model_config
        self.image_shape = tuple(int(v) for v in cfg.input_dim)
        self.latent_dim = int(cfg.latent_dim)
        with torch.inference_mode():
            out = model.encoder(torch.zeros(1, *self.image_shape))
        self.kind = "vae" if out.get("log_covariance") is not None else "ae"

    @torch.inference_mode()
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Encoding:
        out = self.model.encoder(x)
        logvar = out.get("log_covariance")
        return Encoding(
            out["embedding"].reshape(len(x), -1),
            None if logvar is None else logvar.reshape(len(x), -1),
        )

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.decoder(z)["reconstruction"].reshape(
            len(z), *self.image_shape
        )


def open_folder(folder: Path, allow_pickle: bool = False) -> PythaeModel:
    return PythaeModel(load(folder, allow_pickle), folder.name)
