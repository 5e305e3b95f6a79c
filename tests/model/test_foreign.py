"""Folders of models from other libraries: a diffusers ``AutoencoderKL`` and
``AutoencoderTiny`` built from small configs and saved with
``save_pretrained``, and a pythae VAE trained for one epoch and saved. Each
adapter's codes and decodes equal the library's own calls; each broken
folder gets its one clear error. Each test needs only its own library: the
diffusers tests run without pythae, and the pythae ones without diffusers."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.model.adapters import ModelContractError, open_model
from explorer.model.protocol import LatentModel


@pytest.fixture
def diffusers():
    return pytest.importorskip("diffusers")


@pytest.fixture
def pythae():
    return pytest.importorskip("pythae.models")


def images(n: int = 4, channels: int = 3, side: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, channels, side, side, generator=g)


@pytest.fixture
def kl_folder(tmp_path, diffusers):
    torch.manual_seed(0)
    vae = diffusers.AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        layers_per_block=1,
        latent_channels=2,
        norm_num_groups=4,
        sample_size=16,
        scaling_factor=0.5,
    )
    vae.save_pretrained(tmp_path / "kl")
    return tmp_path / "kl", vae.eval()


def test_an_autoencoder_kl_folder(kl_folder):
    folder, vae = kl_folder
    x = images()
    model = open_model(folder, x)
    assert isinstance(model, LatentModel)
    # one 2x down-sampling: latents [2, 8, 8], flattened to D = 128
    assert (model.kind, model.latent_dim, model.image_shape) == (
        "vae",
        128,
        (3, 16, 16),
    )
    assert model.exportable is False and model.scaling_factor == 0.5
    with torch.no_grad():
        dist = vae.encode(x * 2 - 1).latent_dist
    enc = model.encode(x)
    torch.testing.assert_close(
        enc.mean, 0.5 * dist.mean.reshape(4, -1), atol=1e-3, rtol=0
    )
    torch.testing.assert_close(
        enc.logvar, (dist.logvar + 2 * math.log(0.5)).reshape(4, -1), atol=1e-3, rtol=0
    )
    with torch.no_grad():
        own = vae.decode(dist.mean).sample.clamp(-1, 1)
    torch.testing.assert_close(model.decode(enc.mean), (own + 1) / 2, atol=1e-3, rtol=0)


def test_an_autoencoder_tiny_folder(tmp_path, diffusers):
    torch.manual_seed(0)
    vae = diffusers.AutoencoderTiny(
        in_channels=3,
        out_channels=3,
        encoder_block_out_channels=(8, 8),
        decoder_block_out_channels=(8, 8),
        num_encoder_blocks=(1, 1),
        num_decoder_blocks=(1, 1),
        latent_channels=2,
    ).eval()
    vae.save_pretrained(tmp_path / "tiny")
    x = images()
    model = open_model(tmp_path / "tiny", x)
    assert model.kind == "ae"
    with torch.no_grad():
        lat = vae.encode(x * 2 - 1).latents
    enc = model.encode(x)
    assert enc.logvar is None and model.latent_dim == lat[0].numel()
    torch.testing.assert_close(enc.mean, lat.reshape(4, -1), atol=1e-3, rtol=0)
    with torch.no_grad():
        own = (vae.decode(lat).sample.clamp(-1, 1) + 1) / 2
    torch.testing.assert_close(model.decode(enc.mean), own, atol=1e-3, rtol=0)


def test_a_diffusers_folder_without_its_weights(kl_folder):
    folder, _ = kl_folder
    (folder / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(
        ModelContractError, match="no diffusion_pytorch_model.safetensors"
    ):
        open_model(folder, images())


def test_a_diffusers_folder_needs_data_images(kl_folder):
    with pytest.raises(ModelContractError, match="give data images"):
        open_model(kl_folder[0])


# --- pythae -------------------------------------------------------------------------


def _pythae_vae(tmp_path, custom: bool = False):
    from pythae.data.datasets import BaseDataset
    from pythae.models import VAE, VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.trainers import BaseTrainer, BaseTrainerConfig

    cfg = VAEConfig(input_dim=(1, 8, 8), latent_dim=2)
    nets = {}
    if custom:

        class Encoder(BaseEncoder):
            def __init__(self):
                super().__init__()
                self.net = torch.nn.Linear(64, 4)

            def forward(self, x):
                h = self.net(x.flatten(1))
                return ModelOutput(embedding=h[:, :2], log_covariance=h[:, 2:])

        class Decoder(BaseDecoder):
            def __init__(self):
                super().__init__()
                self.net = torch.nn.Linear(2, 64)

            def forward(self, z):
                x = torch.sigmoid(self.net(z)).view(-1, 1, 8, 8)
                return ModelOutput(reconstruction=x)

        nets = {"encoder": Encoder(), "decoder": Decoder()}
    torch.manual_seed(0)
    model = VAE(cfg, **nets)
    data = torch.rand(32, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    trainer = BaseTrainer(
        model,
        train_dataset=BaseDataset(data, torch.zeros(len(data))),
        training_config=BaseTrainerConfig(
            output_dir=str(tmp_path / "runs"),
            num_epochs=1,
            per_device_train_batch_size=16,
            no_cuda=True,
        ),
    )
    trainer.train()
    model.save(str(tmp_path / "pythae"))
    return tmp_path / "pythae", model.eval(), data


@pytest.mark.usefixtures("pythae")
def test_a_pythae_folder_trained_one_epoch(tmp_path):
    folder, own, data = _pythae_vae(tmp_path)
    model = open_model(folder, data[:4])
    assert (model.kind, model.latent_dim, model.image_shape) == ("vae", 2, (1, 8, 8))
    with torch.no_grad():
        out = own.encoder(data[:4])
        rec = own.decoder(out.embedding)["reconstruction"]
    enc = model.encode(data[:4])
    torch.testing.assert_close(enc.mean, out.embedding, atol=1e-5, rtol=0)
    torch.testing.assert_close(enc.logvar, out.log_covariance, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        model.decode(enc.mean), rec.reshape(4, 1, 8, 8), atol=1e-5, rtol=0
    )


@pytest.mark.usefixtures("pythae")
def test_pythae_custom_networks_are_pickles_refused_unless_allowed(tmp_path):
    folder, own, data = _pythae_vae(tmp_path, custom=True)
    assert (folder / "encoder.pkl").is_file()
    with pytest.raises(
        ModelContractError, match=r"encoder.pkl, decoder.pkl.*--allow-pickle"
    ):
        open_model(folder, data[:4])
    model = open_model(folder, data[:4], allow_pickle=True)
    with torch.no_grad():
        want = own.encoder(data[:4]).embedding
    torch.testing.assert_close(model.encode(data[:4]).mean, want, atol=1e-5, rtol=0)
