"""``explorer.explore`` and ``latent-explorer explore``: models opened and
checked on the data, one store per data cached by each model's weights, and
the app served in this process on exactly those models."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import explorer
from explorer.api import prepare
from explorer.app import session as explore_session
from explorer.app.session import SCRIPT, Served
from explorer.cli import main
from explorer.data.store import ENCODING_FILE, StoreError
from explorer.model.adapters import ModelContractError, fingerprint
from explorer.model.adapters.module import import_object
from tests.helpers import (
    errors,
    image_folder,
    plain,
    train_on_folder,
    user_conv_vae,
)


@pytest.fixture
def folder(tmp_path) -> Path:
    return image_folder(tmp_path / "squares", 40, classes=3, side=16)


@pytest.fixture
def vae_ref(tmp_path) -> str:
    return user_conv_vae(tmp_path)


@pytest.fixture
def mlp_ae(tmp_path, folder) -> Path:
    (path,) = train_on_folder(folder, tmp_path / "w", "squares", ("ae",), side=16)
    return path


def _stamp(session) -> dict[str, int]:
    return {
        m.key: (session.store / m.key / ENCODING_FILE).stat().st_mtime_ns
        for m in session.models
    }


def test_a_second_run_reuses_the_store_and_new_weights_encode_again(
    folder, vae_ref, mlp_ae
):
    first = prepare([vae_ref, str(mlp_ae)], f"folder:{folder}", progress=False)
    assert [m.model.kind for m in first.models] == ["vae", "ae"]
    assert first.label == "folder squares"
    stamps = _stamp(first)
    again = prepare([vae_ref, str(mlp_ae)], f"folder:{folder}", progress=False)
    assert again.store == first.store and _stamp(again) == stamps
    # Other weights, the same model class: a new encoding beside the old one.
    other = import_object(vae_ref)()
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.01)
    moved = prepare([other], f"folder:{folder}", progress=False)
    assert moved.store == first.store
    assert moved.models[0].key not in stamps
    assert moved.models[0].weights == fingerprint(moved.models[0].model)
    # A new image in the folder is other data: another store.
    image_folder(folder, 41, classes=3, side=16)
    grown = prepare([vae_ref], f"folder:{folder}", progress=False)
    assert grown.store != first.store


def test_the_stored_codes_are_the_models_own(folder, vae_ref):
    session = prepare([vae_ref], f"folder:{folder}", progress=False)
    m = session.models[0]
    mean = np.load(session.store / m.key / "mean.npy")
    x = torch.from_numpy(np.load(session.store / "images.npy")).float() / 255
    own = import_object(vae_ref)().requires_grad_(False)
    np.testing.assert_allclose(mean, own.encode(x)[0].numpy(), atol=1e-5)


def test_images_in_memory_with_named_labels(vae_ref):
    x = torch.rand(12, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    labels = ["cat", "dog", "cat", "bird"] * 3
    session = prepare([import_object(vae_ref)()], x, labels, progress=False)
    data = json.loads((session.store / "dataset.json").read_text())
    assert data["class_names"] == ["cat", "dog", "bird"]
    assert np.load(session.store / "labels.npy").tolist()[:4] == [0, 1, 0, 2]
    assert session.label == "your images"


def test_fingerprint_follows_the_weights(vae_ref):
    a, b = import_object(vae_ref)(), import_object(vae_ref)()
    assert fingerprint(a) == fingerprint(b)
    with torch.no_grad():
        next(b.parameters())[0] += 1e-3
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(object()) is None


def test_models_of_another_image_size_get_one_clear_error(folder, tmp_path, mlp_ae):
    wrong = user_conv_vae(tmp_path, side=8)
    with pytest.raises(ModelContractError, match=r"image of shape \[1, 1, 16, 16\]"):
        prepare([wrong], f"folder:{folder}", progress=False)
    # The folder is read at the size of the explorer's own model (8 px here).
    (small,) = train_on_folder(folder, tmp_path / "w8", "small", ("ae",), side=8)
    with pytest.raises(
        ModelContractError,
        match=r"squares-ae-z2 takes images of shape \[1, 16, 16\]; "
        r"the data is \[1, 8, 8\]",
    ):
        prepare([str(small), str(mlp_ae)], f"folder:{folder}", progress=False)


def test_served_in_this_process_twice_and_shown_in_a_notebook(folder, vae_ref):
    for _ in range(2):  # Streamlit keeps one runtime per process: a rerun works
        served = explorer.explore(vae_ref, data=f"folder:{folder}", progress=False)
        try:
            with urllib.request.urlopen(f"{served.url}/_stcore/health") as r:
                assert r.read() == b"ok"
            assert f'<iframe src="{served.url}"' in served._repr_html_()
            with pytest.raises(RuntimeError, match="already serves"):
                explorer.explore(vae_ref, data=f"folder:{folder}", progress=False)
        finally:
            served.stop()
        assert not served.running and explore_session.current() is None


def test_the_page_shows_exactly_the_sessions_models(folder, vae_ref, mlp_ae):
    session = prepare([vae_ref, str(mlp_ae)], f"folder:{folder}", progress=False)
    explore_session._current = session
    try:
        at = AppTest.from_file(str(SCRIPT), default_timeout=120).run()
        assert not errors(at)
        assert at.sidebar.selectbox(key="dataset").options == ["folder squares"]
        boxes = [b for b in at.sidebar.selectbox if b.label.endswith("model")]
        assert [b.value for b in boxes] == [m.key for m in session.models]
        assert [b.label for b in boxes] == ["Left model", "Right model"]
        assert {plain(h.value) for h in at.subheader} >= {"conv_vae", "squares-ae-z2"}
        # One model: one map, and a note on how to add a second.
        explore_session._current = prepare(
            [vae_ref], f"folder:{folder}", progress=False
        )
        at = AppTest.from_file(str(SCRIPT), default_timeout=120).run()
        assert not errors(at)
        labels = [b.label for b in at.sidebar.selectbox]
        assert labels[:3] == ["Language · 语言", "Dataset", "Model"]
        assert any("One model given" in i.value for i in at.info)
    finally:
        explore_session._current = None


def test_cli_errors_are_one_line(tmp_path, folder, vae_ref, capsys):
    missing = tmp_path / "nope.py"
    assert (
        main(["explore", "--data", f"folder:{folder}", "--model", f"{missing}:f"]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope.py" in err and "Traceback" not in err
    none = f"folder:{tmp_path / 'none'}"
    code = main(["explore", "--data", none, "--model", vae_ref])
    assert code == 2 and "no such folder" in capsys.readouterr().err
    three = ["--model", "a"] * 3
    assert main(["explore", "--data", "mnist", *three]) == 2
    assert "one or two models" in capsys.readouterr().err


def test_what_explore_returns_and_raises_is_exported_lazily():
    assert explorer.Served is Served and explorer.StoreError is StoreError
    assert {"Served", "StoreError", "explore"} <= set(explorer.__all__)
    assert {"Served", "StoreError"} <= set(dir(explorer))
    lazy = (
        "import sys, explorer; "
        "print(sorted(m for m in ('explorer.api', 'explorer.data.store', 'torch') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", lazy], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


PLAIN_AE = """
import torch
from torch import nn


class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 3))
        self.dec = nn.Sequential(
            nn.Linear(3, 3 * 16 * 16), nn.Sigmoid(), nn.Unflatten(1, (3, 16, 16))
        )

    def encode(self, x):
        return self.enc(x)

    def decode(self, z):
        return self.dec(z)


def plain_ae():
    torch.manual_seed(0)
    return AE()
"""


def _red_square_on_white() -> bytes:
    import io

    from PIL import Image

    im = Image.new("RGB", (40, 30), (255, 255, 255))
    im.paste((220, 20, 20), (10, 5, 30, 25))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.slow
def test_every_tab_with_colour_models_it_did_not_train(tmp_path):
    from explorer.app.tabs import names as tab_names
    from tests.helpers import images, shows_content_or_reason, tab_elements

    folder = image_folder(tmp_path / "colour", 30, classes=3, channels=3, side=16)
    (tmp_path / "plain.py").write_text(PLAIN_AE)
    refs = [f"{tmp_path / 'plain.py'}:plain_ae", user_conv_vae(tmp_path, channels=3)]
    explore_session._current = prepare(refs, f"folder:{folder}", progress=False)
    try:
        # Not the default page of tests/app's shared walk (other models and
        # data, an upload): its own walk, each tab opened once, and every
        # check below reads those runs.
        runs = {}
        for tab in tab_names():
            at = AppTest.from_file(str(SCRIPT), default_timeout=180)
            at.session_state["tab"] = tab
            at.session_state["live"] = False
            at.session_state["uploaded"] = {
                "name": "red.png",
                "data": _red_square_on_white(),
            }
            runs[tab] = at = at.run()
            assert not errors(at), tab
            assert shows_content_or_reason(at, tab), (tab, tab_elements(at, tab))
            shown = images(at, tab)
            # Colour data is shown in colour.
            assert all(px.ndim == 3 and px.shape[2] == 3 for _, px in shown), tab
        # The maps' decoded points: colour, about 140 px (16 px at 9x).
        decoded = [px for c, px in images(runs["Metrics"]) if c == "decoded at ×"]
        assert [px.shape for px in decoded] == [(144, 144, 3)] * 2
        # The conditional view says why it is empty, naming the models.
        at = runs["Conditional"]
        (info,) = [t for k, t in tab_elements(at, "Conditional") if k == "info"]
        assert "plain_ae, conv_vae take no class label" in plain(info)
        # The upload kept its colours: red in the middle, white at the edge.
        at = runs["Your image"]
        seen = [px for cap, px in images(at, "Your image") if "see it" in cap][0]
        mid, edge = seen[seen.shape[0] // 2, seen.shape[1] // 2], seen[0, 0]
        assert mid[0] > 180 and mid[1] < 60 and tuple(edge) == (255, 255, 255)
        at = runs["Metrics"]
        metrics_text = " ".join(t for _, t in tab_elements(at, "Metrics"))
        assert "was not trained by the explorer" in plain(metrics_text)
    finally:
        explore_session._current = None


def test_a_diffusers_vae_on_the_page_reports_its_latents(tmp_path):
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    diffusers.AutoencoderKL(
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        layers_per_block=1,
        latent_channels=2,
        norm_num_groups=4,
        sample_size=16,
        scaling_factor=0.5,
    ).save_pretrained(tmp_path / "kl")
    x = torch.rand(24, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    explore_session._current = prepare([tmp_path / "kl"], x, progress=False)
    try:
        at = AppTest.from_file(str(SCRIPT), default_timeout=180)
        at.session_state["live"] = True  # asked for; cannot: the server decodes
        at.run()
        assert not errors(at)
        captions = " ".join(plain(c.value) for c in at.caption)
        assert "Spatial latent 2 × 8 × 8, flattened to 128-D" in captions
        assert "scaling_factor 0.5" in captions
        assert "cannot run in the browser" in captions
    finally:
        explore_session._current = None


def test_the_selection_is_shared_with_the_python_that_started_the_page(
    folder, vae_ref, mlp_ae
):
    """``.selection`` reads the page's newest lasso and sets the page's."""
    import threading

    session = prepare([vae_ref, str(mlp_ae)], f"folder:{folder}", progress=False)
    assert session.n_images == 40
    served = explore_session.Served("http://x", None, threading.Thread(), 40)
    explore_session._current = session
    try:
        served.selection = [7, 3, 3]  # set from Python: sorted, unique
        assert served.selection.tolist() == [3, 7]
        at = AppTest.from_file(str(SCRIPT), default_timeout=120).run()
        assert not errors(at)
        assert at.session_state.selection.tolist() == [3, 7]
        assert "Selection: 2 images" in [plain(h.value) for h in at.subheader]
        # a selection made in the page is what Python reads
        at.button(key="clear_selection").click().run()
        assert served.selection.tolist() == []
        for bad in ([40], [-1], [0.5]):
            with pytest.raises(ValueError):
                served.selection = bad
    finally:
        explore_session._current = None
        explore_session.shared_selection().put([])
