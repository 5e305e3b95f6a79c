"""A user's model from their own code: ``package.module:factory`` or
``path/to/file.py:factory`` (as uvicorn and gunicorn name an app).

The factory (any callable, or an object that is already the model) returns an
object with ``encode`` and ``decode``:

- ``encode(x)`` may return a tensor (an AE's code), a ``(mean, logvar)``
  pair, an object with ``.mean`` and ``.logvar``, or a torch
  ``Distribution`` (its mean and the log of its variance);
- ``decode(z)`` may return a tensor or an object with ``.sample``;
- codes may be spatial (``[B, C, h, w]``): they are flattened to D = C*h*w
  for the map and reshaped for decoding;
- an object with an integer ``num_classes`` is a conditional model: its
  ``encode`` and ``decode`` take the labels as a second argument.

Pixels are in [0, 1] unless ``value_range`` says otherwise (``(-1, 1)``).
The latent size and the image shape come from a trial encode of data images
(``contract.check``). Code runs only from the module the user names.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from pathlib import Path

import torch
from torch import nn

from explorer.model.protocol import Encoding
from explorer.problem import Problem


class ModelContractError(Problem, ValueError):
    """A model the explorer did not train breaks the contract (one line saying
    what is wrong and what was expected)."""

    MESSAGES = {
        "ref": "{ref!r} names no factory: write package.module:factory or "
        "path/to/file.py:factory",
        "no_file": "{path}: no such file",
        "import_raised": "importing {module} raised {reason}",
        "no_import": "cannot import {module}: {reason}",
        "no_attribute": "{module} has no attribute {attr!r}",
        "factory_raised": "the factory {ref} raised {reason}",
        "no_methods": "{ref} made a {kind} without {missing}(): the model needs "
        "encode(x) and decode(z)",
        "encoding": "{where} returned {kind}: expected a tensor, a (mean, logvar) "
        "pair, an object with .mean and .logvar, or a torch Distribution",
        "sample": "{where} returned {kind}: expected a tensor or an object with "
        ".sample",
        "raised": "{what} raised {reason}",
        "value_range": "the value range [{lo}, {hi}] is empty",
        "needs_labels": "{name} is conditional (num_classes={classes}): the data "
        "needs labels",
        "one_code": "{name}.encode returned shape {shape} for one image: expected "
        "[1, D] (or a spatial code [1, C, h, w])",
        "code_shape": "encode returned codes of shape {shape}, expected {want}",
        "code_finite": "encode returned NaN or infinite codes",
        "logvar_shape": "encode returned a log-variance of shape {shape}, "
        "expected {want} like the mean",
        "logvar_finite": "encode returned a NaN or infinite log-variance",
        "decode_shape": "decode returned shape {shape}, the data is {want}",
        "decode_finite": "decode returned NaN or infinite pixels",
        "decode_range": "decode returned pixels in [{lo:.2f}, {hi:.2f}], expected "
        "[0, 1] (for a model of pixels in [-1, 1], pass --value-range -1 1)",
        "decode_random": "decoding the same code twice gave different images: "
        "decode must be deterministic (decode the code given, do not sample)",
        "image_shape": "{name} takes images of shape {shape}; the data is {want}",
        "two_images": "the contract check needs two data images",
        "needs_images": "{ref} is not the explorer's own checkpoint: give data "
        "images to check it on (its latent size and image shape come from a "
        "trial encode)",
        "install": "{path} is a {library} model: pip install "
        "'latent-explorer[{library}]'",
        "no_weights": "{path}: no {weights} (the weights; a pickled .bin file is "
        "not read)",
        "load": "{path}: {library} could not load it ({reason})",
        "not_json": "{path}: not a JSON object",
        "pickled": "{path} holds pickled custom networks ({files}); loading them "
        "runs their code. Pass --allow-pickle only if you trust whoever made them",
    }


def import_object(ref: str) -> object:
    """The object ``ref`` (``package.module:attr`` or ``file.py:attr``) names.

    Raises:
        ModelContractError: the module cannot be imported or has no such
            attribute.
    """
    module_ref, sep, attr = ref.rpartition(":")
    if not sep or not module_ref or not attr:
        raise ModelContractError("ref", ref=ref)
    if module_ref.endswith(".py"):
        path = Path(module_ref).expanduser().resolve()
        if not path.is_file():
            raise ModelContractError("no_file", path=module_ref)
        name = f"explorer_user_{path.stem}_{abs(hash(str(path))):x}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look it up
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            del sys.modules[name]
            reason = f"{type(e).__name__}: {e}"
            raise ModelContractError(
                "import_raised", module=module_ref, reason=reason
            ) from e
    else:
        try:
            module = importlib.import_module(module_ref)
        except ImportError as e:
            raise ModelContractError("no_import", module=module_ref, reason=e) from e
        except Exception as e:
            reason = f"{type(e).__name__}: {e}"
            raise ModelContractError(
                "import_raised", module=module_ref, reason=reason
            ) from e
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ModelContractError("no_attribute", module=module_ref, attr=attr)
        obj = getattr(obj, part)
    return obj


def build(ref: str) -> object:
    """Calls the factory ``ref`` names (an object with ``encode`` is used as
    it is) and checks that what it made has ``encode`` and ``decode``."""
    factory = import_object(ref)
    if callable(factory) and not hasattr(factory, "encode"):
        try:
            obj = factory()
        except Exception as e:
            reason = f"{type(e).__name__}: {e}"
            raise ModelContractError("factory_raised", ref=ref, reason=reason) from e
    else:
        obj = factory
    missing = [m for m in ("encode", "decode") if not callable(getattr(obj, m, None))]
    if missing:
        raise ModelContractError(
            "no_methods",
            ref=ref,
            kind=type(obj).__name__,
            missing=" and ".join(missing),
        )
    if isinstance(obj, nn.Module):
        obj.eval().requires_grad_(False)
    return obj


def as_encoding(out: object, where: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(mean, logvar or None)`` of whatever an ``encode`` returned, unflattened."""
    if isinstance(out, torch.Tensor):
        return out, None
    if isinstance(out, torch.distributions.Distribution):
        return out.mean, out.variance.log()
    if hasattr(out, "mean") and hasattr(out, "logvar"):
        return out.mean, out.logvar
    if isinstance(out, tuple | list) and len(out) == 2:
        mean, logvar = out
        if isinstance(mean, torch.Tensor) and isinstance(logvar, torch.Tensor):
            return mean, logvar
    raise ModelContractError("encoding", where=where, kind=type(out).__name__)


def as_images(out: object, where: str) -> torch.Tensor:
    """The tensor of whatever a ``decode`` returned."""
    if isinstance(out, torch.Tensor):
        return out
    sample = getattr(out, "sample", None)
    if isinstance(sample, torch.Tensor):
        return sample
    raise ModelContractError("sample", where=where, kind=type(out).__name__)


def classes_of(obj: object) -> int | None:
    """A model's number of classes when it is conditional (an integer
    ``num_classes`` of 2 or more), else None."""
    classes = getattr(obj, "num_classes", None)
    return int(classes) if isinstance(classes, int) and classes >= 2 else None


def to_range(x: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """Pixels in [0, 1] as a model of ``value_range`` takes them."""
    lo, hi = value_range
    return x * (hi - lo) + lo


class ModuleModel:
    """A user's model seen through ``LatentModel``.

    Args:
        obj: what the factory made.
        name: the name shown on the page.
        image_shape: ``(C, H, W)`` of the data it is used with.
        latent_shape: the shape of one code as ``encode`` returns it (``[D]``,
            or ``[C, h, w]`` for a spatial code).
        variational: its encoding has a log-variance.
        value_range: the pixel range it takes and makes.
    """

    exportable = False  # arbitrary code: decoded on the server

    def __init__(
        self,
        obj: object,
        name: str,
        image_shape: tuple[int, int, int],
        latent_shape: tuple[int, ...],
        variational: bool,
        value_range: tuple[float, float] = (0.0, 1.0),
    ):
        self.obj = obj
        self.name = name
        self.image_shape = tuple(image_shape)
        self.latent_shape = tuple(latent_shape)
        self.latent_dim = math.prod(self.latent_shape)
        self.value_range = value_range
        self.num_classes = classes_of(obj)
        self.kind = "cvae" if self.num_classes else "vae" if variational else "ae"

    def _args(self, t: torch.Tensor, y: torch.Tensor | None) -> tuple:
        if self.num_classes is None:
            return (t,)
        if y is None:
            raise ValueError(f"{self.name} is conditional: give the class labels y")
        return (t, y)

    def _from_model(self, x: torch.Tensor) -> torch.Tensor:
        lo, hi = self.value_range
        return (x - lo) / (hi - lo)

    @torch.inference_mode()
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Encoding:
        out = self.obj.encode(*self._args(to_range(x, self.value_range), y))
        mean, logvar = as_encoding(out, f"{self.name}.encode")
        mean = mean.reshape(len(x), -1).float()
        if logvar is not None:
            logvar = logvar.reshape(len(x), -1).float()
        return Encoding(mean, logvar)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        code = z.reshape(len(z), *self.latent_shape)
        out = as_images(self.obj.decode(*self._args(code, y)), f"{self.name}.decode")
        return self._from_model(out.float())
