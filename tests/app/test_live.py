"""``explorer.app.components.live``: what the page hands the in-browser decoder."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.app import catalogue
from explorer.app.components.latent_map import component_dir
from explorer.model.export import decode as reference_decode
from tests.helpers import APP, component_args

DS = "fashion-mnist"


def live_args(at: AppTest) -> list[dict]:
    """The arguments of each live decoder on the page, left then right."""
    return component_args(at, "live_decoder")


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
        z = np.asarray(args["z0"])
        np.testing.assert_allclose(z, sp.z[7])  # the selected image's code
        np.testing.assert_allclose(args["s0"], sp.basis.coordinates(z))
        np.testing.assert_allclose(args["ranges"], sp.basis.ranges)
        np.testing.assert_allclose(args["components"], sp.basis.components)
        assert args["labels"] == list(sp.basis.labels)
        assert args["step"] == [(hi - lo) / 200 for lo, hi in sp.basis.ranges]
        # the file the browser fetches decodes z as the server does
        data = (component_dir("live_decoder") / args["decoder_file"]).read_bytes()
        label = int(ds.labels[7]) if sp.conditional else None
        onehot = np.zeros(10)
        if label is not None:
            onehot[label] = 1
        assert args["onehot"] == (onehot.tolist() if sp.conditional else [])
        server = sp.decode(z[None], None if label is None else np.array([label]))
        browser = reference_decode(data, z, label)
        assert np.abs(browser.astype(int) - server[0].astype(int)).max() <= 1
    assert left["labels"][0].startswith("PC1 (")  # a 16-D AE: PCA sliders


def test_with_live_decoding_off_there_is_no_live_decoder():
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["live"] = False
    at.run()
    assert live_args(at) == [] and at.slider(key="s_left_0")
