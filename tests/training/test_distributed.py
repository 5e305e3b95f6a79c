"""Distributed training: ``torchrun`` with 2 CPU processes (gloo) against one
process with the same seed and global batch, resume, and clear refusals.

Tolerance: every per-epoch loss and every held-out metric within a relative
1e-5, every weight within 1e-5. Two processes compute the same sums in another
order (gradients averaged by all-reduce), so they differ by float32 rounding
only: about 1e-8 relative after 4 epochs on this machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from explorer import load_model
from explorer.training.evaluate import evaluate_checkpoint
from explorer.training.snapshots import read_snapshots

REL = 1e-5
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone"]


def train_args(out, epochs: int = 4, batch: int = 100, conv: bool = False) -> list[str]:
    """MNIST's train5k split, bundled with the package (no data folder needed)."""
    arch = ["--arch", "conv", "--conv-channels", "8", "16"] if conv else []
    return [
        "-m",
        "explorer",
        "train",
        "--dataset",
        "mnist",
        "--train-split",
        "train5k",
        "--model",
        "vae",
        "--hidden",
        "64",
        "--epochs",
        str(epochs),
        "--limit",
        "2000",
        "--batch-size",
        str(batch),
        "--no-progress",
        "--out",
        str(out),
        *arch,
    ]


def single(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=300
    )


def torchrun(args: list[str], nproc: int = 2) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*TORCHRUN, "--nproc-per-node", str(nproc), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def history(out) -> list[dict]:
    return json.loads((out / "training.json").read_text())["state"]["history"]


def assert_close_runs(a, b) -> None:
    ha, hb = history(a), history(b)
    assert len(ha) == len(hb)
    for x, y in zip(ha, hb, strict=True):
        for k in ("train_loss", "train_recon", "train_kl", "val_loss", "val_kl"):
            assert y[k] == pytest.approx(x[k], rel=REL), (x["epoch"], k)
    wa, wb = load_model(a).state_dict(), load_model(b).state_dict()
    for k in wa:
        torch.testing.assert_close(wb[k], wa[k], rtol=0, atol=1e-5)
    # the map forming: the same frames, the same sample, within 1e-5
    sa, sb = read_snapshots(a), read_snapshots(b)
    assert sa.frames == sb.frames >= 9
    np.testing.assert_array_equal(sb.index, sa.index)
    np.testing.assert_array_equal(sb.step, sa.step)
    np.testing.assert_allclose(sb.means, sa.means, rtol=0, atol=1e-5)
    np.testing.assert_allclose(sb.logvars, sa.logvars, rtol=0, atol=1e-5)


def test_two_processes_match_one(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    r1 = single(train_args(one))
    assert r1.returncode == 0, r1.stderr
    r2 = torchrun(train_args(two))
    assert r2.returncode == 0, r2.stderr
    # Only rank 0 prints (and writes): one line per epoch, not two.
    assert r2.stdout.count("epoch 1/4:") == 1, r2.stdout
    record = json.loads((two / "training.json").read_text())
    assert record["world_size"] == 2 and record["train_images"] == 1900
    assert_close_runs(one, two)
    # The loss curve really moves: a match of flat curves would prove nothing.
    assert history(one)[-1]["train_loss"] < 0.7 * history(one)[0]["train_loss"]

    m1, m2 = (
        evaluate_checkpoint(p, iw_samples=50, iw_images=200, seed=0) for p in (one, two)
    )
    for k in ("recon", "kl", "neg_elbo", "iw_nll", "mse", "knn5_acc"):
        assert m2[k] == pytest.approx(m1[k], rel=REL), k


def test_two_processes_match_one_for_a_conv_net(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    args = {"epochs": 2, "conv": True}
    r1 = single(train_args(one, **args))
    assert r1.returncode == 0, r1.stderr
    r2 = torchrun(train_args(two, **args))
    assert r2.returncode == 0, r2.stderr
    assert load_model(one).config.arch == "conv"
    assert_close_runs(one, two)
    assert history(one)[-1]["train_loss"] < history(one)[0]["train_loss"]


def test_interrupted_distributed_run_resumes_to_the_single_process_result(tmp_path):
    ref, out = tmp_path / "ref", tmp_path / "cut"
    assert single(train_args(ref, epochs=8)).returncode == 0
    proc = subprocess.Popen(
        [*TORCHRUN, "--nproc-per-node", "2", *train_args(out, epochs=8)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    record = out / "training.json"
    while time.monotonic() < deadline:
        if record.is_file() and json.loads(record.read_text())["state"]["epochs_done"]:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    # Ctrl-C: torchrun stops its workers (where they are: mid-epoch, mid-write).
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    done = json.loads(record.read_text())["state"]["epochs_done"]
    assert 1 <= done < 8, "the kill should land mid-run"
    load_model(out)  # the last finished epoch is whole

    resumed = torchrun(train_args(out, epochs=8))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {out} after epoch {done}" in resumed.stdout
    assert_close_runs(ref, out)


def test_a_batch_the_processes_cannot_share_is_refused(tmp_path):
    r = torchrun(train_args(tmp_path / "m", epochs=1, batch=101))
    assert r.returncode != 0
    assert "must divide evenly between the 2 processes" in r.stderr
    assert not (tmp_path / "m").exists()
