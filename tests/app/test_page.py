"""The page, run headless with AppTest: widget flows and broken states."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import load_dataset, load_model
from explorer.app.panel import SCALE
from explorer.latent.space import encode_space
from explorer.model.autoencoder import build_model
from explorer.model.checkpoint import REPO_WEIGHTS, save_checkpoint
from explorer.model.config import ModelConfig
from tests.helpers import (
    APP,
    errors,
    image,
    images,
    plain,
    release_slider,
    send_view_event,
    slider_labels,
    slider_range,
    view_data,
)

ONES = np.ones((SCALE, SCALE), np.uint8)  # a pixel as the page enlarges it
DATASETS = sorted({p.name.split("-ae-")[0] for p in REPO_WEIGHTS.glob("*-ae-z2")})


def run_app(**state) -> AppTest:
    """Runs the page; the server-side sliders unless ``live=True`` is given."""
    at = AppTest.from_file(APP, default_timeout=180)
    state.setdefault("live", False)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


@pytest.fixture
def weights(tmp_path, monkeypatch):
    """A weights folder with links to the shipped fashion-mnist z2 checkpoints."""
    for name in ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2"):
        (tmp_path / name).symlink_to(REPO_WEIGHTS / name, target_is_directory=True)
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("dataset", DATASETS)
def test_page_runs_for_each_dataset(dataset):
    at = run_app(dataset=dataset)
    assert not errors(at)
    assert at.selectbox(key="dataset").value == dataset
    assert at.selectbox(key=f"ckpt_left_{dataset}").value == f"{dataset}-ae-z2"
    assert at.selectbox(key=f"ckpt_right_{dataset}").value == f"{dataset}-vae-z2"
    # the held-out split each dataset's checkpoints were evaluated on
    ds = load_dataset(dataset, {"fashion-mnist": "test", "mnist": "train5k"}[dataset])
    shown = images(at)
    captions = [c for c, _ in shown]
    for caption in (
        "decoded at ×",
        "original",
        f"{dataset}-ae-z2 reconstruction",
        f"{dataset}-vae-z2 reconstruction",
    ):
        assert caption in captions, caption
    assert captions.count("decoded at ×") == 2
    # the original, as served, is image 0 of the held-out split, 5x enlarged
    assert np.array_equal(image(at, "original"), np.kron(ds.images[0][0], ONES))
    assert plain(at.subheader[0].value) == f"{dataset}-ae-z2"


def test_slider_changes_the_decoded_image(weights):
    at = run_app()
    before, right = image(at, "decoded at", 0), image(at, "decoded at", 1)
    _, hi = slider_range(at, "left", 0)
    at = release_slider(at, "left", 0, hi * 0.9)
    assert not errors(at)
    assert not np.array_equal(image(at, "decoded at", 0), before)
    assert np.array_equal(image(at, "decoded at", 1), right)
    assert at.session_state["cursor"]["left"][0] == pytest.approx(hi * 0.9)


def test_larger_latent_sliders_pca_for_ae_and_by_kl_for_vae():
    dataset = DATASETS[0]
    at = run_app(
        dataset=dataset,
        **{
            f"ckpt_left_{dataset}": f"{dataset}-ae-z16",
            f"ckpt_right_{dataset}": f"{dataset}-vae-z16",
        },
    )
    assert not errors(at)
    left = slider_labels(at, "left")
    assert len(left) == 4 and left[0].startswith("PC1 (")
    labels = slider_labels(at, "right")
    kl = [float(lab.split("KL ")[1].split(")")[0].split(",")[0]) for lab in labels]
    assert len(labels) == 8 and kl == sorted(kl, reverse=True)
    before = image(at, "decoded at", 1)
    at = release_slider(at, "right", 1, slider_range(at, "right", 1)[0])
    assert not np.array_equal(image(at, "decoded at", 1), before)


def _expected(path: Path, index: int) -> np.ndarray:
    """The server's decode of an image's code, as the page shows it."""
    model = load_model(path)
    space = encode_space(path.name, model, load_dataset("fashion-mnist", "test"))
    return np.kron(space.decode(space.z[index][None])[0][0], ONES)


def test_interpolation_endpoints_decode_a_and_b(weights):
    at = run_app(
        interp_a=3, interp_b=42, interp_method="spherical", tab="Interpolation"
    )
    slots = {"left": "fashion-mnist-ae-z2", "right": "fashion-mnist-vae-z2"}
    for t, index in ((0.0, 3), (1.0, 42)):
        at = at.slider(key="interp_t").set_value(t).run()
        assert not errors(at)
        for slot, name in slots.items():
            shown = image(at, f"{name} at t = {t:.2f}")
            assert np.array_equal(shown, _expected(weights / name, index)), (t, slot)
    at = at.slider(key="interp_t").set_value(0.5).run()
    assert not np.array_equal(
        image(at, "fashion-mnist-ae-z2 at t = 0.50"),
        _expected(weights / "fashion-mnist-ae-z2", 42),
    )


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_endpoint_buttons_take_the_selection(weights):
    at = run_app(sel=123)
    assert at.subheader[2].value.startswith("Selected image #123")
    at.session_state["tab"] = "Interpolation"
    at = button(at.run(), "B ← selected").click().run()
    assert at.session_state["interp_b"] == 123
    at = button(at, "A ← selected").click().run()
    assert at.session_state["interp_a"] == 123


def test_broken_checkpoint_shows_an_error_and_the_rest_works(weights):
    broken = weights / "fashion-mnist-vae-z16"
    shutil.copytree(REPO_WEIGHTS / "fashion-mnist-vae-z16", broken)
    data = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(data[: len(data) // 2])
    at = run_app(**{"ckpt_right_fashion-mnist": "fashion-mnist-vae-z16"})
    assert not at.exception
    [error] = [plain(e.value) for e in at.error]
    # names the checkpoint and its file, never the server's folders
    assert error.startswith("fashion-mnist-vae-z16/model.safetensors: not a valid")
    assert str(weights) not in error and str(Path.home()) not in error
    captions = [c for c, _ in images(at)]
    assert captions.count("decoded at ×") == 1  # the left model still works
    assert "fashion-mnist-vae-z16 reconstruction" not in captions


def test_unreadable_config_is_listed_as_broken(weights):
    bad = weights / "fashion-mnist-mystery"
    bad.mkdir()
    (bad / "config.json").write_text("{oops")
    at = run_app()
    assert not errors(at)
    assert (
        "fashion-mnist-mystery (broken)"
        in at.selectbox(key="ckpt_left_fashion-mnist").options
    )
    at = (
        at.selectbox(key="ckpt_left_fashion-mnist")
        .set_value("fashion-mnist-mystery")
        .run()
    )
    assert not at.exception
    assert "invalid config" in at.error[0].value
    assert [c for c, _ in images(at)].count("decoded at ×") == 1


def test_checkpoint_whose_dataset_is_unavailable(weights):
    other = weights / "moons-vae-z2"
    shutil.copytree(REPO_WEIGHTS / "fashion-mnist-vae-z2", other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["dataset"] = "moons"
    (other / "config.json").write_text(json.dumps(cfg))
    (other / "training.json").unlink(missing_ok=True)
    at = run_app(dataset="moons")
    assert not at.exception and not at.error
    assert at.selectbox(key="dataset").options == ["fashion-mnist"]
    assert at.selectbox(key="dataset").value == "fashion-mnist"
    [warning] = at.sidebar.warning
    assert plain(warning.value).startswith(
        "**moons** (moons-vae-z2) was trained on a folder"
    )
    [command] = [c.value for c in at.sidebar.code]
    assert command == (
        f"python -m explorer encode {other} --dataset "
        "'folder:<the folder of images moons was trained on>' --name moons"
    )


def test_no_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(tmp_path))
    at = run_app()
    assert not at.exception
    assert "No readable checkpoints" in at.sidebar.error[0].value
    assert "Add a checkpoint folder" in at.info[0].value


def test_session_state_is_not_shared_and_cache_is_not_mutated(weights):
    """Two sessions of one process share its caches (models, spaces, points):
    what one does must not reach the other."""
    a, b = run_app(tab="Interpolation"), run_app()
    top = slider_range(a, "left", 0)[1]
    a = release_slider(a, "left", 0, top)
    a.session_state["sel"] = 5
    a = button(a.run(), "B ← selected").click().run()  # a's own edits
    b = b.run()  # the other session, after a changed what it could
    assert (b.session_state["sel"], b.session_state["interp_b"]) == (0, b_default())
    np.testing.assert_allclose(b.session_state["cursor"]["left"], space_z(weights, 0))
    assert (a.session_state["sel"], a.session_state["interp_b"]) == (5, 5)
    assert a.session_state["cursor"]["left"][0] == pytest.approx(top)
    from explorer.app import catalogue

    space = catalogue.get_space(
        str(weights / "fashion-mnist-vae-z2"), "fashion-mnist", ("test",)
    )
    assert not space.z.flags.writeable and not space.coords.flags.writeable
    z0 = np.array(space.z[0])
    release_slider(a, "right", 0, 0.0)
    np.testing.assert_array_equal(space.z[0], z0)


def space_z(weights, index: int) -> np.ndarray:
    from explorer.app import catalogue

    path = str(weights / "fashion-mnist-ae-z2")
    return catalogue.get_space(path, "fashion-mnist", ("test",)).z[index]


def b_default() -> int:
    from explorer.app import catalogue
    from explorer.app.state import default_b

    return default_b(catalogue.get_dataset("fashion-mnist", ("test",)))


def test_training_images_can_be_added_when_on_this_machine(
    weights, shared_data, monkeypatch
):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(shared_data))
    at = run_app(**{"with_train_fashion-mnist": True})
    assert not errors(at)
    assert at.slider(key="n_fashion-mnist_70000").value == 70000
    assert "60,000 training images" in at.sidebar.caption[0].value


def test_training_toggle_is_disabled_when_the_split_is_missing(weights):
    at = run_app()
    toggle = at.toggle(key="with_train_fashion-mnist")
    assert toggle.disabled and toggle.value is False


def test_live_mode_decodes_in_the_browser_and_offers_the_server_decode(weights):
    at = run_app(live=True)
    assert not errors(at)
    # A session's first view comes with the server's decodes (drawn before the
    # decoders arrive) and a token for the browser's beacon; after that the
    # view decodes both in the browser: it gets decoders, not images.
    (first_view,) = view_data(at)
    assert first_view["drawn_token"]
    assert all(m["image"].startswith("data:image/png") for m in first_view["maps"])
    at = at.run()
    (data,) = view_data(at)
    assert "drawn_token" not in data
    assert all(m["decoder_url"] and m["image"] is None for m in data["maps"])
    assert not [s for s in at.slider if s.key and s.key.startswith("s_left_")]
    downloads = [b for b in at.get("download_button") if "decoded" in b.label]
    assert len(downloads) == 2
    assert at.toggle(key="live").value is True


@pytest.fixture
def store(weights, tmp_path, monkeypatch):
    """A store of the bundled Fashion-MNIST test split, encoded by both models,
    drawn as a large map (threshold lowered to 3,000 points, 1,000 drawn)."""
    from explorer.app.components import density
    from explorer.data.store import pack
    from explorer.latent.encoded import encode

    monkeypatch.setenv("EXPLORER_SPACES_DIR", str(tmp_path / "spaces"))
    monkeypatch.setattr(density, "LARGE_MAP", 3_000)
    monkeypatch.setattr(density, "DRAW_LIMIT", 1_000)
    folder = pack(
        load_dataset("fashion-mnist", "test"), tmp_path / "spaces" / "s", "fm"
    )
    for name in ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2"):
        encode(load_model(weights / name), weights / name, folder, progress=False)
    return folder


def _large_caption(at: AppTest, nth: int) -> str:
    return [c.value for c in at.caption if "too many to draw" in c.value][nth]


def test_a_store_is_a_dataset_drawn_as_a_large_map(store):
    at = run_app()
    assert "fm" in at.selectbox(key="dataset").options
    at = at.selectbox(key="dataset").set_value("fm").run()
    assert not errors(at)
    assert at.selectbox(key="ckpt_left_fm").value == "fashion-mnist-ae-z2"
    # The view says what it draws under each map (its note), from this data.
    [data] = view_data(at)
    right = data["maps"][1]["points"]
    assert right["n"] == 1000 and right["density"]["in_window"] == 10_000
    assert right["density"]["order"] and right["density"]["coords"]
    # The codes are the store's.
    sel = at.session_state["sel"]
    mean = np.load(store / "fashion-mnist-vae-z2" / "mean.npy")
    assert at.session_state["cursor"]["right"] == pytest.approx(mean[sel].tolist())
    # A window (as a pan or zoom reports it) is drawn by the browser from
    # every point it fetched: the page's points stay those of the full view.
    window = ((-1.0, 0.0), (-1.0, 0.0))
    at.session_state["view_right"] = window
    at = at.run()
    [after] = view_data(at)
    assert after["maps"][1]["points"] == right
    # Colour by a measure: the store's per-image loss, no encoding needed.
    at = at.selectbox(key="colour").set_value("loss").run()
    assert not errors(at)
    [coloured] = view_data(at)
    assert coloured["maps"][1]["points"]["density"]["values"]


def _served(url: str) -> np.ndarray:
    """The bytes of a file the view's data names, as the app serves them."""
    from explorer.app.components.latent_map import component_dir

    folder, name = url.split("/")[-2:]
    return np.frombuffer((component_dir(folder) / name).read_bytes(), np.uint8)


def test_the_conditional_map_of_a_store_is_drawn_by_its_view(weights, store):
    """The Conditional tab's map of a large store: its view gets the points
    file and every shown point, so each pan or zoom's window is drawn in the
    browser (as on the main maps); Python keeps no window for it."""
    from explorer.latent.encoded import encode

    (weights / "fashion-mnist-cvae-z2").symlink_to(
        REPO_WEIGHTS / "fashion-mnist-cvae-z2", target_is_directory=True
    )
    cvae = weights / "fashion-mnist-cvae-z2"
    encode(load_model(cvae), cvae, store, progress=False)
    at = run_app(dataset="fm", tab="Conditional")
    assert not errors(at)
    _, data = view_data(at)  # the page's view, then the tab's
    [m] = data["maps"]
    assert m["slot"] == "cvae" and m["lasso"] is False
    pts = m["points"]
    assert pts["n"] == 1000 and pts["density"]["in_window"] == 10_000
    # the files it reads are served: the drawn points, and every shown
    # point's order and coordinates (the store's codes) for its windows
    assert _served(pts["url"]).nbytes == 9 * 1000
    coords = _served(pts["density"]["coords"]).view("<f4").reshape(-1, 2)
    order = _served(pts["density"]["order"]).view("<i4")
    assert len(coords) == 10_000 and sorted(order.tolist()) == list(range(10_000))
    assert m["projection"] is not None  # (linear: a click is inverted there too)
    # a pan or zoom on it: echoed, and nothing kept (the browser drew it)
    at = send_view_event(
        at,
        {"kind": "view", "slot": "cvae", "x": [0.0, 1.0], "y": [0.0, 1.0]},
        "cvae_view",
    )
    assert not errors(at)
    _, after = view_data(at)
    assert after["echo"] == at.session_state["cvae_echo"] > 0
    assert after["maps"][0]["points"] == pts
    assert "view_cvae" not in at.session_state


def test_a_conv_model_falls_back_to_server_sliders_with_a_reason(weights):
    torch.manual_seed(0)
    cfg = ModelConfig(
        model_type="vae",
        latent_dim=2,
        image_shape=(1, 28, 28),
        hidden=(16,),
        arch="conv",
        channels=(4, 8),
        dataset="fashion-mnist",
        class_names=load_dataset("fashion-mnist", "test").class_names,
    )
    save_checkpoint(build_model(cfg), weights / "fashion-mnist-conv-vae-z2")
    at = run_app(live=True, **{"ckpt_right_fashion-mnist": "fashion-mnist-conv-vae-z2"})
    assert not errors(at)
    # the MLP on the left decodes in the browser, the conv net on the right cannot
    (data,) = view_data(at)
    assert [bool(m["decoder_url"]) for m in data["maps"]] == [True, False]
    reason = [c.value for c in at.caption if "cannot run in the browser" in c.value]
    assert len(reason) == 1
    assert slider_labels(at, "right") == ["z[0]", "z[1]"]
    before = image(at, "decoded at ×", 1)  # the server's decode, in the data
    at = release_slider(at, "right", 0, slider_range(at, "right", 0)[1])
    assert not errors(at)
    assert not np.array_equal(image(at, "decoded at ×", 1), before)
