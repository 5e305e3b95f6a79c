"""The contract a model must keep, checked once when it is loaded: encode and
decode two data images, check shapes, finiteness and the pixel range, check
that decoding a code is deterministic, and time one decode. A model that
breaks it gets one actionable error, never a traceback on the page."""

from __future__ import annotations

import time

import torch

from explorer.model.adapters.module import (
    ModelContractError,
    ModuleModel,
    as_encoding,
    classes_of,
    to_range,
)
from explorer.model.protocol import LatentModel

RANGE_SLACK = 1e-3  # pixels may stray this far outside [0, 1] (rounding)


def _shape(t: torch.Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def _call(what: str, fn, *args):
    try:
        return fn(*args)
    except ModelContractError:
        raise
    except Exception as e:
        reason = f"{type(e).__name__}: {e}"
        raise ModelContractError("raised", what=what, reason=reason) from e


def probe(
    obj: object,
    name: str,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> ModuleModel:
    """The adapter of a user's model, its latent shape found by a trial
    encode of one data image ``x[:1]`` (``[1, C, H, W]`` in [0, 1])."""
    lo, hi = value_range
    if not hi > lo:
        raise ModelContractError("value_range", lo=lo, hi=hi)
    classes = classes_of(obj)
    args = (to_range(x[:1], value_range),)
    if classes is not None:
        if y is None:
            raise ModelContractError("needs_labels", name=name, classes=classes)
        args += (y[:1],)
    with torch.inference_mode():
        out = _call(
            f"{name}.encode on a data image of shape {_shape(args[0])}",
            obj.encode,
            *args,
        )
    mean, logvar = as_encoding(out, f"{name}.encode")
    if mean.ndim < 2 or len(mean) != 1:
        raise ModelContractError("one_code", name=name, shape=_shape(mean))
    return ModuleModel(
        obj, name, tuple(x.shape[1:]), tuple(mean.shape[1:]), logvar is not None,
        value_range,
    )  # fmt: skip


def check(model: LatentModel, x: torch.Tensor, y: torch.Tensor | None = None) -> float:
    """Checks ``model`` on data images ``x`` ``[2, C, H, W]`` (and labels).

    Returns:
        The time of one decode, in milliseconds.

    Raises:
        ModelContractError: naming what is wrong and what was expected.
    """
    name, n = model.name, len(x)
    enc = _call(f"{name}.encode", model.encode, x, y)
    want = f"[{n}, {model.latent_dim}]"
    if tuple(enc.mean.shape) != (n, model.latent_dim):
        raise ModelContractError("code_shape", shape=_shape(enc.mean), want=want)
    if not torch.isfinite(enc.mean).all():
        raise ModelContractError("code_finite")
    if enc.logvar is not None:
        if enc.logvar.shape != enc.mean.shape:
            raise ModelContractError(
                "logvar_shape", shape=_shape(enc.logvar), want=want
            )
        if not torch.isfinite(enc.logvar).all():
            raise ModelContractError("logvar_finite")
    out = _call(f"{name}.decode", model.decode, enc.mean, y)
    if out.shape != x.shape:
        raise ModelContractError("decode_shape", shape=_shape(out), want=_shape(x))
    if not torch.isfinite(out).all():
        raise ModelContractError("decode_finite")
    lo, hi = float(out.min()), float(out.max())
    if lo < -RANGE_SLACK or hi > 1 + RANGE_SLACK:
        raise ModelContractError("decode_range", lo=lo, hi=hi)
    again = _call(f"{name}.decode", model.decode, enc.mean, y)
    if not torch.allclose(out, again, atol=1e-5):
        raise ModelContractError("decode_random")
    start = time.perf_counter()
    model.decode(enc.mean[:1], None if y is None else y[:1])
    return (time.perf_counter() - start) * 1000
