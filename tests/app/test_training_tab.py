"""The Training tab in AppTest: each model's curves from its training.json,
the kept epoch marked, and a model without a history says so; the map
forming: the replay's frames are the snapshot files' means (2-D) or their
PCA (fitted on the last frame), a slider step per frame, the curves' cursor
at each frame's epoch, and a model without snapshots says so."""

from __future__ import annotations

import base64
import json
import shutil

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.app.components.latent_map import COLORS
from explorer.fileio import weights_dir
from explorer.model.checkpoint import TRAINING_FILE
from explorer.training.snapshots import SNAPSHOT_FILE
from tests.helpers import APP, errors
from tests.snapshot_files import STEPS_PER_EPOCH, write_snapshots

DS = "fashion-mnist"
AE, VAE = "fashion-mnist-ae-z2", "fashion-mnist-vae-z2"


def _open(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["live"] = False
    at.query_params["tab"] = "Training"
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _charts(at, key: str = "training_chart_") -> list[dict]:
    return [
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if c.proto.id.split("-", 2)[-1].startswith(key)
    ]


def _array(v) -> np.ndarray:
    """A Plotly JSON array: a list, or a typed array (``bdata``)."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v)


def _weights(tmp_path, monkeypatch):
    """The default pair's folders, without snapshot files, in a weights
    folder of the test's own."""
    weights = tmp_path / "weights"
    for name in (AE, VAE):
        ignore = shutil.ignore_patterns(SNAPSHOT_FILE)
        shutil.copytree(weights_dir() / name, weights / name, ignore=ignore)
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(weights))
    return weights


def test_both_models_curves_are_their_training_json():
    at = _open()
    assert not errors(at)
    charts = _charts(at)
    assert len(charts) == 2
    for chart, name in zip(charts, (AE, VAE), strict=True):
        state = json.loads((weights_dir() / name / TRAINING_FILE).read_text())["state"]
        rows = state["history"]
        by_name = {}
        for trace in chart["data"]:
            by_name.setdefault((trace.get("xaxis"), trace["line"].get("dash")), trace)
        # the loss panel: training solid, validation dashed
        assert by_name[("x", "solid")]["y"] == [r["train_loss"] for r in rows]
        assert by_name[("x", "dash")]["y"] == [r["val_loss"] for r in rows]
        assert by_name[("x", "solid")]["x"] == [r["epoch"] for r in rows]
        # the learning rate panel, and the kept epoch in every panel
        assert by_name[("x4", None)]["y"] == [r["lr"] for r in rows]
        lines = [s for s in chart["layout"]["shapes"] if s["type"] == "line"]
        panels = 3 if name == AE else 4  # (an AE's KL panel is empty: no KL)
        assert len(lines) == panels
        assert {s["x0"] for s in lines} == {state["best_epoch"]}
    assert "no KL term" in json.dumps(charts[0]["layout"]["annotations"])
    captions = " ".join(c.value for c in at.caption)
    assert "the weights kept are epoch" in captions


def test_a_model_without_a_history_says_so(tmp_path, monkeypatch):
    weights = tmp_path / "weights"
    for name in (AE, VAE):
        shutil.copytree(weights_dir() / name, weights / name)
    (weights / AE / TRAINING_FILE).unlink()
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(weights))
    at = _open()
    assert not errors(at)
    assert any("No training history for" in i.value for i in at.info)
    assert len(_charts(at)) == 1


def test_the_replay_moves_the_snapshots_points(tmp_path, monkeypatch):
    """The AE's 2-D snapshots as they are, the VAE's 3-D ones through one PCA
    fitted on their last frame; one slider step per frame, labelled with its
    epoch; the cursor at each frame's epoch (step 0 at the log axis's left)."""
    weights = _weights(tmp_path, monkeypatch)
    steps = [0, 2, 10, 50, 100, 300]
    ae = write_snapshots(weights / AE, steps, 40, 2, vae=False, seed=1)
    vae = write_snapshots(weights / VAE, steps, 40, 3, vae=True, seed=2)
    at = _open()
    assert not errors(at)
    (chart,) = _charts(at, "replay_chart")
    epochs = np.array(steps) / STEPS_PER_EPOCH  # (the file's are float32)
    # the VAE's frames, through the last frame's two principal axes
    centre = vae[-1].mean(0)
    axes = np.linalg.svd(vae[-1] - centre, full_matrices=False)[2][:2]
    projected = (vae - centre) @ axes.T  # [S, N, 2], up to each axis's sign
    frames = chart["frames"]
    assert len(frames) == len(steps)
    for k, frame in enumerate(frames):
        left, right = frame["data"][:2]
        xy = np.stack([_array(left["x"]), _array(left["y"])], 1)
        np.testing.assert_allclose(xy, ae[k], atol=1e-6)
        xy = np.stack([_array(right["x"]), _array(right["y"])], 1)
        sign = np.sign(np.sum(xy * projected[-1], 0))
        np.testing.assert_allclose(xy, projected[k] * sign, atol=1e-4)
        cursor = [s["x0"] for s in frame["layout"]["shapes"]]
        assert cursor == pytest.approx([max(epochs[k], epochs[1] / 2)] * 2)
    (slider,) = chart["layout"]["sliders"]
    assert [s["args"][0] for s in slider["steps"]] == [[f["name"]] for f in frames]
    assert slider["steps"][3]["label"] == "epoch 0.5"
    # the maps' axes hold every frame; the points in the maps' class colours
    x_range = chart["layout"]["xaxis"]["range"]
    assert x_range[0] < ae[..., 0].min() and x_range[1] > ae[..., 0].max()
    colours = chart["data"][0]["marker"]["color"]
    assert colours == [COLORS[i % 10] for i in range(40)]
    assert chart["data"][0]["hovertext"][:2] == ["T-shirt/top", "Trouser"]
    assert "PCA of the last snapshot" in chart["layout"]["xaxis2"]["title"]["text"]
    # the curves: each model's reconstruction, the VAE's KL (the AE has none)
    curves = chart["data"][2:]
    assert [len(_array(c["y"])) for c in curves] == [6, 6, 6]
    np.testing.assert_allclose(_array(curves[0]["y"]), 500 / np.arange(1, 7))
    captions = " ".join(c.value for c in at.caption)
    assert "40 held-out images, encoded at step 0" in captions


def test_a_model_without_snapshots_says_so(tmp_path, monkeypatch):
    weights = _weights(tmp_path, monkeypatch)
    write_snapshots(weights / VAE, [0, 5, 100], 30, 2, vae=True)
    at = _open()
    assert not errors(at)
    lines = [i.value for i in at.info]
    assert f"No snapshots for {AE}: train it with --snapshots" in lines
    (chart,) = _charts(at, "replay_chart")
    assert len(chart["frames"]) == 3
    assert len(chart["frames"][0]["data"][0]["x"]["bdata"]) > 0
