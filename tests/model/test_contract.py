"""The contract a model the explorer did not train must keep
(``explorer.model.adapters.contract``), checked directly on small stand-ins:
each way an encoding can be wrong gets its own one-line error, and the trial
encode finds the latent's shape. Whole user models, through ``open_model``,
are in ``test_adapters.py``; pythae and diffusers folders in
``test_foreign.py``."""

from __future__ import annotations

import json

import pytest
import torch

from explorer.model.adapters import diffusers, is_reference, needs_data, pythae
from explorer.model.adapters.contract import check, probe
from explorer.model.adapters.module import ModelContractError
from explorer.model.protocol import Encoding

X = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))


class Stub:
    """A ``LatentModel`` of 4x4 grey images and 3-D codes; ``fault`` breaks
    one part of what its encode returns."""

    name, kind, latent_dim, image_shape = "stub", "vae", 3, (1, 4, 4)
    num_classes, exportable = None, False

    def __init__(self, fault: str = ""):
        self.fault = fault

    def encode(self, x, y=None):
        mean = x.flatten(1)[:, :3].clone()
        logvar = torch.zeros_like(mean)
        if self.fault == "mean shape":
            mean = mean[:, :2]
        if self.fault == "mean nan":
            mean[0, 0] = float("nan")
        if self.fault == "logvar shape":
            logvar = logvar[:1]
        if self.fault == "logvar inf":
            logvar[1, 2] = float("inf")
        return Encoding(mean, logvar)

    def decode(self, z, y=None):
        return torch.sigmoid(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 4, 4)


def test_a_model_that_keeps_the_contract_passes_and_is_timed():
    ms = check(Stub(), X)
    assert 0 <= ms < 10_000


@pytest.mark.parametrize(
    "fault, message",
    [
        ("mean shape", r"encode returned codes of shape \[2, 2\], expected \[2, 3\]"),
        ("mean nan", r"encode returned NaN or infinite codes"),
        ("logvar shape", r"a log-variance of shape \[1, 3\], expected \[2, 3\]"),
        ("logvar inf", r"encode returned a NaN or infinite log-variance"),
    ],
)
def test_each_broken_encoding_gets_its_own_error(fault, message):
    with pytest.raises(ModelContractError, match=message) as e:
        check(Stub(fault), X)
    assert "\n" not in str(e.value)


def test_an_encode_that_raises_is_named_with_its_error():
    class Raising(Stub):
        def encode(self, x, y=None):
            raise KeyError("weights")

    with pytest.raises(ModelContractError, match=r"stub.encode raised KeyError"):
        check(Raising(), X)


class Module:
    """A user's object: codes of shape ``latent`` (a tensor per image)."""

    def __init__(self, latent=(3,), classes=None):
        self.latent, self.num_classes = latent, classes

    def encode(self, x, *y):
        return x.flatten(1)[:, : torch.Size(self.latent).numel()].reshape(
            len(x), *self.latent
        )

    def decode(self, z, *y):
        return torch.zeros(len(z), 1, 4, 4)


def test_probe_finds_the_latent_shape_and_kind_by_one_trial_encode():
    model = probe(Module((2, 1, 2)), "mine", X)
    assert model.latent_shape == (2, 1, 2) and model.latent_dim == 4
    assert model.kind == "ae" and model.image_shape == (1, 4, 4)
    assert model.encode(X).mean.shape == (2, 4)
    assert model.decode(torch.zeros(2, 4)).shape == (2, 1, 4, 4)
    cvae = probe(Module(classes=3), "mine", X, torch.tensor([0, 2]))
    assert cvae.kind == "cvae" and cvae.num_classes == 3


@pytest.mark.parametrize(
    "obj, kwargs, message",
    [
        (
            Module(),
            {"value_range": (1.0, 1.0)},
            r"the value range \[1.0, 1.0\] is empty",
        ),
        (Module(classes=3), {}, r"mine is conditional \(num_classes=3\): the data"),
        (Module(latent=()), {}, r"mine.encode returned shape \[1\] for one image"),
    ],
)
def test_probe_refuses_what_it_cannot_use(obj, kwargs, message):
    with pytest.raises(ModelContractError, match=message):
        probe(obj, "mine", X, **kwargs)


def test_which_references_and_folders_are_models_the_explorer_did_not_train(
    tmp_path,
):
    assert is_reference("my_models.py:make") and is_reference("pkg.models:make")
    assert is_reference("my_models.py")  # (told later that it names no factory)
    assert not is_reference("fashion-mnist-vae-z2") and not is_reference(str(tmp_path))
    kl, tiny, unet, pyth = (tmp_path / n for n in ("kl", "tiny", "unet", "pythae"))
    for folder, name in ((kl, "AutoencoderKL"), (tiny, "AutoencoderTiny"),
                         (unet, "UNet2DModel")):  # fmt: skip
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"_class_name": name}))
    assert diffusers.is_folder(kl) and diffusers.is_folder(tiny)
    assert not diffusers.is_folder(unet) and not diffusers.is_folder(tmp_path / "no")
    pyth.mkdir()
    (pyth / pythae.CONFIG).write_text("{}")
    assert not pythae.is_folder(pyth)  # the weights file too
    (pyth / pythae.WEIGHTS).write_bytes(b"")
    assert pythae.is_folder(pyth)
    assert needs_data(str(kl)) and needs_data(str(pyth)) and not needs_data(str(unet))
