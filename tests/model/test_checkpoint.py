"""Checkpoints: round trip, lookup by name, and every way one can be broken."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from safetensors.torch import load_file, save_file

from explorer import CheckpointError, list_checkpoints, load_model, save_checkpoint
from explorer.model.autoencoder import build_model
from explorer.model.config import ModelConfig


@pytest.fixture
def ckpt(tmp_path):
    torch.manual_seed(0)
    cfg = ModelConfig(
        model_type="cvae",
        latent_dim=3,
        image_shape=(1, 8, 8),
        hidden=(16,),
        num_classes=2,
        dataset="tiny",
        class_names=("a", "b"),
    )
    model = build_model(cfg)
    folder = tmp_path / "tiny-cvae-z3"
    save_checkpoint(model, folder)
    return model, folder


def test_round_trip_every_tensor_equal(ckpt):
    model, folder = ckpt
    loaded = load_model(folder)
    assert loaded.config == model.config
    assert not loaded.training
    assert all(not p.requires_grad for p in loaded.parameters())
    sd, ld = model.state_dict(), loaded.state_dict()
    assert sd.keys() == ld.keys()
    for k in sd:
        assert torch.equal(sd[k], ld[k]), k
    assert loaded.metrics is None
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.safetensors",
    ]


def test_load_by_name_from_weights_dir(ckpt, monkeypatch):
    _, folder = ckpt
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(folder.parent))
    assert load_model("tiny-cvae-z3").config.latent_dim == 3
    assert list_checkpoints() == [folder]
    with pytest.raises(
        CheckpointError, match="no-such-model: no such checkpoint folder"
    ):
        load_model("no-such-model")


def test_missing_files(ckpt):
    _, folder = ckpt
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"model\.safetensors: missing"):
        load_model(folder)
    (folder / "config.json").unlink()
    with pytest.raises(CheckpointError, match=r"config\.json: missing"):
        load_model(folder)


def test_truncated_weights(ckpt):
    _, folder = ckpt
    path = folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(
        CheckpointError, match=r"model\.safetensors: not a valid safetensors file"
    ):
        load_model(folder)


def test_wrong_tensor_shape(ckpt):
    _, folder = ckpt
    path = folder / "model.safetensors"
    tensors = load_file(path)
    tensors["decoder.0.bias"] = torch.zeros(17)
    save_file(tensors, path)
    with pytest.raises(
        CheckpointError,
        match=r"decoder\.0\.bias has shape \(17,\) but config\.json implies \(16,\)",
    ):
        load_model(folder)


def test_config_that_lies_about_the_latent_size(ckpt):
    _, folder = ckpt
    cfg = json.loads((folder / "config.json").read_text())
    cfg["latent_dim"] = 4
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="model.safetensors: tensor .* implies"):
        load_model(folder)


def test_missing_and_unexpected_tensors(ckpt):
    _, folder = ckpt
    path = folder / "model.safetensors"
    tensors = load_file(path)
    tensors["extra"] = tensors.pop("encoder.0.weight")
    save_file(tensors, path)
    with pytest.raises(
        CheckpointError, match=r"missing \['encoder.0.weight'\], unexpected \['extra'\]"
    ):
        load_model(folder)


def test_nan_tensor(ckpt):
    _, folder = ckpt
    path = folder / "model.safetensors"
    tensors = load_file(path)
    tensors["encoder.0.bias"][0] = float("nan")
    save_file(tensors, path)
    with pytest.raises(CheckpointError, match="encoder.0.bias holds NaN"):
        load_model(folder)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "Expecting property name"),
        ("[1, 2]", "not a JSON object"),
        (
            '{"model_type": "vae", "latent_dim": -1}',
            "latent_dim must be a positive integer",
        ),
        ('{"model_type": "vae", "wings": 2}', "unknown config keys"),
    ],
)
def test_invalid_config(ckpt, text, message):
    _, folder = ckpt
    (folder / "config.json").write_text(text)
    with pytest.raises(
        CheckpointError, match=rf"config\.json: invalid config: .*{message}"
    ):
        load_model(folder)


class _Evil:
    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(_Evil.target),))


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_pickle_is_refused_and_never_run(ckpt, tmp_path, how):
    model, folder = ckpt
    _Evil.target = str(tmp_path / "pwned")
    path = folder / "model.safetensors"
    payload = {"state": model.state_dict(), "evil": _Evil()}
    if how == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    with pytest.raises(CheckpointError, match="looks like a pickle or torch.save file"):
        load_model(folder)
    assert not (tmp_path / "pwned").exists()


def test_metrics_are_attached_when_present(ckpt):
    _, folder = ckpt
    (folder / "metrics.json").write_text('{"mse": 0.5}')
    assert load_model(folder).metrics == {"mse": 0.5}
    (folder / "metrics.json").write_text("garbage")
    assert load_model(folder).metrics is None


def test_a_conv_checkpoint_round_trips(tmp_path):
    torch.manual_seed(0)
    cfg = ModelConfig(
        model_type="vae", latent_dim=4, image_shape=(3, 32, 32), hidden=(16,),
        arch="conv", channels=(4, 8), dataset="tiny",
    )  # fmt: skip
    model = build_model(cfg)
    save_checkpoint(model, tmp_path / "c")
    loaded = load_model(tmp_path / "c")
    assert loaded.config == cfg and loaded.config.arch == "conv"
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(
        loaded.decode(loaded.encode(x).mean), model.decode(model.encode(x).mean)
    )


def test_tensors_read_do_not_share_memory_with_their_file(tmp_path):
    """A file rewritten in place after reading leaves what was read intact."""
    from safetensors.torch import save_file

    from explorer.model.checkpoint import read_tensors_and_metadata

    path = tmp_path / "t.safetensors"
    save_file({"a": torch.arange(4.0)}, str(path), metadata={"k": "v"})
    tensors, meta = read_tensors_and_metadata(path)
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size - 16)
        f.write(b"\xff" * 16)
    assert tensors["a"].tolist() == [0.0, 1.0, 2.0, 3.0] and meta == {"k": "v"}


def test_one_name_per_contract(ckpt, tmp_path):
    """``load_checkpoint`` opens the explorer's own checkpoints only;
    ``explorer.load_model`` (any model, checked on data) is the one
    ``load_model``."""
    from explorer.model import checkpoint

    assert not hasattr(checkpoint, "load_model")
    model, folder = ckpt
    assert checkpoint.load_checkpoint(folder).config == model.config
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.png").write_bytes(b"\x89PNG")
    with pytest.raises(CheckpointError, match="missing \\(not a checkpoint folder"):
        checkpoint.load_checkpoint(images)
    diffusers = tmp_path / "sd-vae"
    diffusers.mkdir()
    (diffusers / "config.json").write_text('{"_class_name": "AutoencoderKL"}')
    with pytest.raises(CheckpointError, match=r"sd-vae/config\.json: invalid config"):
        checkpoint.load_checkpoint(diffusers)
