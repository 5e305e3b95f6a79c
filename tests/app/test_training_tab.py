"""The Training tab in AppTest: each model's curves from its training.json,
the kept epoch marked, and a model without a history says so."""

from __future__ import annotations

import json
import shutil

from streamlit.testing.v1 import AppTest

from explorer.fileio import weights_dir
from explorer.model.checkpoint import TRAINING_FILE
from tests.helpers import APP, errors

DS = "fashion-mnist"
AE, VAE = "fashion-mnist-ae-z2", "fashion-mnist-vae-z2"


def _open(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["live"] = False
    at.query_params["tab"] = "Training"
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


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
