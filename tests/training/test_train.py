"""Training: smoke test, determinism, resume after interruption, NaN handling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import save as save_safetensors

from explorer import load_model
from explorer.model.config import ModelConfig
from explorer.training import train as train_module
from explorer.training.config import (
    TrainConfig,
    TrainingError,
    epoch_lr,
    split_validation,
)
from explorer.training.resume import STATE_FILE, saved_record
from explorer.training.train import train
from tests.helpers import image_folder, tiny_dataset


def model_config(model_type="vae", arch="mlp"):
    return ModelConfig(
        model_type=model_type,
        latent_dim=2,
        image_shape=(1, 8, 8),
        hidden=(32,),
        arch=arch,
        channels=(4, 8),
        num_classes=3,
        dataset="tiny",
        class_names=("a", "b", "c"),
    )


def run(out, epochs=2, model_type="vae", arch="mlp", **kw):
    cfg = TrainConfig(
        dataset="tiny", epochs=epochs, batch_size=16, val_fraction=0.25, **kw
    )
    return train(
        model_config(model_type, arch),
        cfg,
        out,
        dataset=tiny_dataset(),
        progress=False,
        verbose=False,
    )


def tensors(folder):
    return load_model(folder).state_dict()


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("model_type", ["ae", "vae", "cvae"])
def test_one_epoch_smoke(tmp_path, model_type, arch):
    state = run(tmp_path / "m", epochs=1, model_type=model_type, arch=arch)
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == [
        "config.json",
        "model.safetensors",
        "snapshots.safetensors",
        "train_state.safetensors",
        "training.json",
    ]
    record = json.loads((tmp_path / "m" / "training.json").read_text())
    assert (
        record["complete"]
        and record["train_images"] == 48
        and record["val_images"] == 16
    )
    h = state.history[0]
    assert h["train_loss"] > 0 and h["val_loss"] > 0
    assert (h["train_kl"] > 0) == (model_type != "ae")
    model = load_model(tmp_path / "m")
    assert (model.config.model_type, model.config.arch) == (model_type, arch)
    assert model.exportable == (arch == "mlp")


def test_training_reduces_the_loss(tmp_path):
    state = run(tmp_path / "m", epochs=15, lr=1e-2)
    losses = [h["val_loss"] for h in state.history]
    assert losses[-1] < 0.8 * losses[0]
    assert state.best_epoch == 1 + losses.index(min(losses))


def test_same_seed_same_weights_other_seed_differs(tmp_path):
    run(tmp_path / "a", seed=1)
    run(tmp_path / "b", seed=1)
    run(tmp_path / "c", seed=2)
    assert_same(tensors(tmp_path / "a"), tensors(tmp_path / "b"))
    a, c = tensors(tmp_path / "a"), tensors(tmp_path / "c")
    assert not torch.equal(a["encoder.0.weight"], c["encoder.0.weight"])


def _failing_loss(monkeypatch, at_call, exc=None):
    real = train_module.loss_terms
    calls = {"n": 0}

    def wrapped(*a, **kw):
        calls["n"] += 1
        terms = real(*a, **kw)
        if calls["n"] == at_call:
            if exc:
                raise exc
            terms.total = terms.total * float("nan")
        return terms

    monkeypatch.setattr(train_module, "loss_terms", wrapped)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch, arch):
    run(tmp_path / "straight", epochs=3, arch=arch)
    # 3 batches + 1 validation batch per epoch: call 6 is mid-way through epoch 2.
    _failing_loss(monkeypatch, 6, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut", epochs=3, arch=arch)
    record = json.loads((tmp_path / "cut" / "training.json").read_text())
    assert record["state"]["epochs_done"] == 1 and not record["complete"]
    load_model(tmp_path / "cut")  # the last finished epoch is intact
    monkeypatch.undo()
    state = run(tmp_path / "cut", epochs=3, arch=arch)
    assert state.epochs_done == 3
    assert load_model(tmp_path / "cut").config.arch == arch
    assert_same(tensors(tmp_path / "straight"), tensors(tmp_path / "cut"))
    straight = json.loads((tmp_path / "straight" / "training.json").read_text())[
        "state"
    ]["history"]
    assert [h["val_loss"] for h in straight] == [h["val_loss"] for h in state.history]


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(
    tmp_path, monkeypatch
):
    run(tmp_path / "one", epochs=1)
    _failing_loss(monkeypatch, 6)
    with pytest.raises(
        TrainingError,
        match=r"loss became nan in epoch 2 at batch 1.*last good checkpoint",
    ):
        run(tmp_path / "m", epochs=3)
    assert_same(tensors(tmp_path / "one"), tensors(tmp_path / "m"))


def test_resume_with_other_settings_is_refused(tmp_path):
    run(tmp_path / "m", epochs=1)
    with pytest.raises(TrainingError, match="different settings"):
        run(tmp_path / "m", epochs=2, lr=0.5)


def test_a_stop_between_the_state_file_and_its_json_copy_resumes_consistently(
    tmp_path, monkeypatch
):
    """A stop after the state file's rename but before training.json's leaves
    the JSON one epoch behind; resuming follows the state file, not the copy."""
    from explorer.training import resume as resume_module

    run(tmp_path / "straight", epochs=3)
    real, calls = resume_module.write_json, {"n": 0}

    def stop_at_the_second(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(resume_module, "write_json", stop_at_the_second)
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run(cut, epochs=3)
    monkeypatch.undo()
    lagging = json.loads((cut / "training.json").read_text())
    assert lagging["state"]["epochs_done"] == 1
    assert saved_record(cut)[0]["state"]["epochs_done"] == 2
    assert run(cut, epochs=3).epochs_done == 3
    assert_same(tensors(tmp_path / "straight"), tensors(cut))
    record = json.loads((cut / "training.json").read_text())
    assert record["complete"] and record["state"]["epochs_done"] == 3


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda b: b[: len(b) // 2], "not a valid safetensors"),
        (lambda b: save_safetensors({"x": torch.zeros(1)}), "carries no record"),
        (lambda b: b"\x80\x04pickle", "pickle"),
    ],
)
def test_a_damaged_state_file_is_refused_with_a_message(tmp_path, damage, says):
    run(tmp_path / "m", epochs=1)
    path = tmp_path / "m" / STATE_FILE
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(TrainingError, match=f"cannot resume.*{says}"):
        run(tmp_path / "m", epochs=2)


def test_longer_run_continues_a_finished_one(tmp_path):
    run(tmp_path / "m", epochs=1)
    assert run(tmp_path / "m", epochs=2).epochs_done == 2


def test_cvae_on_unlabelled_data_is_refused(tmp_path):
    ds = tiny_dataset()
    ds.labels = None
    cfg = TrainConfig(dataset="tiny", epochs=1)
    with pytest.raises(TrainingError, match="needs labelled data"):
        train(
            model_config("cvae"),
            cfg,
            tmp_path / "m",
            dataset=ds,
            progress=False,
            verbose=False,
        )


def test_validation_split_and_lr_schedule():
    tr, va = split_validation(100, 0.1, seed=0)
    assert len(va) == 10 and len(tr) == 90 and not set(tr) & set(va)
    cfg = TrainConfig(lr=1e-3, lr_min_ratio=0.1, epochs=10)
    assert epoch_lr(cfg, 0) == pytest.approx(1e-3)
    assert epoch_lr(cfg, 10) == pytest.approx(1e-4)
    assert epoch_lr(cfg, 5) == pytest.approx(5.5e-4)


TRAIN_CMD = [
    sys.executable,
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
    "20",
    "--limit",
    "3000",
    "--no-progress",
]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """``TRAIN_CMD`` run to the end without a stop: what every resumed run of
    it must equal (trained once for the module, in its own cache)."""
    out = tmp_path_factory.mktemp("straight") / "run"
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache")),
    }
    env.pop("EXPLORER_DATA_DIR", None)
    subprocess.run(
        [*TRAIN_CMD, "--out", str(out)], check=True, env=env, capture_output=True
    )
    return out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["int", "kill"])
def test_signal_keeps_last_epoch_and_resume_matches_uninterrupted_run(
    tmp_path, sig, straight
):
    """Ctrl-C exits cleanly; SIGKILL (no chance to clean up) lands mid-epoch,
    mid-write even: the atomic writes leave the last finished epoch whole."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "cut"
    proc = subprocess.Popen(
        [*TRAIN_CMD, "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        record = out / "training.json"
        if (
            record.is_file()
            and json.loads(record.read_text())["state"]["epochs_done"] >= 1
        ):
            break
        time.sleep(0.02)
    time.sleep(0.3)  # into the next epoch
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    # The state file is the truth; training.json may lag by one epoch after a kill.
    done = saved_record(out)[0]["state"]["epochs_done"]
    assert 1 <= done < 20, "the signal should land mid-run"
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "interrupted" in err and "resume" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    load_model(out)
    resumed = subprocess.run(
        [*TRAIN_CMD, "--out", str(out)], env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {out} after epoch {done}" in resumed.stdout
    assert_same(tensors(straight), tensors(out))


def test_a_folder_read_lazily_by_workers_trains_like_the_same_images_in_memory(
    tmp_path,
):
    from PIL import Image

    from explorer.data.folder import FolderImages, load_folder

    ds = tiny_dataset(48)
    for i, (im, c) in enumerate(zip(ds.images, ds.labels, strict=True)):
        path = tmp_path / "data" / "abc"[c] / f"{i:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(im[0]).save(path)
    cfg = TrainConfig(dataset="tiny", epochs=2, batch_size=16, val_fraction=0.25)
    kw = {"progress": False, "verbose": False}
    lazy = FolderImages(tmp_path / "data", size=(8, 8))
    train(model_config(), cfg, tmp_path / "lazy", dataset=lazy, workers=2, **kw)
    eager = load_folder(tmp_path / "data", size=(8, 8))
    train(model_config(), cfg, tmp_path / "eager", dataset=eager, **kw)
    assert_same(tensors(tmp_path / "lazy"), tensors(tmp_path / "eager"))


def _cli_train(folder, out, *extra):
    return [
        sys.executable,
        "-m",
        "explorer",
        "train",
        "--dataset",
        f"folder:{folder}",
        "--image-size",
        "8",
        "--hidden",
        "16",
        "--epochs",
        "3",
        "--workers",
        "0",
        "--out",
        str(out),
        *extra,
    ]


def test_piped_training_output_is_one_line_per_epoch(tmp_path):
    """In a file or a CI log: no progress-bar redraws, one line per epoch; the
    folder is recorded as an absolute path (the app's encode hint uses it)."""
    image_folder(tmp_path / "imgs", 300)
    run_ = subprocess.run(
        _cli_train("imgs", tmp_path / "m"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert run_.returncode == 0, run_.stdout
    lines = run_.stdout.splitlines()
    assert "\r" not in run_.stdout and "it/s" not in run_.stdout
    assert [ln.split(":")[0] for ln in lines] == [
        "epoch 1/3",
        "epoch 2/3",
        "epoch 3/3",
        "done",
    ]
    record = json.loads((tmp_path / "m" / "training.json").read_text())
    assert record["train"]["dataset"] == f"folder:{tmp_path / 'imgs'}"


def test_a_terminal_still_shows_the_progress_bar(tmp_path):
    import fcntl
    import pty
    import struct
    import termios

    image_folder(tmp_path / "imgs", 300)
    main, child = pty.openpty()
    # an 80-column terminal (a new pty has 0 columns, where tqdm draws nothing)
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(
        _cli_train(tmp_path / "imgs", tmp_path / "m"), stdout=child, stderr=child
    )
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(timeout=120) == 0
    assert b"\r" in out and b"it/s" in out, out[-500:]


def test_a_cvae_on_one_class_is_refused_with_a_message(tmp_path):
    image_folder(tmp_path / "imgs", 20, classes=1)
    run_ = subprocess.run(
        _cli_train(tmp_path / "imgs", tmp_path / "m", "--model", "cvae"),
        capture_output=True,
        text=True,
    )
    assert run_.returncode == 2
    assert "a cvae needs labelled data with at least 2 classes" in run_.stderr
    assert "Traceback" not in run_.stderr
    assert not (tmp_path / "m").exists()
