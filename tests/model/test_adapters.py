"""A user's model, by reference (``file.py:factory``, ``package.module:factory``)
or as an object: each convention its encode and decode may follow, the
adapter equal to the model's own calls, and one clear error for each way a
model breaks the contract."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

import explorer
from explorer.data.dataset import ImageDataset
from explorer.latent.measures import image_measures
from explorer.latent.space import encode_space
from explorer.model.adapters import ModelContractError, open_model
from explorer.model.adapters.module import import_object
from explorer.model.protocol import LatentModel
from tests.helpers import USER_CONV_VAE

SIZE = 16
# The user's conv VAE (``conv_vae``) and variants of it, one per convention.
MODELS = (
    USER_CONV_VAE.format(side=SIZE, channels=1)
    + '''
import types


class Normal(ConvVAE):
    def encode(self, x):
        mean, logvar = self.enc(x).chunk(2, 1)
        return torch.distributions.Normal(mean, torch.exp(0.5 * logvar))


class Fields(ConvVAE):
    def encode(self, x):
        mean, logvar = self.enc(x).chunk(2, 1)
        return types.SimpleNamespace(mean=mean, logvar=logvar)

    def decode(self, z):
        return types.SimpleNamespace(sample=self.dec(z))


class Plain(ConvVAE):
    def encode(self, x):
        return self.enc(x)[:, :4]


class Spatial(ConvVAE):
    """A code of shape [2, 2, 1] (as a diffusers latent), decoded as such."""

    def encode(self, x):
        return self.enc(x)[:, :4].reshape(-1, 2, 2, 1)

    def decode(self, z):
        assert z.shape[1:] == (2, 2, 1)
        return self.dec(z.reshape(len(z), 4))


class Signed(ConvVAE):
    """Pixels in [-1, 1]."""

    def decode(self, z):
        return self.dec(z) * 2 - 1


class Conditional(ConvVAE):
    num_classes = 3

    def __init__(self):
        super().__init__(classes=3)

    def encode(self, x, y):
        return super().encode(x)

    def decode(self, z, y):
        onehot = torch.nn.functional.one_hot(y.long(), 3).float()
        return self.dec(torch.cat([z, onehot], 1))


class WrongShape(ConvVAE):
    def decode(self, z):
        return torch.zeros(len(z), 3, 8, 8)


class NotFinite(ConvVAE):
    def decode(self, z):
        return self.dec(z) * float("nan")


class Sampling(ConvVAE):
    def decode(self, z):
        return self.dec(z + torch.randn_like(z))


class Bright(ConvVAE):
    def decode(self, z):
        return self.dec(z) * 2


class EncodeOnly:
    def encode(self, x):
        return x.flatten(1)


def broken():
    raise RuntimeError("no weights file at /models/vae.pt")


def made(cls):
    torch.manual_seed(0)
    return cls()
'''
)


@pytest.fixture
def models_file(tmp_path):
    path = tmp_path / "my_models.py"
    body = MODELS
    for name in (
        "Normal",
        "Fields",
        "Plain",
        "Spatial",
        "Signed",
        "Conditional",
        "WrongShape",
        "NotFinite",
        "Sampling",
        "Bright",
        "EncodeOnly",
    ):
        body += f"\n\ndef {name.lower()}():\n    return made({name})\n"
    path.write_text(textwrap.dedent(body))
    return path


def images(n: int = 6, channels: int = 1) -> torch.Tensor:
    return torch.rand(
        n, channels, SIZE, SIZE, generator=torch.Generator().manual_seed(1)
    )


def ref(path, factory: str) -> str:
    return f"{path}:{factory}"


def test_a_conv_vae_by_file_reference_equals_its_own_calls(models_file):
    x = images()
    model = open_model(ref(models_file, "conv_vae"), x)
    assert isinstance(model, LatentModel)
    assert (model.kind, model.latent_dim, model.image_shape) == (
        "vae",
        4,
        (1, SIZE, SIZE),
    )
    assert model.num_classes is None and model.exportable is False
    assert model.decode_ms > 0
    own = import_object(ref(models_file, "conv_vae"))().requires_grad_(False)
    mean, logvar = own.encode(x)
    enc = model.encode(x)
    torch.testing.assert_close(enc.mean, mean, atol=1e-5, rtol=0)
    torch.testing.assert_close(enc.logvar, logvar, atol=1e-5, rtol=0)
    torch.testing.assert_close(model.decode(mean), own.decode(mean), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "factory, kind, dim",
    [
        ("normal", "vae", 4),  # a torch Distribution
        ("fields", "vae", 4),  # .mean / .logvar, and decode's .sample
        ("plain", "ae", 4),  # a tensor: an AE's code
        ("spatial", "ae", 4),  # a spatial code [2, 2, 1], flattened to D = 4
    ],
)
def test_each_convention_of_encode_and_decode(models_file, factory, kind, dim):
    x = images()
    model = open_model(ref(models_file, factory), x)
    assert (model.kind, model.latent_dim) == (kind, dim)
    enc = model.encode(x)
    assert enc.mean.shape == (len(x), dim)
    out = model.decode(enc.mean)
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1
    if factory == "normal":  # log of the Normal's variance
        own = import_object(ref(models_file, factory))().requires_grad_(False)
        mean, logvar = own.enc(x).chunk(2, 1)
        torch.testing.assert_close(enc.logvar, logvar, atol=1e-5, rtol=1e-5)


def test_a_model_of_pixels_in_minus_one_to_one(models_file):
    x = images()
    with pytest.raises(ModelContractError, match=r"--value-range -1 1"):
        open_model(ref(models_file, "signed"), x)
    model = open_model(ref(models_file, "signed"), x, value_range=(-1.0, 1.0))
    own = import_object(ref(models_file, "signed"))().requires_grad_(False)
    z = model.encode(x).mean
    torch.testing.assert_close(
        model.decode(z), (own.decode(z) + 1) / 2, atol=1e-5, rtol=0
    )


def test_a_conditional_model_takes_the_labels(models_file):
    x, y = images(), torch.tensor([0, 1, 2, 0, 1, 2])
    model = open_model(ref(models_file, "conditional"), x, y)
    assert (model.kind, model.num_classes) == ("cvae", 3)
    z = model.encode(x, y).mean
    a, b = (
        model.decode(z[:1], torch.tensor([0])),
        model.decode(z[:1], torch.tensor([2])),
    )
    assert not torch.allclose(a, b)
    with pytest.raises(ModelContractError, match="needs labels"):
        open_model(ref(models_file, "conditional"), x)


def test_package_module_reference(models_file, monkeypatch):
    monkeypatch.syspath_prepend(str(models_file.parent))
    model = open_model("my_models:conv_vae", images())
    assert model.kind == "vae" and model.name == "conv_vae"


@pytest.mark.parametrize(
    "factory, message",
    [
        (
            "broken",
            r"the factory .*:broken raised RuntimeError: no weights file at /models",
        ),
        (
            "wrongshape",
            r"decode returned shape \[2, 3, 8, 8\], the data is \[2, 1, 16, 16\]",
        ),
        ("notfinite", r"decode returned NaN or infinite pixels"),
        ("sampling", r"decoding the same code twice gave different images"),
        (
            "bright",
            r"decode returned pixels in \[\d\.\d\d, 1\.\d\d\], expected \[0, 1\]",
        ),
        ("encodeonly", r"made a EncodeOnly without decode\(\)"),
        ("missing", r"has no attribute 'missing'"),
    ],
)
def test_each_broken_model_gets_one_clear_error(models_file, factory, message):
    with pytest.raises(ModelContractError, match=message) as e:
        open_model(ref(models_file, factory), images())
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "reference, message",
    [
        ("nowhere/models.py:make", r"nowhere/models.py: no such file"),
        ("no_such_package.models:make", r"cannot import no_such_package.models"),
        ("models.py", r"names no factory"),
    ],
)
def test_references_that_name_nothing(reference, message):
    with pytest.raises(ModelContractError, match=message):
        open_model(reference, images())


def test_a_module_reference_needs_data_and_a_checkpoint_does_not(models_file):
    with pytest.raises(ModelContractError, match="give data images"):
        open_model(ref(models_file, "conv_vae"))
    assert explorer.load_model("fashion-mnist-vae-z2").kind == "vae"
    with pytest.raises(ValueError, match="pass data="):
        explorer.load_model(ref(models_file, "conv_vae"))


def test_the_public_api_takes_a_reference_or_an_object(models_file):
    x = images()
    by_ref = explorer.load_model(ref(models_file, "conv_vae"), data=x)
    obj = import_object(ref(models_file, "conv_vae"))()
    by_obj = explorer.load_model(obj, data=x)
    assert by_obj.name == "ConvVAE" and by_obj.kind == "vae"
    torch.testing.assert_close(by_ref.encode(x).mean, by_obj.encode(x).mean)


def test_a_user_model_makes_a_latent_space_with_measures(models_file):
    x = images(40)
    ds = ImageDataset(
        (x.numpy() * 255).astype(np.uint8), np.arange(40) % 2, ("a", "b"), "t", "all"
    )
    model = open_model(ref(models_file, "conv_vae"), x)
    space = encode_space("conv", model, ds)
    assert space.z.shape == (40, 4) and space.logvar.shape == (40, 4)
    img = space.decode(space.z[:3])
    assert img.dtype == np.uint8 and img.shape == (3, 1, SIZE, SIZE)
    xt, yt = ds.tensors()
    m = image_measures(model, xt, yt)
    x_hat = model.decode(model.encode(xt).mean)
    np.testing.assert_allclose(
        m["recon"], (x_hat - xt).pow(2).flatten(1).sum(1).numpy(), rtol=1e-5
    )
    assert set(m) == {"recon", "kl", "loss"}
