"""Where a model's arithmetic runs: a device (``auto``, ``cpu``, ``cuda[:N]``)
and a dtype (``float32``, ``bfloat16``, ``float16``), chosen by ``encode`` and
``explore``'s ``--device`` and ``--dtype``. Codes, log-variances and every
loss term come out float32, whatever the dtype: only the networks run in it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from explorer.model.adapters import _module_of
from explorer.model.protocol import Encoding, LatentModel
from explorer.problem import Problem

DTYPES = {
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
}
DEVICE = re.compile(r"^(auto|cpu|cuda)(?::(\d+))?$")


class DeviceError(Problem, ValueError):
    """A device or a dtype this machine cannot run a model on."""

    MESSAGES = {
        "device": "--device {device!r}: use auto, cpu, cuda or cuda:N",
        "no_cuda": "--device {device}: PyTorch sees no CUDA GPU on this machine "
        "(torch {torch}); use --device cpu",
        "cuda_index": "--device {device}: this machine has {count} CUDA GPU(s), "
        "cuda:0 to cuda:{last}",
        "dtype": "--dtype {dtype!r}: use float32, bfloat16 or float16",
        "dtype_device": "--dtype {dtype} cannot run on {device} ({reason}); use "
        "--dtype float32",
    }


@dataclass(frozen=True)
class Placement:
    """A device and the dtype of a model's arithmetic on it."""

    device: torch.device = torch.device("cpu")
    dtype: torch.dtype = torch.float32

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    @property
    def moves(self) -> bool:
        """Whether a float32 CPU model must be moved or cast to run here."""
        return self.device.type != "cpu" or self.dtype != torch.float32


def pick_device(text: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` (a GPU when there is one), ``cpu``, ``cuda`` or ``cuda:N``;
    a bare ``cuda`` or ``auto`` is the process's own GPU (``LOCAL_RANK``)
    under ``torchrun``.

    Raises:
        DeviceError: an unknown name, or a GPU this machine does not have.
    """
    m = DEVICE.match(text.strip().lower())
    if not m or (m[1] != "cuda" and m[2] is not None):
        raise DeviceError("device", device=text)
    kind, index = m[1], m[2]
    if kind == "cpu" or (kind == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceError("no_cuda", device=text, torch=torch.__version__)
    count = torch.cuda.device_count()
    i = local_rank if index is None else int(index)
    if i >= count:
        raise DeviceError("cuda_index", device=f"cuda:{i}", count=count, last=count - 1)
    return torch.device(f"cuda:{i}")


def pick_dtype(text: str, device: torch.device) -> torch.dtype:
    """The dtype ``text`` names, checked to run a dense and a convolution
    layer on ``device``.

    Raises:
        DeviceError: an unknown name, or a dtype the device cannot compute in.
    """
    dtype = DTYPES.get(text.strip().lower())
    if dtype is None:
        raise DeviceError("dtype", dtype=text)
    if device.type == "cuda" and dtype == torch.bfloat16:
        if not torch.cuda.is_bf16_supported():
            reason = f"{torch.cuda.get_device_name(device)} has no bfloat16"
            raise DeviceError("dtype_device", dtype=text, device=device, reason=reason)
    try:
        x = torch.ones(2, 1, 4, 4, device=device, dtype=dtype)
        w = torch.ones(2, 1, 3, 3, device=device, dtype=dtype)
        F.linear(
            F.conv2d(x, w).flatten(1), torch.ones(3, 8, device=device, dtype=dtype)
        )
    except (RuntimeError, TypeError) as e:
        raise DeviceError(
            "dtype_device", dtype=text, device=device, reason=str(e).splitlines()[0]
        ) from e
    return dtype


def placement(
    device: str = "auto", dtype: str = "float32", local_rank: int = 0
) -> Placement:
    """The ``Placement`` that ``--device`` and ``--dtype`` name (checked)."""
    where = pick_device(device, local_rank)
    return Placement(where, pick_dtype(dtype, where))


class Placed:
    """A ``LatentModel`` whose networks run at a ``Placement``: what goes in
    is moved and cast, what comes out (codes, log-variances, pixels, logits)
    is float32 on the placement's device, so the losses are float32 there.
    Every other attribute is the model's own."""

    def __init__(self, model: LatentModel, where: Placement):
        self.model, self.where = model, where

    def __getattr__(self, name: str):
        if name in ("model", "where"):  # (not set yet: no recursion)
            raise AttributeError(name)
        return getattr(self.model, name)

    def _in(self, t: torch.Tensor) -> torch.Tensor:
        return t.to(self.where.device, self.where.dtype)

    def _y(self, y: torch.Tensor | None) -> torch.Tensor | None:
        return None if y is None else y.to(self.where.device)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Encoding:
        enc = self.model.encode(self._in(x), self._y(y))
        logvar = None if enc.logvar is None else enc.logvar.float()
        return Encoding(enc.mean.float(), logvar)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.decode(self._in(z), self._y(y)).float()

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None):
        return self.model.decode_logits(self._in(z), self._y(y)).float()


def _tensors(module: torch.nn.Module) -> list[tuple[dict, str, torch.Tensor]]:
    """Where each parameter's and buffer's tensor is kept, and the tensor."""
    out = []
    for m in module.modules():
        for name, p in m._parameters.items():
            if p is not None:
                out.append((m._parameters, name, p.data))
        for name, b in m._buffers.items():
            if b is not None:
                out.append((m._buffers, name, b))
    return out


@contextlib.contextmanager
def placed(model: LatentModel, where: Placement) -> Iterator[LatentModel]:
    """``model`` running at ``where`` for the block: its network moved and
    cast there, and put back as it was after (the very same tensors, so no
    weight is rounded by the trip through a narrower dtype).

    A model with no ``nn.Module`` to move (an object of plain functions) is
    only given its inputs at ``where``.
    """
    module = _module_of(model)
    if not where.moves or module is None:
        yield Placed(model, where) if where.moves else model
        return
    saved = _tensors(module)
    module.to(device=where.device, dtype=where.dtype)
    try:
        yield Placed(model, where)
    finally:
        for store, name, t in saved:
            if isinstance(store[name], torch.nn.Parameter):
                store[name].data = t
            else:
                store[name] = t
