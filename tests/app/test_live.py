"""``explorer.app.components.live``: what the page hands the in-browser
decoder (through the view's data)."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.app import catalogue
from explorer.app.components.latent_map import component_dir
from explorer.model.export import decode as reference_decode
from tests.helpers import APP, view_data

DS = "fashion-mnist"


def live_args(at: AppTest) -> list[dict]:
    """Each map of the view that decodes in the browser, left then right."""
    (data,) = view_data(at)
    return [m for m in data["maps"] if m["decoder_url"]]


def test_the_browser_gets_the_decoder_file_and_the_sliders_of_the_cursor():
    at = AppTest.from_file(APP, default_timeout=120)
    state = {"live": True, "sel": 7, f"ckpt_left_{DS}": f"{DS}-ae-z16"}
    state[f"ckpt_right_{DS}"] = f"{DS}-cvae-z2"
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception
    left, right = live_args(at)
    ds = catalogue.get_dataset(DS, ("test",))
    for args, name in ((left, f"{DS}-ae-z16"), (right, f"{DS}-cvae-z2")):
        sp = catalogue.get_space(str(catalogue.weights_dir() / name), DS, ("test",))
        z = np.asarray(args["cursor"])
        np.testing.assert_allclose(z, sp.z[7])  # the selected image's code
        basis = args["basis"]
        np.testing.assert_allclose(basis["ranges"], sp.basis.ranges)
        np.testing.assert_allclose(basis["components"], sp.basis.components)
        np.testing.assert_allclose(basis["mean"], sp.basis.mean)
        assert basis["labels"] == list(sp.basis.labels)
        proj = args["projection"]  # a click's inverse PCA
        np.testing.assert_allclose(proj["components"], sp.projection.components)
        np.testing.assert_allclose(proj["mean"], sp.projection.mean)
        # the files the browser fetches: every mean, and a decoder that
        # decodes z as the server does
        name = args["means_url"].rsplit("/", 1)[-1]
        means = np.frombuffer((component_dir() / name).read_bytes(), "<f4")
        np.testing.assert_array_equal(means.reshape(sp.z.shape), sp.z.astype("<f4"))
        name = args["decoder_url"].rsplit("/", 1)[-1]
        data = (component_dir() / name).read_bytes()
        label = int(ds.labels[7]) if sp.conditional else None
        assert args["label"] == (label if sp.conditional else 0)
        server = sp.decode(z[None], None if label is None else np.array([label]))
        browser = reference_decode(data, z, label)
        assert np.abs(browser.astype(int) - server[0].astype(int)).max() <= 1
    assert left["basis"]["labels"][0].startswith("PC1 (")  # a 16-D AE: PCA sliders


def test_with_live_decoding_off_there_is_no_live_decoder():
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["live"] = False
    at.run()
    (data,) = view_data(at)
    # every map is still there, decoded by the server (a PNG in the data)
    assert live_args(at) == [] and len(data["maps"]) == 2
    assert all(m["image"].startswith("data:image/png;base64,") for m in data["maps"])


def test_the_default_pairs_decoders_go_in_half_precision_within_a_grey_level():
    """Per model: the view's decoder holds float16 layers only where its
    decodes of the check's points (a grid over the map and codes of the data)
    stay within one grey level of the model's float32 decodes, recomputed
    here with PyTorch."""
    import torch

    from explorer import load_dataset, load_model
    from explorer.app.components.live import check_points
    from explorer.latent.space import encode_space
    from explorer.model.export import GREY, export_decoder, half_layers, read_decoder

    ds = load_dataset(DS, "test")
    chosen = {}
    for name in (f"{DS}-ae-z2", f"{DS}-vae-z2"):
        model = load_model(name)
        sp = encode_space(name, model, ds)
        z, labels = check_points(sp)
        assert len(z) == 64 * 64 + 2048 and labels is None
        half = half_layers(model, z, labels)
        _, layers = read_decoder(export_decoder(model, half))
        h = z.astype(np.float64)
        for i, (w, b) in enumerate(layers):
            h = h @ w.T.astype(np.float64) + b
            h = np.maximum(h, 0) if i < len(layers) - 1 else h
        with torch.no_grad():
            exact = model.decode(torch.from_numpy(z)).reshape(len(z), -1).numpy()
        assert np.abs(1 / (1 + np.exp(-h)) - exact).max() < GREY, name
        chosen[name] = half
    # the AE's every layer; the VAE's first (2 x 256) would be 1.3 grey levels off
    assert chosen == {
        f"{DS}-ae-z2": [True, True, True, True],
        f"{DS}-vae-z2": [False, True, True, True],
    }
