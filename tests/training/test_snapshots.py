"""Snapshots of the latent space forming: the plan of steps, the file, its
last frame against the saved weights, a resumed run against a straight one,
and a run without snapshots trains the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from explorer import load_model
from explorer.data.dataset import ImageDataset
from explorer.model.checkpoint import CheckpointError
from explorer.training.config import TrainConfig
from explorer.training.snapshots import (
    FIRST_EPOCH,
    SNAPSHOT_FILE,
    plan,
    read_snapshots,
    sample_indices,
)
from explorer.training.train import train
from tests.helpers import tiny_dataset
from tests.training.test_train import _failing_loss, model_config


def run(out, epochs=3, model_type="vae", snapshots=24, held_out=None, **kw):
    cfg = TrainConfig(
        dataset="tiny", epochs=epochs, batch_size=4, val_fraction=0.25, **kw
    )
    return train(
        model_config(model_type),
        cfg,
        out,
        dataset=tiny_dataset(),
        progress=False,
        verbose=False,
        snapshots=snapshots,
        held_out=held_out,
    )


def test_the_plan_starts_at_zero_crowds_the_first_epoch_and_ends_at_the_last_step():
    steps = plan(24, 445, 100)
    assert steps[0] == 0 and steps[-1] == 445 * 100 and len(steps) == 24
    first = [s for s in steps if 0 < s <= 445]
    assert len(first) >= FIRST_EPOCH and first[-1] == 445
    later = [s for s in steps if s > 445]
    assert all(s % 445 == 0 for s in later)  # epoch ends
    assert steps == sorted(set(steps))
    # a short run has fewer distinct steps than frames asked for
    assert plan(24, 3, 2) == [0, 1, 2, 3, 6]
    assert plan(5, 10, 1)[0] == 0 and plan(5, 10, 1)[-1] == 10
    assert plan(0, 10, 3) == []
    assert plan(24, 445, 1)[-1] == 445


def test_the_sample_is_seeded_and_distinct():
    a = sample_indices(3000, 0)
    assert len(a) == 2000 and len(set(a)) == 2000 and np.all(np.diff(a) > 0)
    np.testing.assert_array_equal(a, sample_indices(3000, 0))
    assert not np.array_equal(a, sample_indices(3000, 1))
    assert len(sample_indices(5, 0)) == 5


@pytest.mark.parametrize("model_type", ["vae", "ae"])
def test_the_last_frame_is_the_saved_weights_encoding_of_the_sample(
    tmp_path, model_type
):
    run(tmp_path / "m", model_type=model_type)
    s = read_snapshots(tmp_path / "m")
    data = tiny_dataset()
    assert s.source["split"] == "validation"
    assert s.frames >= 9 and s.step[0] == 0
    # 48 training images / batch 4 = 12 steps per epoch
    assert s.source["steps_per_epoch"] == 12
    np.testing.assert_allclose(s.epoch, s.step / 12, rtol=1e-6)
    assert len([e for e in s.epoch if 0 < e <= 1]) >= FIRST_EPOCH
    np.testing.assert_array_equal(s.labels, data.labels[s.index])
    model = load_model(tmp_path / "m")
    x = torch.from_numpy(data.images[s.index]).float() / 255
    with torch.no_grad():
        enc = model.encode(x)
    np.testing.assert_allclose(s.means[-1], enc.mean.numpy(), rtol=0, atol=1e-5)
    if model_type == "vae":
        np.testing.assert_allclose(s.logvars[-1], enc.logvar.numpy(), atol=1e-5)
        assert s.kl[-1] > 0
    else:
        assert s.logvars is None and np.all(s.kl == 0)
    # it moved: the first frame is the untrained net's
    assert np.abs(s.means[0] - s.means[-1]).max() > 1e-3


def test_frames_after_the_best_epoch_are_left_out(tmp_path, monkeypatch):
    # make epoch 2 the best by making later validation losses worse
    from explorer.training import train as train_module

    real = train_module.evaluate_loss
    calls = {"n": 0}

    def worse_later(*a, **kw):
        calls["n"] += 1
        out = real(*a, **kw)
        return {**out, "loss": out["loss"] + (100.0 if calls["n"] > 2 else 0.0)}

    monkeypatch.setattr(train_module, "evaluate_loss", worse_later)
    state = run(tmp_path / "m", epochs=4)
    assert state.best_epoch == 2
    s = read_snapshots(tmp_path / "m")
    assert s.step[-1] == 2 * 12
    data = tiny_dataset()
    model = load_model(tmp_path / "m")
    with torch.no_grad():
        enc = model.encode(torch.from_numpy(data.images[s.index]).float() / 255)
    np.testing.assert_allclose(s.means[-1], enc.mean.numpy(), atol=1e-5)


def test_a_resumed_run_writes_the_same_snapshots_as_a_straight_one(
    tmp_path, monkeypatch
):
    run(tmp_path / "straight")
    # 12 steps + 1 validation batch per epoch (the snapshots' losses are
    # their own): stop mid-way through the second epoch
    _failing_loss(monkeypatch, 20, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut")
    monkeypatch.undo()
    half = read_snapshots(tmp_path / "cut")
    assert half is not None and half.step[-1] == 12  # the finished epoch's
    run(tmp_path / "cut")
    a = load_file(tmp_path / "straight" / SNAPSHOT_FILE)
    b = load_file(tmp_path / "cut" / SNAPSHOT_FILE)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert (tmp_path / "straight" / SNAPSHOT_FILE).read_bytes() == (
        tmp_path / "cut" / SNAPSHOT_FILE
    ).read_bytes()


def test_taking_snapshots_does_not_change_the_training(tmp_path):
    run(tmp_path / "with")
    run(tmp_path / "without", snapshots=0)
    assert not (tmp_path / "without" / SNAPSHOT_FILE).exists()
    a = load_model(tmp_path / "with").state_dict()
    b = load_model(tmp_path / "without").state_dict()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_a_held_out_split_is_sampled_when_given(tmp_path):
    rng = np.random.default_rng(3)
    held = ImageDataset(
        images=rng.integers(0, 256, (30, 1, 8, 8), dtype=np.uint8),
        labels=rng.integers(0, 3, 30),
        class_names=("a", "b", "c"),
        name="tiny",
        split="test",
    )
    run(tmp_path / "m", epochs=1, held_out=held)
    s = read_snapshots(tmp_path / "m")
    assert s.source["split"] == "test" and len(s.index) == 30
    np.testing.assert_array_equal(s.labels, held.labels[s.index])
    model = load_model(tmp_path / "m")
    with torch.no_grad():
        enc = model.encode(torch.from_numpy(held.images[s.index]).float() / 255)
    np.testing.assert_allclose(s.means[-1], enc.mean.numpy(), atol=1e-5)


def test_a_damaged_snapshot_file_is_refused_with_its_code(tmp_path):
    run(tmp_path / "m", epochs=1)
    path = tmp_path / "m" / SNAPSHOT_FILE
    t = load_file(path)
    t["step"] = t["step"][:-1]
    save_file(t, path)
    with pytest.raises(CheckpointError) as e:
        read_snapshots(tmp_path / "m")
    assert e.value.code == "bad_snapshots" and "step" in str(e.value)
    path.write_bytes(b"\x80\x04garbage")
    with pytest.raises(CheckpointError) as e:
        read_snapshots(tmp_path / "m")
    assert e.value.code == "pickle"
    assert read_snapshots(tmp_path / "nothing") is None
