"""Encoding in shares: cut at the one-process run's batch boundaries, resumed
without encoding a finished piece again, on a chosen device and dtype."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from explorer import cli
from explorer.data.store import pack
from explorer.latent import placement as placement_mod
from explorer.latent import shards
from explorer.latent.encoded import encode, open_encoding
from explorer.latent.placement import (
    DeviceError,
    Placement,
    pick_device,
    pick_dtype,
    placed,
)
from explorer.latent.shards import Share, cut_shares
from explorer.model.autoencoder import build_model
from explorer.model.checkpoint import save_checkpoint
from explorer.model.config import ModelConfig
from tests.helpers import tiny_dataset

FILES = ("mean", "logvar", "recon", "kl", "loss")


def batches(n: int, bs: int) -> list[tuple[int, int]]:
    return [(i, min(i + bs, n)) for i in range(0, n, bs)]


@pytest.mark.parametrize(
    "n, bs, world",
    [(10, 4, 2), (1000, 64, 3), (1000, 64, 7), (5, 4, 4), (3, 8, 2), (0, 8, 2)],
)
def test_shares_are_the_one_process_runs_batches_dealt_out_in_order(n, bs, world):
    shares = cut_shares(n, bs, world)
    assert [s.rank for s in shares] == list(range(world))
    # contiguous, covering every row once, in rank order
    assert shares[0].start == 0 and shares[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(shares[:-1], shares[1:], strict=True))
    # every batch of each share is a batch of the one-process run
    dealt = [(a + s.start, b + s.start) for s in shares for a, b in batches(len(s), bs)]
    assert dealt == batches(n, bs)
    # as even as whole batches allow
    counts = [-(-len(s) // bs) for s in shares]
    assert max(counts) - min(counts) <= 1


def test_uneven_rows_and_more_processes_than_batches():
    assert cut_shares(10, 4, 2) == [Share(0, 0, 4), Share(1, 4, 10)]
    # 2 batches for 4 processes: two of them get nothing
    assert [len(s) for s in cut_shares(5, 4, 4)] == [0, 4, 0, 1]
    assert cut_shares(5, 4, 1) == [Share(0, 0, 5)]
    with pytest.raises(ValueError):
        cut_shares(5, 0, 1)


def test_a_share_is_cut_into_pieces_of_whole_batches():
    assert Share(0, 16, 116).pieces(8, 3) == [
        (16, 40),
        (40, 64),
        (64, 88),
        (88, 112),
        (112, 116),
    ]
    assert Share(1, 4, 4).pieces(8, 3) == []


# --- the writer ----------------------------------------------------------------


def tiny_checkpoint(tmp_path, kind: str = "vae"):
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(
            model_type=kind,
            latent_dim=2,
            image_shape=(1, 8, 8),
            hidden=(16,),
            num_classes=3,
            class_names=("a", "b", "c"),
        )
    ).eval()
    save_checkpoint(model, tmp_path / f"tiny-{kind}")
    return model, tmp_path / f"tiny-{kind}"


def stored(folder) -> dict[str, bytes]:
    return {f: (folder / f"{f}.npy").read_bytes() for f in FILES}


class Interrupted(Exception):
    """The process stopped (a Ctrl-C, a machine lost)."""


class Counted:
    """Counts the images a model encodes (the contract check's two aside),
    and raises once it has encoded ``fail_after`` batches."""

    def __init__(self, model, monkeypatch, fail_after: int | None = None):
        self.rows, self.calls = 0, 0
        encode_ = type(model).encode.__get__(model)  # the real one, unwrapped

        def counted(x, y=None):
            if len(x) > 2:
                if self.calls == fail_after:
                    raise Interrupted
                self.calls += 1
                self.rows += len(x)
            return encode_(x, y)

        monkeypatch.setattr(model, "encode", counted)


def test_an_interrupted_encoding_resumes_without_encoding_finished_pieces(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(shards, "PIECE_BATCHES", 2)
    ds = tiny_dataset(300)
    model, ckpt = tiny_checkpoint(tmp_path)
    whole = pack(ds, tmp_path / "whole", "tiny", progress=False)
    encode(model, ckpt, whole, batch_size=32, progress=False)
    want = stored(whole / ckpt.name)

    store = pack(ds, tmp_path / "cut", "tiny", progress=False)
    first = Counted(model, monkeypatch, fail_after=5)  # in the 3rd piece
    with pytest.raises(Interrupted):
        encode(model, ckpt, store, batch_size=32, progress=False)
    assert first.rows == 5 * 32
    assert not (store / ckpt.name / "encoding.json").exists()
    assert len(list((store / ckpt.name).glob(".rows-*.json"))) == 2

    again = Counted(model, monkeypatch)
    encode(model, ckpt, store, batch_size=32, progress=False)
    assert again.rows == 300 - 4 * 32  # the two finished pieces were not encoded
    assert stored(store / ckpt.name) == want
    assert not list((store / ckpt.name).glob(".*"))  # no marker, no part left
    open_encoding(store, ckpt)

    # markers of another layout (here another batch size) are not trusted
    first = Counted(model, monkeypatch, fail_after=3)
    with pytest.raises(Interrupted):
        encode(model, ckpt, store, batch_size=32, progress=False)
    other = Counted(model, monkeypatch)
    encode(model, ckpt, store, batch_size=50, progress=False)
    assert first.rows == 3 * 32 and other.rows == 300
    a, b = open_encoding(whole, ckpt), open_encoding(store, ckpt)
    np.testing.assert_allclose(b.mean, a.mean, rtol=1e-5, atol=1e-6)


# --- device and dtype ----------------------------------------------------------


def test_devices_are_parsed_and_a_missing_gpu_is_said_plainly(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("auto") == pick_device("CPU") == torch.device("cpu")
    with pytest.raises(DeviceError) as e:
        pick_device("cuda")
    assert e.value.code == "no_cuda" and "--device cpu" in str(e.value)
    for bad in ("gpu", "cpu:1", "cuda:x", ""):
        with pytest.raises(DeviceError) as e:
            pick_device(bad)
        assert e.value.code == "device"

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert pick_device("auto", local_rank=1) == torch.device("cuda:1")
    assert pick_device("cuda:0", local_rank=1) == torch.device("cuda:0")
    with pytest.raises(DeviceError) as e:
        pick_device("cuda:2")
    assert e.value.code == "cuda_index" and "cuda:0 to cuda:1" in str(e.value)


def test_a_dtype_the_device_cannot_compute_in_is_refused(monkeypatch):
    cpu = torch.device("cpu")
    assert pick_dtype("bfloat16", cpu) is torch.bfloat16
    with pytest.raises(DeviceError) as e:
        pick_dtype("float64", cpu)
    assert e.value.code == "dtype"

    def no_half(*args, **kw):
        raise RuntimeError("\"slow_conv2d_cpu\" not implemented for 'Half'")

    monkeypatch.setattr(placement_mod.F, "conv2d", no_half)
    with pytest.raises(DeviceError) as e:
        pick_dtype("float16", cpu)
    assert e.value.code == "dtype_device" and "slow_conv2d_cpu" in str(e.value)
    assert "--dtype float32" in str(e.value)


def test_the_command_refuses_a_gpu_it_has_not(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = ["encode", "x", "--dataset", "mnist", "--name", "n", "--store", "s"]
    assert cli.main([*args, "--device", "cuda:1"]) == 2
    err = capsys.readouterr().err
    assert "no CUDA GPU" in err and "--device cpu" in err


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_arithmetic_stores_float32_close_to_float32s(tmp_path, dtype):
    ds = tiny_dataset(200)
    model, ckpt = tiny_checkpoint(tmp_path, "cvae")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    full = pack(ds, tmp_path / "full", "tiny", progress=False)
    half = pack(ds, tmp_path / "half", "tiny", progress=False)
    encode(model, ckpt, full, progress=False)
    where = Placement(torch.device("cpu"), dtype)
    encode(model, ckpt, half, progress=False, where=where)
    a, b = open_encoding(full, ckpt), open_encoding(half, ckpt)
    assert b.mean.dtype == b.logvar.dtype == np.float32
    assert all(v.dtype == np.float32 for v in b.measures.values())
    spread = a.mean.std()
    tol = 0.02 if dtype == torch.bfloat16 else 0.005
    assert np.abs(b.mean - a.mean).max() < tol * spread
    assert not np.array_equal(b.mean, a.mean)  # it really ran in another dtype
    for k in ("recon", "kl", "loss"):
        np.testing.assert_allclose(b.measures[k], a.measures[k], rtol=tol, atol=tol)
    record = json.loads((half / ckpt.name / "encoding.json").read_text())
    assert record["dtype"] == str(dtype).removeprefix("torch.")
    # the model is put back as it was: the same float32 weights, bit for bit
    for k, v in model.state_dict().items():
        assert v.dtype == before[k].dtype and torch.equal(v, before[k]), k


def test_placed_models_give_float32_and_restore_every_tensor():
    torch.manual_seed(0)
    net = build_model(ModelConfig(latent_dim=2, image_shape=(1, 8, 8), hidden=(8,)))
    ids = [id(p) for p in net.parameters()]
    with placed(net, Placement(torch.device("cpu"), torch.float16)) as m:
        assert next(net.parameters()).dtype == torch.float16
        enc = m.encode(torch.rand(3, 1, 8, 8))
        assert enc.mean.dtype == enc.logvar.dtype == torch.float32
        assert m.decode(enc.mean).dtype == torch.float32
        assert m.latent_dim == 2 and m.kind == "vae"
    assert [id(p) for p in net.parameters()] == ids
    assert all(p.dtype == torch.float32 for p in net.parameters())


def test_the_api_encodes_in_the_dtype_asked_and_refuses_a_missing_gpu(
    tmp_path, monkeypatch
):
    from explorer.api import prepare

    monkeypatch.setenv("EXPLORER_SPACES_DIR", str(tmp_path / "spaces"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    model, ckpt = tiny_checkpoint(tmp_path)
    with pytest.raises(DeviceError, match="--device cpu"):
        prepare([str(ckpt)], tiny_dataset(40), device="cuda", progress=False)
    said: list[str] = []
    kw = {"progress": False, "report": said.append}
    session = prepare([str(ckpt)], tiny_dataset(40), dtype="bfloat16", **kw)
    (chosen,) = session.models
    record = json.loads((session.store / chosen.key / "encoding.json").read_text())
    assert record["dtype"] == "bfloat16"
    # the page's model is float32 on the CPU again
    assert {p.dtype for p in chosen.model.parameters()} == {torch.float32}
    # the same dtype again reuses it; float32 encodes again
    said.clear()
    prepare([str(ckpt)], tiny_dataset(40), dtype="bfloat16", **kw)
    assert said[-1].endswith("reusing its encoding (same weights)")
    prepare([str(ckpt)], tiny_dataset(40), **kw)
    assert said[-1].endswith("encoded 40 images")
