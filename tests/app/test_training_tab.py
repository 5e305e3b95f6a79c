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


def _canvas(at) -> dict:
    """The canvas element's data (the replay's), as the browser gets it."""
    (el,) = [
        e
        for e in at.get("bidi_component")
        if e.proto.component_name == "latent_explorer_canvas"
    ]
    return json.loads(json.loads(el.proto.json)["canvas"])


def _frames(panel: dict) -> np.ndarray:
    """A map panel's positions, decoded as the browser does: ``[F, N, 2]``."""
    xy = np.frombuffer(base64.b64decode(panel["frames"]), dtype="<f4")
    return xy.reshape(-1, panel["n"], 2)


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
    d = _canvas(at)
    epochs = np.array(steps) / STEPS_PER_EPOCH  # (the file's are float32)
    # the VAE's frames, through the last frame's two principal axes
    centre = vae[-1].mean(0)
    axes = np.linalg.svd(vae[-1] - centre, full_matrices=False)[2][:2]
    projected = (vae - centre) @ axes.T  # [S, N, 2], up to each axis's sign
    left, right, recon, kl = d["panels"]
    assert len(d["steps"]) == len(steps) and d["steps"][3] == "epoch 0.5"
    assert left["pick"] == right["pick"] == list(range(len(steps)))
    np.testing.assert_allclose(_frames(left), ae, atol=1e-6)
    xy = _frames(right)
    sign = np.sign(np.sum(xy[-1] * projected[-1], 0))
    np.testing.assert_allclose(xy, projected * sign, atol=1e-4)
    for panel in (recon, kl):
        want = np.maximum(epochs, epochs[1] / 2)
        assert panel["marker"]["x"] == pytest.approx(want)
    # the maps' axes hold every frame; the points in the maps' class colours
    x0, x1 = left["range"][:2]
    assert x0 < ae[..., 0].min() and x1 > ae[..., 0].max()
    labels = np.frombuffer(base64.b64decode(left["labels"]), np.uint8)
    assert labels.tolist() == [i % 10 for i in range(40)]
    assert left["palette"] == list(COLORS) and left["names"][:2] == [
        "T-shirt/top",
        "Trouser",
    ]
    assert "PCA of the last snapshot" in right["axes"][0]
    # the curves: each model's reconstruction, the VAE's KL (the AE has none)
    assert [len(c["y"]) for c in recon["series"] + kl["series"]] == [6, 6, 6]
    np.testing.assert_allclose(recon["series"][0]["y"], 500 / np.arange(1, 7))
    captions = " ".join(c.value for c in at.caption)
    assert "40 held-out images, encoded at step 0" in captions


def test_a_model_without_snapshots_says_so(tmp_path, monkeypatch):
    weights = _weights(tmp_path, monkeypatch)
    write_snapshots(weights / VAE, [0, 5, 100], 30, 2, vae=True)
    at = _open()
    assert not errors(at)
    lines = [i.value for i in at.info]
    assert f"No snapshots for {AE}: train it with `train --snapshots`" in lines
    (panel,) = [p for p in _canvas(at)["panels"] if p["kind"] == "map"]
    assert _frames(panel).shape == (3, 30, 2)
