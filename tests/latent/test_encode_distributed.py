"""``torchrun --nproc-per-node 2 -m explorer encode``: two CPU processes
(gloo), each encoding its share of the store into the same memory-mapped
files, give the one-process run's files byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from explorer import cli
from explorer.model.autoencoder import build_model
from explorer.model.checkpoint import save_checkpoint
from explorer.model.config import ModelConfig
from tests.helpers import REPO

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
FILES = ("mean.npy", "logvar.npy", "recon.npy", "kl.npy", "loss.npy")


def test_two_processes_write_the_one_process_files_byte_for_byte(tmp_path):
    torch.manual_seed(0)
    config = ModelConfig(
        model_type="cvae",
        latent_dim=2,
        image_shape=(1, 28, 28),
        hidden=(16,),
        num_classes=10,
        class_names=tuple("0123456789"),
    )
    ckpt = tmp_path / "tiny-cvae"
    save_checkpoint(build_model(config).eval(), ckpt)
    # MNIST's bundled train5k: 5,000 images, 8 batches of 700 (the last of 100)
    args = ["encode", str(ckpt), "--dataset", "mnist", "--split", "train5k"]
    args += ["--name", "tiny", "--batch-size", "700", "--no-progress"]

    assert cli.main([*args, "--store", str(tmp_path / "one")]) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [*TORCHRUN, "--nproc-per-node", "2", "-m", "explorer", *args]
        + ["--store", str(tmp_path / "two")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    # only process 0 reports, once every share is done
    assert run.stdout.count("encode tiny-cvae: 5,000 images") == 1, run.stdout
    assert "2 processes" in run.stdout
    one, two = tmp_path / "one" / ckpt.name, tmp_path / "two" / ckpt.name
    for f in FILES:
        assert (two / f).read_bytes() == (one / f).read_bytes(), f
    a, b = (json.loads((d / "encoding.json").read_text()) for d in (one, two))
    assert {**a, "seconds": 0} == {**b, "seconds": 0}
    assert sorted(p.name for p in two.iterdir()) == sorted([*FILES, "encoding.json"])
